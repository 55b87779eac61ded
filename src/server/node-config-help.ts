/**
 * The text of `raftkv serve --help`: every option of the table with its flag, environment
 * variable, default and range, grouped, followed by the value and address-template syntax. It
 * must not hold option facts of its own: everything per option comes from the table.
 */
import { OPTION_GROUPS, type OptionSpec } from './node-config-option-spec.js';
import { NODE_CONFIG_OPTION_LIST } from './node-config-options.js';

const INTRODUCTION = [
  'Usage: raftkv serve [OPTIONS]',
  '',
  'Runs one raftkv member. Every option is a flag and an environment variable: a flag wins over',
  'its variable, a variable over the default; a variable set to the empty string counts as unset.',
  'Write --flag=value or --flag value; a boolean flag alone means true (--flag=false turns it off).',
];

const VALUE_SYNTAX = [
  'Values:',
  '  <int>       a decimal integer within the range shown.',
  '  <ms>        milliseconds, or a number with a unit: 250ms, 1.5s, 2m, 1h.',
  '  <bytes>     bytes, or a number with a unit: 512KiB, 1.5MiB, 2GiB (Ki, Mi, Gi also);',
  '              KB, MB, GB (and k, M, G) are powers of 1000. Units are case-insensitive.',
  '  booleans    true or false (also 1/0, yes/no, on/off).',
];

const TEMPLATE_SYNTAX = [
  'Member identity:',
  '  The host name must be NAME-K, as in a StatefulSet pod: K is the ordinal and NAME the',
  '  StatefulSet. Ordinals 0..size-1 found a new cluster; ordinal j gets bootstrap member id j+1.',
  '  Without templates, member j is reached at',
  '  NAME-j.<peer-service>.<namespace>.svc.<cluster-domain> on the peer and client ports.',
  '',
  'Address templates (local runs; give both or neither):',
  '  host:port text with placeholders in braces, rendered for every member j:',
  '    {ordinal}                 j',
  '    {name}                    NAME-j',
  '    {statefulset}             NAME',
  "    {peerPort} {clientPort}   this node's --peer-port and --client-port",
  '    {23800+ordinal}           + and * over integers, ordinal, peerPort and clientPort',
  '  A template must use {ordinal} or {name}; an IPv6 host goes in brackets ([::1]:{2380+ordinal}).',
  '  On a loopback host the rendered port of this node must equal its own --peer-port',
  '  (or --client-port). Example for node K of three on one machine:',
  '    --hostname raftkv-K --peer-port $((23800+K)) --client-port $((23790+K))',
  '    --http-port $((23810+K)) --initial-cluster-size 3',
  "    --peer-address-template '127.0.0.1:{23800+ordinal}'",
  "    --client-address-template '127.0.0.1:{23790+ordinal}'",
];

/** The help `raftkv serve --help` prints: every option, its variable, default and range. */
export function formatNodeConfigHelp(): string {
  const sections = OPTION_GROUPS.map((group) => [
    `${group}:`,
    ...NODE_CONFIG_OPTION_LIST.filter((spec) => spec.group === group).flatMap(formatOption),
  ]);
  return [INTRODUCTION, ...sections, VALUE_SYNTAX, TEMPLATE_SYNTAX]
    .map((lines) => lines.join('\n'))
    .join('\n\n');
}

/** Two lines: flag, variable, default and range; then the description. */
function formatOption(spec: OptionSpec<unknown>): string[] {
  const flag = spec.valueName === '' ? `--${spec.flag}` : `--${spec.flag} ${spec.valueName}`;
  const range = spec.range === '' ? '' : `, ${spec.range}`;
  return [
    `  ${flag}  (env ${spec.env}, default: ${spec.default.text}${range})`,
    `      ${spec.description}`,
  ];
}
