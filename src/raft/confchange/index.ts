/**
 * The confchange sub-module's public surface: entering and leaving joint configurations and the
 * configuration invariants. Pure functions; nothing here tracks progress or touches the log.
 */
export {
  checkConfigurationInvariants,
  type ConfigurationChangeError,
  describeConfiguration,
  enterJoint,
  leaveJoint,
} from './configuration-changer.js';
