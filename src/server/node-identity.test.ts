import { describe, expect, it } from 'vitest';

import { AssertionError } from '../common/index.js';
import { ConfigError, type ConfigErrorCode, parseNodeConfig } from './node-config.js';
import { AddressTemplate } from './node-identity-address-template.js';
import { clusterIdOf, deriveNodeIdentity, type NodeIdentity } from './node-identity.js';

/** Identity of a node started with `argv`. */
function identityOf(...argv: string[]): NodeIdentity {
  return deriveNodeIdentity(parseNodeConfig(argv, {}));
}

/**
 * A local-run identity: templates on loopback, ports matching ordinal K; `overrides` replace
 * those flags (a flag may be given only once).
 */
function localIdentityOf(ordinal: number, overrides: Record<string, string> = {}): NodeIdentity {
  const flags: Record<string, string> = {
    hostname: `raftkv-${ordinal}`,
    'peer-port': String(23800 + ordinal),
    'client-port': String(23790 + ordinal),
    'http-port': String(23810 + ordinal),
    'peer-address-template': '127.0.0.1:{23800+ordinal}',
    'client-address-template': '127.0.0.1:{23790+ordinal}',
    ...overrides,
  };
  return identityOf(...Object.entries(flags).map(([flag, value]) => `--${flag}=${value}`));
}

function expectError(run: () => unknown, code: ConfigErrorCode, ...fragments: string[]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error.code).toBe(code);
  for (const fragment of fragments) expect(error.message).toContain(fragment);
}

/** The problem AddressTemplate.parse reports for `source`. */
function templateProblem(source: string): string {
  const parsed = AddressTemplate.parse(source);
  if ('value' in parsed) throw new Error(`expected '${source}' to be refused`);
  return parsed.problem;
}

describe('deriveNodeIdentity in Kubernetes', () => {
  it('reads the ordinal and StatefulSet name from NAME-K', () => {
    const identity = identityOf('--hostname=raftkv-2');
    expect(identity).toMatchObject({
      ordinal: 2,
      statefulSetName: 'raftkv',
      nodeName: 'raftkv-2',
      bootstrapMemberId: 3,
      isFoundingMember: true,
      addressing: 'kubernetes',
      peerAddress: 'raftkv-2.raftkv-peers.default.svc.cluster.local:2380',
      peerUrl: 'http://raftkv-2.raftkv-peers.default.svc.cluster.local:2380',
      clientAddress: 'raftkv-2.raftkv-peers.default.svc.cluster.local:2379',
      clientUrl: 'http://raftkv-2.raftkv-peers.default.svc.cluster.local:2379',
    });
    expect(Object.isFrozen(identity)).toBe(true);
  });

  it('handles dashes in the StatefulSet name, FQDN host names and large ordinals', () => {
    expect(identityOf('--hostname=my-kv-store-12')).toMatchObject({
      ordinal: 12,
      statefulSetName: 'my-kv-store',
      isFoundingMember: false,
    });
    expect(identityOf('--hostname=raftkv-1.raftkv-peers.default.svc.cluster.local')).toMatchObject({
      ordinal: 1,
      statefulSetName: 'raftkv',
    });
  });

  it('names every member from the Service, namespace and domain', () => {
    const identity = identityOf(
      '--hostname=kv-0',
      '--peer-service=kv-headless',
      '--namespace=storage',
      '--cluster-domain=example.internal',
      '--peer-port=7000',
      '--client-port=7001',
      '--name=custom',
    );
    expect(identity.peerAddressOf(4)).toBe('kv-4.kv-headless.storage.svc.example.internal:7000');
    expect(identity.clientAddressOf(4)).toBe('kv-4.kv-headless.storage.svc.example.internal:7001');
    expect(identity.memberNameOf(4)).toBe('kv-4');
    expect(identity.nodeName).toBe('custom');
  });

  it('lists the initial voters deterministically, ids from 1', () => {
    const fromZero = identityOf('--hostname=raftkv-0', '--initial-cluster-size=5');
    const fromFour = identityOf('--hostname=raftkv-4', '--initial-cluster-size=5');
    expect(fromZero.bootstrapMembers).toEqual(fromFour.bootstrapMembers);
    expect(fromZero.bootstrapMembers.map((member) => member.id)).toEqual([1, 2, 3, 4, 5]);
    expect(fromZero.bootstrapMembers[3]).toEqual({
      ordinal: 3,
      id: 4,
      name: 'raftkv-3',
      peerAddress: 'raftkv-3.raftkv-peers.default.svc.cluster.local:2380',
      clientAddress: 'raftkv-3.raftkv-peers.default.svc.cluster.local:2379',
      peerUrl: 'http://raftkv-3.raftkv-peers.default.svc.cluster.local:2380',
      clientUrl: 'http://raftkv-3.raftkv-peers.default.svc.cluster.local:2379',
    });
    expect(fromZero.bootstrapMemberIdOf(7)).toBe(8);
    expect(identityOf('--hostname=raftkv-5', '--initial-cluster-size=5').isFoundingMember).toBe(
      false,
    );
  });

  it('refuses a host name without an ordinal, saying what to do', () => {
    for (const hostname of ['laptop', 'raftkv-01', 'raftkv-x', 'raftkv-0a', 'raftkv-1234567890']) {
      expectError(
        () => identityOf(`--hostname=${hostname}`),
        'CONFIG_INVALID_IDENTITY',
        `host name '${hostname}'`,
        '--hostname (env RAFTKV_HOSTNAME)',
        'does not end in -K',
        'for a local run pass --hostname NAME-K',
      );
    }
    expectError(
      () =>
        identityOf(
          '--hostname=laptop',
          '--peer-address-template=127.0.0.1:{23800+ordinal}',
          '--client-address-template=127.0.0.1:{23790+ordinal}',
        ),
      'CONFIG_INVALID_IDENTITY',
      'with address templates, pass --hostname NAME-K',
    );
  });

  it('refuses names that cannot form pod DNS names', () => {
    expectError(
      () => identityOf('--hostname=RaftKV-0'),
      'CONFIG_INVALID_IDENTITY',
      "StatefulSet name 'RaftKV'",
      'RAFTKV_HOSTNAME',
    );
    expectError(
      () => identityOf('--hostname=9kv-0'),
      'CONFIG_INVALID_VALUE',
      "the default of --peer-service (env RAFTKV_PEER_SERVICE), '9kv-peers'",
    );
    expect(identityOf('--hostname=9kv-0', '--peer-service=kv').peerAddress).toBe(
      '9kv-0.kv.default.svc.cluster.local:2380',
    );
  });

  it('asserts on a bad ordinal argument (a programmer error)', () => {
    const identity = identityOf('--hostname=raftkv-0');
    expect(() => identity.peerAddressOf(-1)).toThrow(AssertionError);
    expect(() => identity.clientAddressOf(1.5)).toThrow(AssertionError);
    expect(() => identity.bootstrapMemberIdOf(Number.NaN)).toThrow(AssertionError);
  });
});

describe('deriveNodeIdentity with address templates', () => {
  it('renders every member from the templates', () => {
    const identity = localIdentityOf(1);
    expect(identity).toMatchObject({
      ordinal: 1,
      addressing: 'template',
      bootstrapMemberId: 2,
      peerAddress: '127.0.0.1:23801',
      peerUrl: 'http://127.0.0.1:23801',
      clientAddress: '127.0.0.1:23791',
      clientUrl: 'http://127.0.0.1:23791',
    });
    expect(identity.bootstrapMembers.map((member) => member.peerUrl)).toEqual([
      'http://127.0.0.1:23800',
      'http://127.0.0.1:23801',
      'http://127.0.0.1:23802',
    ]);
    expect(identity.clientAddressOf(7)).toBe('127.0.0.1:23797');
  });

  it('accepts host names that are not DNS labels', () => {
    expect(localIdentityOf(0, { hostname: 'RaftKV-0' }).statefulSetName).toBe('RaftKV');
  });

  it('supports names, port variables, products and IPv6', () => {
    const named = identityOf(
      '--hostname=kv-2',
      '--peer-address-template={name}:{peerPort}',
      '--client-address-template={statefulset}-{ordinal}.test:{clientPort}',
    );
    expect(named.peerAddressOf(0)).toBe('kv-0:2380');
    expect(named.clientAddressOf(5)).toBe('kv-5.test:2379');

    const product = identityOf(
      '--hostname=kv-3',
      '--peer-address-template=10.0.0.1:{20000 + 10 * ordinal}',
      '--client-address-template=10.0.0.1:{20001+10*ordinal}',
    );
    expect(product.peerAddress).toBe('10.0.0.1:20030');
    expect(product.clientAddress).toBe('10.0.0.1:20031');

    const ipv6 = localIdentityOf(2, {
      'peer-address-template': '[::1]:{23800+ordinal}',
      'client-address-template': '[fd00::{ordinal}]:2379',
    });
    expect(ipv6.peerUrl).toBe('http://[::1]:23802');
    expect(ipv6.clientAddressOf(4)).toBe('[fd00::4]:2379');
  });

  it("requires a loopback address's port to be the node's own listening port", () => {
    expectError(
      () =>
        identityOf(
          '--hostname=raftkv-1',
          '--peer-address-template=127.0.0.1:{23800+ordinal}',
          '--client-address-template=127.0.0.1:{23790+ordinal}',
        ),
      'CONFIG_CONFLICT',
      '--peer-address-template (env RAFTKV_PEER_ADDRESS_TEMPLATE) gives this node the loopback address 127.0.0.1:23801',
      '--peer-port (env RAFTKV_PEER_PORT) is 2380',
      'pass --peer-port=23801',
    );
    expectError(
      () =>
        localIdentityOf(1, {
          'client-port': '2379',
          'client-address-template': 'localhost:{2390+ordinal}',
        }),
      'CONFIG_CONFLICT',
      'pass --client-port=2391',
    );
  });

  it('refuses a port the template renders out of range', () => {
    const templates = [
      '--peer-address-template=10.1.1.1:{65535+ordinal}',
      '--client-address-template=10.1.1.1:{1000+ordinal}',
    ];
    const alone = identityOf('--hostname=raftkv-0', '--initial-cluster-size=1', ...templates);
    expect(alone.peerAddress).toBe('10.1.1.1:65535');
    expectError(
      () => alone.peerAddressOf(1),
      'CONFIG_INVALID_VALUE',
      "--peer-address-template (env RAFTKV_PEER_ADDRESS_TEMPLATE) '10.1.1.1:{65535+ordinal}' gives ordinal 1 the port 65536",
    );
    // The initial voters are rendered up front, so a bad one stops the node at start.
    expectError(
      () => identityOf('--hostname=raftkv-0', ...templates),
      'CONFIG_INVALID_VALUE',
      '65536',
    );
    expectError(
      () =>
        identityOf(
          '--hostname=raftkv-0',
          '--peer-address-template=10.1.1.1:{ordinal}',
          '--client-address-template=10.1.1.1:{1+ordinal}',
        ),
      'CONFIG_INVALID_VALUE',
      'the port 0',
    );
  });
});

describe('AddressTemplate syntax', () => {
  it('keeps its source for printing and logs', () => {
    const parsed = AddressTemplate.parse('127.0.0.1:{23800+ordinal}');
    expect('value' in parsed && parsed.value.toString()).toBe('127.0.0.1:{23800+ordinal}');
  });

  it('renders with the given variables', () => {
    const parsed = AddressTemplate.parse('{name}.{statefulset}:{peerPort+clientPort*ordinal}');
    if (!('value' in parsed)) throw new Error(parsed.problem);
    const variables = { ordinal: 2, name: 'kv-2', statefulset: 'kv', peerPort: 10, clientPort: 3 };
    expect(parsed.value.render(variables)).toEqual({ host: 'kv-2.kv', port: 16 });
  });

  it.each([
    ['', 'a host:port template'],
    ['127.0.0.1:{23800+ordinal', "'{' at offset 10 is never closed"],
    ['127.0.0.1:23800+ordinal}', "'}' at offset 23 closes nothing"],
    ['{name:{ordinal}}', "is not closed before the next '{'"],
    ['127.0.0.1:{}', "'{}' is empty"],
    [
      '127.0.0.1:{ordnal}',
      "unknown placeholder 'ordnal' in {ordnal} (known: ordinal, peerPort, clientPort, name, statefulset)",
    ],
    ['{name+1}:2380', '{name} is text and cannot take part in arithmetic'],
    ['127.0.0.1:{1++ordinal}', 'is not an expression'],
    ['127.0.0.1:{2-ordinal}', "unknown placeholder '2-ordinal'"],
    ['127.0.0.1:2380', 'uses neither {ordinal} nor {name}'],
    ['{name}', "it has no ':' before the port"],
    [':{2380+ordinal}', "it has no host before the ':'"],
    ['{name}:', "it has no port after the last ':'"],
    ['{name}:{statefulset}', 'may hold only digits and numeric placeholders'],
    ['{name}:23a0', 'may hold only digits and numeric placeholders'],
    ['::1:{2380+ordinal}', 'an IPv6 host must be written in brackets'],
    ['http://{name}:2380', 'no scheme, path or spaces'],
    ['{name} :2380', 'no scheme, path or spaces'],
    ['{name}:{99999999999999999999}', 'is too large'],
  ])('refuses %j', (source, fragment) => {
    expect(templateProblem(source)).toContain(fragment);
  });
});

describe('clusterIdOf', () => {
  const MASK_53 = (1n << 53n) - 1n;
  const fold = (hash: bigint): number => Number((hash >> 53n) ^ (hash & MASK_53));

  it('folds FNV-1a 64 to 53 bits (published test vectors)', () => {
    expect(clusterIdOf('')).toBe(fold(0xcbf29ce484222325n));
    expect(clusterIdOf('a')).toBe(fold(0xaf63dc4c8601ec8cn));
    expect(clusterIdOf('foobar')).toBe(fold(0x85944171f73967e8n));
  });

  it('is stable across releases', () => {
    // Pinned: changing it would make every existing data directory look foreign.
    expect(clusterIdOf('raftkv')).toBe(779_936_430_234_808);
    expect(identityOf('--hostname=raftkv-0').clusterId).toBe(779_936_430_234_808);
  });

  it('is a non-zero safe integer that differs between tokens', () => {
    const ids = new Set<number>();
    for (let index = 0; index < 1000; index += 1) {
      const id = clusterIdOf(`cluster-${index}`);
      expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
    expect(clusterIdOf('héllo')).not.toBe(clusterIdOf('hello'));
  });
});
