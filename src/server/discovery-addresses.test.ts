import { describe, expect, it } from 'vitest';

import { discoveryAddresses } from './main.js';
import { parseNodeConfig } from './node-config.js';
import { deriveNodeIdentity } from './node-identity.js';

const identityOf = (...argv: string[]) => deriveNodeIdentity(parseNodeConfig(argv, {}));

describe('discoveryAddresses', () => {
  it('asks 16 ordinals through Kubernetes DNS, founders or not', () => {
    const addresses = discoveryAddresses(
      identityOf('--hostname=rkv-0', '--initial-cluster-size=1', '--peer-service=rkv-peers'),
    );
    expect(addresses).toHaveLength(15);
    expect(addresses[0]).toBe('rkv-1.rkv-peers.default.svc.cluster.local:2380');
  });

  it('stops where a local port scheme runs out of ports (npm start: 10000 apart)', () => {
    // `npm start` failed at start with this scheme: ordinal 7 has no port below 65536.
    const addresses = discoveryAddresses(
      identityOf(
        '--hostname=raftkv-0',
        '--peer-port=2380',
        '--client-port=2379',
        '--peer-address-template=127.0.0.1:{2380+10000*ordinal}',
        '--client-address-template=127.0.0.1:{2379+10000*ordinal}',
      ),
    );
    expect(addresses).toEqual([
      '127.0.0.1:12380',
      '127.0.0.1:22380',
      '127.0.0.1:32380',
      '127.0.0.1:42380',
      '127.0.0.1:52380',
      '127.0.0.1:62380',
    ]);
  });
});
