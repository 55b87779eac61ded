export { assert, assertNever, AssertionError } from './assert.js';
export { RaftkvError } from './errors.js';
export { type LogFields, type Logger, SILENT_LOGGER } from './logger.js';
export { NO_NODE, type LogIndex, type NodeId, type Term } from './ids.js';
