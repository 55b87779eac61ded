/**
 * The operator's command line: every option is a flag and a `RAFTKV_OPERATOR_*` environment
 * variable (a flag wins), with a default, a range and a line of help. Parsing is pure: argv and
 * env in, options or a usage error out.
 */
import { RaftkvError } from '../common/index.js';

export type PlatformKind = 'kubernetes' | 'local';

export interface OperatorOptions {
  readonly platform: PlatformKind;
  /** Namespace to watch; undefined with --all-namespaces. */
  readonly namespace: string | undefined;
  readonly isAllNamespaces: boolean;
  readonly isLeaderElection: boolean;
  readonly leaseName: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly resyncPeriodSeconds: number;
  readonly unhealthyAfterSeconds: number;
  readonly httpHost: string;
  /** 0 turns the HTTP server off. */
  readonly httpPort: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'json' | 'pretty';
  /** Local platform: the cluster directory. */
  readonly dataDir: string;
  readonly clientPortBase: number;
  readonly peerPortBase: number;
  readonly httpPortBase: number;
  readonly portStride: number;
  /** Local platform: extra `raftkv serve` flags for every member. */
  readonly nodeArguments: readonly string[];
  /** The Grafana dashboard JSON the operator puts in the dashboard ConfigMap. */
  readonly dashboardFile: string | undefined;
}

export class OperatorUsageError extends RaftkvError {
  override readonly name = 'OperatorUsageError';
  readonly code = 'OPERATOR_USAGE';
  constructor(message: string) {
    super(message, 'Run raftkv-operator --help for the flags and their ranges.');
  }
}

type Kind = 'string' | 'int' | 'boolean' | 'list' | readonly string[];

interface OptionSpec {
  readonly flag: string;
  readonly key: keyof OperatorOptions;
  readonly kind: Kind;
  readonly defaultValue: string | number | boolean | readonly string[] | undefined;
  readonly min?: number;
  readonly max?: number;
  readonly help: string;
}

const SPECS: readonly OptionSpec[] = [
  {
    flag: 'platform',
    key: 'platform',
    kind: ['kubernetes', 'local'],
    defaultValue: 'kubernetes',
    help: 'kubernetes: the API server (in-cluster or $KUBECONFIG); local: processes on this machine',
  },
  {
    flag: 'namespace',
    key: 'namespace',
    kind: 'string',
    defaultValue: undefined,
    help: "namespace to watch (default: $POD_NAMESPACE, else the service account's)",
  },
  {
    flag: 'all-namespaces',
    key: 'isAllNamespaces',
    kind: 'boolean',
    defaultValue: false,
    help: 'watch RaftClusters in every namespace (needs a ClusterRole)',
  },
  {
    flag: 'leader-election',
    key: 'isLeaderElection',
    kind: 'boolean',
    defaultValue: true,
    help: 'run only while holding the Lease (several replicas stay on standby)',
  },
  {
    flag: 'lease-name',
    key: 'leaseName',
    kind: 'string',
    defaultValue: 'raftkv-operator',
    help: 'name of the coordination.k8s.io Lease',
  },
  {
    flag: 'lease-duration-seconds',
    key: 'leaseDurationSeconds',
    kind: 'int',
    defaultValue: 15,
    min: 2,
    max: 3600,
    help: 'how long a silent leader keeps the Lease',
  },
  {
    flag: 'renew-deadline-seconds',
    key: 'renewDeadlineSeconds',
    kind: 'int',
    defaultValue: 10,
    min: 1,
    max: 3600,
    help: 'a leader unable to renew for this long exits',
  },
  {
    flag: 'retry-period-seconds',
    key: 'retryPeriodSeconds',
    kind: 'int',
    defaultValue: 2,
    min: 1,
    max: 600,
    help: 'time between Lease attempts',
  },
  {
    flag: 'resync-period-seconds',
    key: 'resyncPeriodSeconds',
    kind: 'int',
    defaultValue: 30,
    min: 1,
    max: 86_400,
    help: 'every cluster is reconciled at least this often',
  },
  {
    flag: 'unhealthy-after-seconds',
    key: 'unhealthyAfterSeconds',
    kind: 'int',
    defaultValue: 600,
    min: 10,
    max: 86_400,
    help: 'a member silent this long is replaced (removed, its storage reset, added anew)',
  },
  {
    flag: 'http-host',
    key: 'httpHost',
    kind: 'string',
    defaultValue: '0.0.0.0',
    help: 'address of /healthz, /readyz and /metrics',
  },
  {
    flag: 'http-port',
    key: 'httpPort',
    kind: 'int',
    defaultValue: 8081,
    min: 0,
    max: 65_535,
    help: 'port of /healthz, /readyz and /metrics (0: no HTTP server)',
  },
  {
    flag: 'log-level',
    key: 'logLevel',
    kind: ['debug', 'info', 'warn', 'error'],
    defaultValue: 'info',
    help: 'least severe log level written',
  },
  {
    flag: 'log-format',
    key: 'logFormat',
    kind: ['json', 'pretty'],
    defaultValue: 'json',
    help: 'json lines, or coloured text for a terminal',
  },
  {
    flag: 'data-dir',
    key: 'dataDir',
    kind: 'string',
    defaultValue: './raftkv-local',
    help: 'local platform: the cluster directory (raftcluster.json, members, logs)',
  },
  {
    flag: 'client-port-base',
    key: 'clientPortBase',
    kind: 'int',
    defaultValue: 2379,
    min: 1,
    max: 65_535,
    help: 'local platform: client port of member 0 (member K: base + stride*K)',
  },
  {
    flag: 'peer-port-base',
    key: 'peerPortBase',
    kind: 'int',
    defaultValue: 2380,
    min: 1,
    max: 65_535,
    help: 'local platform: peer port of member 0',
  },
  {
    flag: 'http-port-base',
    key: 'httpPortBase',
    kind: 'int',
    defaultValue: 2381,
    min: 1,
    max: 65_535,
    help: 'local platform: HTTP port of member 0',
  },
  {
    flag: 'port-stride',
    key: 'portStride',
    kind: 'int',
    defaultValue: 10_000,
    min: 3,
    max: 20_000,
    help: 'local platform: port distance between members',
  },
  {
    flag: 'node-arg',
    key: 'nodeArguments',
    kind: 'list',
    defaultValue: [],
    help: 'local platform: an extra `raftkv serve` flag for every member (repeatable)',
  },
  {
    flag: 'dashboard-file',
    key: 'dashboardFile',
    kind: 'string',
    defaultValue: undefined,
    help: 'Grafana dashboard JSON (default: deploy/grafana/raftkv.json of this install)',
  },
];

function envName(flag: string): string {
  return `RAFTKV_OPERATOR_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Parses argv (after the command words) and the environment. */
export function parseOperatorOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): OperatorOptions {
  const raw = new Map<string, string[]>();
  for (let position = 0; position < argv.length; position++) {
    const argument = argv[position] ?? '';
    if (!argument.startsWith('--')) throw new OperatorUsageError(`unexpected argument ${argument}`);
    const [flag = '', inline] = argument.slice(2).split(/=(.*)/s, 2);
    const spec = SPECS.find((candidate) => candidate.flag === flag);
    if (spec === undefined) throw new OperatorUsageError(`unknown flag --${flag}`);
    let value = inline;
    if (value === undefined) {
      const next = argv[position + 1];
      if (spec.kind === 'boolean' && (next === undefined || next.startsWith('--'))) value = 'true';
      else if (next === undefined) throw new OperatorUsageError(`--${flag} needs a value`);
      else value = argv[++position];
    }
    raw.set(flag, [...(raw.get(flag) ?? []), value ?? '']);
  }
  const options: Record<string, unknown> = {};
  for (const spec of SPECS) {
    const fromEnv = env[envName(spec.flag)];
    const given = raw.get(spec.flag) ?? (fromEnv === undefined || fromEnv === '' ? [] : [fromEnv]);
    options[spec.key] = given.length === 0 ? spec.defaultValue : convert(spec, given);
  }
  const parsed = options as unknown as OperatorOptions;
  if (
    parsed.platform === 'kubernetes' &&
    !parsed.isAllNamespaces &&
    parsed.namespace === undefined
  ) {
    return { ...parsed, namespace: env.POD_NAMESPACE };
  }
  return parsed;
}

function convert(spec: OptionSpec, values: readonly string[]): unknown {
  const value = values.at(-1) ?? '';
  const kind = spec.kind;
  if (kind === 'list') return values;
  if (kind === 'string') return value;
  if (kind === 'boolean') {
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new OperatorUsageError(`--${spec.flag} must be true or false, not ${value}`);
  }
  if (kind === 'int') {
    const number = Number(value);
    const min = spec.min ?? 0;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new OperatorUsageError(`--${spec.flag} must be an integer from ${min} to ${max}`);
    }
    return number;
  }
  if (!kind.includes(value)) {
    throw new OperatorUsageError(`--${spec.flag} must be one of ${kind.join(', ')}, not ${value}`);
  }
  return value;
}

/** `raftkv-operator --help`. */
export function operatorHelp(): string {
  const lines = [
    'Usage: raftkv-operator [FLAGS]   (in the image: node dist/operator/main.js)',
    '',
    'Reconciles RaftCluster resources (raftkv.io/v1alpha1): creates the StatefulSet, Services,',
    'PodDisruptionBudget and, when asked, ServiceMonitor and dashboard ConfigMap, and changes the',
    'Raft membership one safe step at a time. Every flag has an environment variable.',
    '',
  ];
  for (const spec of SPECS) {
    const kind = Array.isArray(spec.kind) ? spec.kind.join('|') : `<${String(spec.kind)}>`;
    const shown =
      spec.defaultValue === undefined
        ? ''
        : `, default: ${Array.isArray(spec.defaultValue) ? 'none' : String(spec.defaultValue)}`;
    lines.push(
      `  --${spec.flag} ${kind}  (env ${envName(spec.flag)}${shown})`,
      `      ${spec.help}`,
    );
  }
  return lines.join('\n');
}
