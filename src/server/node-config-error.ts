/**
 * The one error of node configuration and identity: a flag, an environment variable or a
 * combination of them that the node cannot start with. It owns the wording rule that every such
 * message names both spellings of the option (`--client-port` and `RAFTKV_CLIENT_PORT`), since the
 * operator may have set either. It must not decide what is valid: the option table does.
 */
import { RaftkvError } from '../common/index.js';

/** Why the configuration was refused. */
export type ConfigErrorCode =
  /** A flag that no option has. */
  | 'CONFIG_UNKNOWN_FLAG'
  /** A word on the command line that is not a flag or a flag's value. */
  | 'CONFIG_UNEXPECTED_ARGUMENT'
  /** A value that does not parse, is out of bounds, or is missing after its flag. */
  | 'CONFIG_INVALID_VALUE'
  /** Values that are valid alone but not together (or a flag given twice). */
  | 'CONFIG_CONFLICT'
  /** The node cannot tell who it is (host name, address templates). */
  | 'CONFIG_INVALID_IDENTITY';

const REMEDIES: Readonly<Record<ConfigErrorCode, string>> = {
  CONFIG_UNKNOWN_FLAG: "Check the spelling; 'raftkv serve --help' lists every option.",
  CONFIG_UNEXPECTED_ARGUMENT:
    "'raftkv serve' takes only options; write boolean flags as --flag or --flag=false.",
  CONFIG_INVALID_VALUE:
    "Fix the flag or the environment variable named in the message; 'raftkv serve --help' says what each expects.",
  CONFIG_CONFLICT: 'Change one of the options named in the message so that they agree.',
  CONFIG_INVALID_IDENTITY:
    'In Kubernetes, run the node in a StatefulSet pod (host name NAME-K); for a local run, pass --hostname NAME-K and both address templates.',
};

/** A configuration the node refuses to start with. The message names flags and variables. */
export class ConfigError extends RaftkvError {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;

  constructor(code: ConfigErrorCode, message: string) {
    super(message, REMEDIES[code]);
    this.code = code;
  }
}
