/**
 * The public surface of the server module: the `raftkv serve` entry point and what the CLI and
 * tests need to start members. Other modules import only from here.
 */
export { ConfigError, formatNodeConfigHelp, RAFTKV_VERSION, runServe } from './main.js';
