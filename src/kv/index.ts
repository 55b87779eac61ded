/**
 * The public surface of the replicated state machine. Other modules import only from here.
 */
export { KvError, type KvErrorCode } from './kv-error.js';
export { compareKeys } from './key-range.js';
export type * from './kv-types.js';
export {
  KvStateMachine,
  type KvStateMachineOptions,
  TXN_OPS_MAX_DEFAULT,
} from './kv-state-machine.js';
export {
  COMMAND_FORMAT_VERSION,
  decodeCommand,
  encodeCommand,
  TXN_NESTING_DEPTH_MAX,
} from './command-codec.js';
export { SNAPSHOT_FORMAT_VERSION } from './kv-snapshot.js';
export { CLIENTS_MAX_DEFAULT, type SessionKey } from './session-table.js';
export {
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from './request-validation.js';
