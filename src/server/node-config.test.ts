import { hostname } from 'node:os';

import { describe, expect, it } from 'vitest';

import { envOf } from './node-config-option-spec.js';
import { NODE_CONFIG_OPTION_LIST, NODE_CONFIG_OPTIONS } from './node-config-options.js';
import { formatByteSize, parseByteSize, parseDurationMs } from './node-config-values.js';
import {
  ConfigError,
  type ConfigErrorCode,
  formatNodeConfigHelp,
  parseNodeConfig,
  unknownNodeConfigEnvVariables,
} from './node-config.js';

const HOST = ['--hostname', 'raftkv-0'];

/** Parses with a fixed host name (so defaults do not depend on the machine) and no environment. */
function parse(argv: readonly string[], env: Record<string, string> = {}) {
  return parseNodeConfig([...HOST, ...argv], env);
}

/** The ConfigError `run` throws. */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function expectError(run: () => unknown, code: ConfigErrorCode, ...fragments: string[]): void {
  const error = configError(run);
  expect(error.code).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  expect(error.remedy.length).toBeGreaterThan(0);
}

describe('parseNodeConfig defaults', () => {
  it('gives etcd-like defaults, derived from the host name where they depend on it', () => {
    expect(parse([])).toEqual({
      dataDir: './raftkv-data/raftkv-0',
      name: 'raftkv-0',
      hostname: 'raftkv-0',
      listenHost: '0.0.0.0',
      clientPort: 2379,
      peerPort: 2380,
      httpPort: 2381,
      peerService: null,
      namespace: 'default',
      clusterDomain: 'cluster.local',
      peerAddressTemplate: null,
      clientAddressTemplate: null,
      initialClusterSize: 3,
      initialClusterToken: 'raftkv',
      initialClusterState: 'new',
      tickIntervalMs: 100,
      electionTimeoutTicks: 10,
      heartbeatIntervalTicks: 1,
      requestTimeoutMs: 5000,
      shutdownTimeoutMs: 10_000,
      requestBytesMax: 1_572_864,
      txnOpsMax: 128,
      keyBytesMax: 32 * 1024,
      valueBytesMax: 1_572_864,
      clientsMax: 10_000,
      pendingProposalsMax: 4096,
      snapshotEntriesThreshold: 10_000,
      snapshotBytesThreshold: 256 * 1024 * 1024,
      snapshotsRetained: 2,
      walSegmentBytes: 64 * 1024 * 1024,
      logLevel: 'info',
      logFormat: 'json',
      isProcessMetricsEnabled: true,
    });
  });

  it("defaults the host name to the machine's", () => {
    const machine = hostname();
    const config = (() => {
      try {
        return parseNodeConfig([], {});
      } catch (error) {
        // A machine whose host name is not a valid DNS name gets a ConfigError naming --hostname.
        expect((error as Error).message).toContain('--hostname');
        return undefined;
      }
    })();
    if (config !== undefined) expect(config.hostname).toBe(machine);
  });

  it('derives the name from the host name and the data directory from the name', () => {
    expect(parse(['--name', 'alpha'])).toMatchObject({
      name: 'alpha',
      dataDir: './raftkv-data/alpha',
    });
    expect(parse(['--data-dir', '/var/lib/raftkv'])).toMatchObject({
      name: 'raftkv-0',
      dataDir: '/var/lib/raftkv',
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(parse([]))).toBe(true);
  });
});

describe('parseNodeConfig precedence and syntax', () => {
  it('takes a flag over its variable and a variable over the default', () => {
    expect(parse([], { RAFTKV_CLIENT_PORT: '3000' }).clientPort).toBe(3000);
    expect(parse(['--client-port', '4000'], { RAFTKV_CLIENT_PORT: '3000' }).clientPort).toBe(4000);
    expect(parse([], { RAFTKV_HOSTNAME: 'other-1' }).hostname).toBe('raftkv-0');
    expect(parseNodeConfig([], { RAFTKV_HOSTNAME: 'other-1' }).name).toBe('other-1');
  });

  it('treats an empty variable as unset', () => {
    expect(parse([], { RAFTKV_CLIENT_PORT: '' }).clientPort).toBe(2379);
  });

  it('reads every option from its variable', () => {
    for (const spec of NODE_CONFIG_OPTION_LIST) expect(spec.env).toBe(envOf(spec.flag));
    const config = parse([], {
      RAFTKV_NAMESPACE: 'kv',
      RAFTKV_TXN_OPS_MAX: '64',
      RAFTKV_LOG_FORMAT: 'pretty',
    });
    expect(config).toMatchObject({ namespace: 'kv', txnOpsMax: 64, logFormat: 'pretty' });
  });

  it('accepts --flag=value and --flag value alike', () => {
    expect(parse(['--peer-port=3380'])).toEqual(parse(['--peer-port', '3380']));
    expect(parse(['--data-dir=/a=b']).dataDir).toBe('/a=b');
  });

  it('refuses a flag given twice', () => {
    expectError(
      () => parse(['--peer-port=1', '--peer-port=2']),
      'CONFIG_CONFLICT',
      '--peer-port',
      'RAFTKV_PEER_PORT',
      'more than once',
    );
  });

  it('refuses unknown flags, suggesting the nearest one with its variable', () => {
    expectError(
      () => parse(['--clien-port', '1']),
      'CONFIG_UNKNOWN_FLAG',
      'unknown flag --clien-port',
      'did you mean --client-port (env RAFTKV_CLIENT_PORT)?',
    );
    const error = configError(() => parse(['--completely-different']));
    expect(error.message).toBe('unknown flag --completely-different');
    expectError(() => parse(['-h']), 'CONFIG_UNKNOWN_FLAG', 'unknown flag -h');
  });

  it('refuses positional arguments', () => {
    expectError(() => parse(['serve']), 'CONFIG_UNEXPECTED_ARGUMENT', "'serve'");
    expectError(() => parse(['--']), 'CONFIG_UNEXPECTED_ARGUMENT', "'--'");
  });

  it('says when a flag lacks its value', () => {
    expectError(
      () => parse(['--client-port']),
      'CONFIG_INVALID_VALUE',
      '--client-port (env RAFTKV_CLIENT_PORT) needs a value: expected an integer from 1 to 65535',
    );
    expectError(
      () => parse(['--data-dir', '--name', 'x']),
      'CONFIG_INVALID_VALUE',
      '--data-dir (env RAFTKV_DATA_DIR) needs a value',
    );
  });

  it('names the flag, its variable and what is expected for every option', () => {
    for (const spec of NODE_CONFIG_OPTION_LIST) {
      // Every value type refuses the empty text.
      const env = { RAFTKV_HOSTNAME: 'raftkv-0' };
      const error = configError(() => parseNodeConfig([`--${spec.flag}=`], env));
      expect(error.code).toBe('CONFIG_INVALID_VALUE');
      expect(error.message).toContain(`--${spec.flag}=`);
      expect(error.message).toContain(spec.env);
      expect(error.message).toContain('expected ');
    }
  });

  it('names the variable first when the bad value came from it', () => {
    expectError(
      () => parse([], { RAFTKV_LOG_LEVEL: 'loud' }),
      'CONFIG_INVALID_VALUE',
      'invalid RAFTKV_LOG_LEVEL=loud (flag --log-level): expected one of debug, info, warn, error',
    );
  });
});

describe('parseNodeConfig value types', () => {
  it('parses integers within their bounds', () => {
    expect(parse(['--client-port=1']).clientPort).toBe(1);
    expect(parse(['--client-port=65535']).clientPort).toBe(65_535);
    for (const bad of ['0', '65536', '-1', '1e3', '12abc', '1.0', ' 80', '99999999999999999999']) {
      expectError(
        () => parse([`--client-port=${bad}`]),
        'CONFIG_INVALID_VALUE',
        `--client-port=${bad} (env RAFTKV_CLIENT_PORT): expected an integer from 1 to 65535`,
      );
    }
  });

  it('parses durations in milliseconds, with or without a unit', () => {
    expect(parse(['--request-timeout-ms=250']).requestTimeoutMs).toBe(250);
    expect(parse(['--request-timeout-ms=250ms']).requestTimeoutMs).toBe(250);
    expect(parse(['--request-timeout-ms=1.5s']).requestTimeoutMs).toBe(1500);
    expect(parse(['--request-timeout-ms=2m']).requestTimeoutMs).toBe(120_000);
    expect(parse(['--shutdown-timeout-ms=0']).shutdownTimeoutMs).toBe(0);
    expectError(
      () => parse(['--tick-interval-ms=1h']),
      'CONFIG_INVALID_VALUE',
      '--tick-interval-ms=1h (env RAFTKV_TICK_INTERVAL_MS): expected a duration from 1ms to 10000ms',
    );
    for (const bad of ['0.5ms', '5 sec', 's', '-5', '0']) {
      expectError(() => parse([`--tick-interval-ms=${bad}`]), 'CONFIG_INVALID_VALUE', 'duration');
    }
    expect(parseDurationMs('1h', 0, Number.MAX_SAFE_INTEGER)).toEqual({ value: 3_600_000 });
  });

  it('parses byte sizes with binary and decimal suffixes', () => {
    const bytes = (text: string) => parse([`--request-bytes-max=${text}`]).requestBytesMax;
    expect(bytes('1048576')).toBe(1_048_576);
    expect(bytes('1.5MiB')).toBe(1_572_864);
    expect(bytes('512KiB')).toBe(524_288);
    expect(bytes('512ki')).toBe(524_288);
    expect(bytes('2mb')).toBe(2_000_000);
    expect(bytes('2 MB')).toBe(2_000_000);
    expect(bytes('32MiB')).toBe(32 * 1024 * 1024);
    expect(parse(['--snapshot-bytes-threshold=64MiB']).snapshotBytesThreshold).toBe(64 * 2 ** 20);
    expect(parse(['--snapshot-bytes-threshold=1.5GiB']).snapshotBytesThreshold).toBe(1.5 * 2 ** 30);
    for (const bad of ['1.1KiB', '33MiB', '1023', '1.5', '10XB', 'MiB', '-1KiB', '1e6']) {
      expectError(
        () => parse([`--request-bytes-max=${bad}`]),
        'CONFIG_INVALID_VALUE',
        `--request-bytes-max=${bad} (env RAFTKV_REQUEST_BYTES_MAX): expected a byte size from 1KiB to 32MiB`,
      );
    }
  });

  it('parses byte sizes exactly and prints them back', () => {
    const wide = (text: string) => parseByteSize(text, 0, Number.MAX_SAFE_INTEGER);
    expect(wide('3TiB')).toEqual({ value: 3 * 2 ** 40 });
    expect(wide('1.25kB')).toEqual({ value: 1250 });
    expect(wide('0.1KiB')).toEqual({ problem: expect.any(String) });
    expect(wide('99999999TiB')).toEqual({ problem: expect.any(String) });
    expect(formatByteSize(1_572_864)).toBe('1.5MiB');
    expect(formatByteSize(256 * 2 ** 20)).toBe('256MiB');
    expect(formatByteSize(1000)).toBe('1000B');
    expect(formatByteSize(1)).toBe('1B');
    for (const size of [1, 1000, 1024, 1_572_864, 3 * 2 ** 40]) {
      expect(wide(formatByteSize(size))).toEqual({ value: size });
    }
  });

  it('parses booleans: a bare flag is true, =false turns it off', () => {
    expect(parse(['--process-metrics']).isProcessMetricsEnabled).toBe(true);
    expect(parse(['--process-metrics=false']).isProcessMetricsEnabled).toBe(false);
    expect(parse([], { RAFTKV_PROCESS_METRICS: 'no' }).isProcessMetricsEnabled).toBe(false);
    expect(parse([], { RAFTKV_PROCESS_METRICS: 'TRUE' }).isProcessMetricsEnabled).toBe(true);
    expectError(
      () => parse([], { RAFTKV_PROCESS_METRICS: 'maybe' }),
      'CONFIG_INVALID_VALUE',
      'RAFTKV_PROCESS_METRICS=maybe (flag --process-metrics): expected true or false',
    );
    expectError(
      () => parse(['--process-metrics', 'false']),
      'CONFIG_UNEXPECTED_ARGUMENT',
      '--process-metrics=false',
    );
  });

  it('parses enums and lists the choices when refusing', () => {
    expect(parse(['--initial-cluster-state', 'existing']).initialClusterState).toBe('existing');
    expect(parse(['--log-level=debug']).logLevel).toBe('debug');
    expectError(
      () => parse(['--log-format=xml']),
      'CONFIG_INVALID_VALUE',
      '--log-format=xml (env RAFTKV_LOG_FORMAT): expected one of json, pretty',
    );
  });

  it('checks names against DNS rules', () => {
    expect(parse(['--namespace=kv-prod']).namespace).toBe('kv-prod');
    expect(parse(['--cluster-domain=example.internal']).clusterDomain).toBe('example.internal');
    expect(parse(['--peer-service=kv-peers']).peerService).toBe('kv-peers');
    expectError(() => parse(['--namespace=Prod']), 'CONFIG_INVALID_VALUE', 'RAFTKV_NAMESPACE');
    expectError(
      () => parse(['--cluster-domain=cluster.local.']),
      'CONFIG_INVALID_VALUE',
      '--cluster-domain',
    );
    expectError(() => parse(['--peer-service=1peers']), 'CONFIG_INVALID_VALUE', 'Service name');
    expectError(() => parse(['--name=a/b']), 'CONFIG_INVALID_VALUE', 'RAFTKV_NAME');
    expectError(
      () => parseNodeConfig(['--hostname=bad_host'], {}),
      'CONFIG_INVALID_VALUE',
      '--hostname=bad_host (env RAFTKV_HOSTNAME)',
    );
    expectError(() => parse(['--listen-host=a b']), 'CONFIG_INVALID_VALUE', '--listen-host');
  });

  it('parses address templates when given', () => {
    const config = parse([
      '--peer-address-template=127.0.0.1:{23800+ordinal}',
      '--client-address-template',
      '127.0.0.1:{23790+ordinal}',
    ]);
    expect(String(config.peerAddressTemplate)).toBe('127.0.0.1:{23800+ordinal}');
    expect(JSON.stringify(config.clientAddressTemplate)).toBe('"127.0.0.1:{23790+ordinal}"');
    expectError(
      () => parse(['--peer-address-template={ordnal}:1']),
      'CONFIG_INVALID_VALUE',
      '--peer-address-template={ordnal}:1 (env RAFTKV_PEER_ADDRESS_TEMPLATE)',
      "unknown placeholder 'ordnal'",
    );
  });
});

describe('parseNodeConfig checks across options', () => {
  it('wants the heartbeat shorter than the election timeout', () => {
    expectError(
      () => parse(['--heartbeat-interval-ticks=10']),
      'CONFIG_CONFLICT',
      '--heartbeat-interval-ticks (env RAFTKV_HEARTBEAT_INTERVAL_TICKS) is 10 but must be less than ' +
        '--election-timeout-ticks (env RAFTKV_ELECTION_TIMEOUT_TICKS), which is 10',
    );
    expect(parse(['--heartbeat-interval-ticks=9']).heartbeatIntervalTicks).toBe(9);
  });

  it('wants keys and values no larger than a request', () => {
    expectError(
      () => parse(['--request-bytes-max=1MiB', '--value-bytes-max=2MiB']),
      'CONFIG_CONFLICT',
      '--value-bytes-max (env RAFTKV_VALUE_BYTES_MAX) is 2097152 but must be at most',
      'RAFTKV_REQUEST_BYTES_MAX',
    );
    expectError(
      () => parse(['--key-bytes-max=2MiB']),
      'CONFIG_CONFLICT',
      '--key-bytes-max (env RAFTKV_KEY_BYTES_MAX) is 2097152 but must be at most',
    );
  });

  it('lowers the key and value limits with the request limit unless they are set', () => {
    expect(parse(['--request-bytes-max=16KiB'])).toMatchObject({
      requestBytesMax: 16_384,
      keyBytesMax: 16_384,
      valueBytesMax: 16_384,
    });
    expect(parse(['--request-bytes-max=4MiB'])).toMatchObject({
      keyBytesMax: 32_768,
      valueBytesMax: 4 * 2 ** 20,
    });
    expect(parse(['--request-bytes-max=4MiB', '--value-bytes-max=1MiB']).valueBytesMax).toBe(
      2 ** 20,
    );
  });

  it('wants three different ports', () => {
    expectError(
      () => parse(['--http-port=2380']),
      'CONFIG_CONFLICT',
      '--peer-port (env RAFTKV_PEER_PORT) is 2380 but must differ from --http-port (env RAFTKV_HTTP_PORT)',
    );
  });

  it('wants both address templates or neither', () => {
    expectError(
      () => parse(['--client-address-template=127.0.0.1:{23790+ordinal}']),
      'CONFIG_CONFLICT',
      '--client-address-template (env RAFTKV_CLIENT_ADDRESS_TEMPLATE) is set but ' +
        '--peer-address-template (env RAFTKV_PEER_ADDRESS_TEMPLATE) is not',
    );
  });
});

describe('formatNodeConfigHelp', () => {
  const help = formatNodeConfigHelp();

  it('documents every option with its variable, default and description', () => {
    for (const spec of NODE_CONFIG_OPTION_LIST) {
      const line = help.split('\n').find((text) => text.startsWith(`  --${spec.flag} `));
      expect(line, spec.flag).toBeDefined();
      expect(line).toContain(`env ${spec.env}`);
      expect(line).toContain(`default: ${spec.default.text}`);
      expect(line).toContain(spec.range);
      expect(help).toContain(spec.description);
    }
  });

  it('shows defaults in the units a person writes', () => {
    expect(help).toContain(
      '--request-bytes-max <bytes>  (env RAFTKV_REQUEST_BYTES_MAX, default: 1.5MiB',
    );
    expect(help).toContain(
      '--data-dir <path>  (env RAFTKV_DATA_DIR, default: ./raftkv-data/{name})',
    );
    expect(help).toContain('--log-format json|pretty');
  });

  it('explains value and template syntax', () => {
    for (const fragment of ['1.5MiB', 'powers of 1000', '{ordinal}', '{name}', '{23800+ordinal}']) {
      expect(help).toContain(fragment);
    }
  });

  it('covers every field of the configuration', () => {
    expect(Object.keys(NODE_CONFIG_OPTIONS).sort()).toEqual(Object.keys(parse([])).sort());
  });
});

describe('unknownNodeConfigEnvVariables', () => {
  it('lists RAFTKV_ variables that name no option', () => {
    expect(
      unknownNodeConfigEnvVariables({
        RAFTKV_DATADIR: '/x',
        RAFTKV_DATA_DIR: '/y',
        HOME: '/home',
        RAFTKV_CLIENTPORT: '1',
      }),
    ).toEqual(['RAFTKV_CLIENTPORT', 'RAFTKV_DATADIR']);
  });
});
