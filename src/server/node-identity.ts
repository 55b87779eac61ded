/**
 * Who this node is and how to reach every member it may bootstrap with, derived from its
 * configuration alone (DESIGN.md §7): the StatefulSet ordinal K from the host name `NAME-K`, the
 * bootstrap member id of each ordinal, the cluster id from the initial cluster token, and every
 * member's peer and client `host:port`, by Kubernetes DNS or by address templates for local runs.
 * It is pure (no DNS lookups, no files): it must not decide whether to bootstrap or join, which
 * needs the data directory and the peers' answers.
 */
import { assert, type NodeId } from '../common/index.js';
import { checkDnsLabel, checkServiceName } from './node-config-checks.js';
import { ConfigError } from './node-config-error.js';
import { describeOption } from './node-config-option-spec.js';
import { NODE_CONFIG_OPTIONS } from './node-config-options.js';
import type { NodeConfig } from './node-config-types.js';
import type {
  AddressTemplate,
  AddressTemplateVariables,
} from './node-identity-address-template.js';

export { AddressTemplate } from './node-identity-address-template.js';

/** The options identity is derived from. */
export type NodeIdentityConfig = Pick<
  NodeConfig,
  | 'hostname'
  | 'name'
  | 'peerPort'
  | 'clientPort'
  | 'peerService'
  | 'namespace'
  | 'clusterDomain'
  | 'peerAddressTemplate'
  | 'clientAddressTemplate'
  | 'initialClusterSize'
  | 'initialClusterToken'
>;

/** One member of the initial voter set. */
export interface BootstrapMember {
  readonly ordinal: number;
  /** `ordinal + 1`. */
  readonly id: NodeId;
  /** `STATEFULSET-ordinal`, the same on every node. */
  readonly name: string;
  /** `host:port` peers dial. */
  readonly peerAddress: string;
  /** `host:port` clients dial. */
  readonly clientAddress: string;
  /** `http://` + peerAddress, as etcd member lists show it. */
  readonly peerUrl: string;
  /** `http://` + clientAddress. */
  readonly clientUrl: string;
}

/** This node's identity and the addressing of its StatefulSet. */
export interface NodeIdentity {
  /** K of the host name `NAME-K`. */
  readonly ordinal: number;
  /** NAME of the host name `NAME-K`. */
  readonly statefulSetName: string;
  /** This member's name (`--name`, by default the host name). */
  readonly nodeName: string;
  /** Hash of `--initial-cluster-token`, see {@link clusterIdOf}. */
  readonly clusterId: number;
  /** The id this node has if it founds the cluster: `ordinal + 1`. */
  readonly bootstrapMemberId: NodeId;
  /** Whether the ordinal is below `--initial-cluster-size`, i.e. this node is a founding voter. */
  readonly isFoundingMember: boolean;
  /** `kubernetes` (headless-Service DNS names) or `template` (address templates). */
  readonly addressing: 'kubernetes' | 'template';
  /** This node's advertised peer `host:port`, URL, client `host:port` and URL. */
  readonly peerAddress: string;
  readonly peerUrl: string;
  readonly clientAddress: string;
  readonly clientUrl: string;
  /** Ordinals `0 .. initialClusterSize-1`, the deterministic initial voter set. */
  readonly bootstrapMembers: readonly BootstrapMember[];
  /** `STATEFULSET-ordinal`. */
  memberNameOf(ordinal: number): string;
  /** `ordinal + 1`: member ids start at 1 because 0 means "no node". */
  bootstrapMemberIdOf(ordinal: number): NodeId;
  /** The `host:port` peers dial to reach `ordinal`; throws a ConfigError if it renders badly. */
  peerAddressOf(ordinal: number): string;
  /** The `host:port` clients dial to reach `ordinal`; throws a ConfigError if it renders badly. */
  clientAddressOf(ordinal: number): string;
}

/** Digits of an ordinal; more is not a StatefulSet pod. */
const ORDINAL_DIGITS_MAX = 9;
const HOSTNAME_PATTERN = new RegExp(`^(.+)-(0|[1-9]\\d{0,${ORDINAL_DIGITS_MAX - 1}})$`);
const PORT_MAX = 65_535;
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

const FNV_OFFSET_BASIS_64 = 0xcbf29ce484222325n;
const FNV_PRIME_64 = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;
const MASK_53 = (1n << 53n) - 1n;

/**
 * The cluster id of a token: FNV-1a 64 over its UTF-8 bytes, folded to 53 bits by XOR-ing the top
 * 11 bits into the low 53 (so it is a safe integer, see docs/decisions/0002), and 1 if that is 0
 * (0 means "none"). Stable forever: changing it would make every data directory foreign.
 */
export function clusterIdOf(token: string): number {
  let hash = FNV_OFFSET_BASIS_64;
  for (const byte of new TextEncoder().encode(token)) {
    hash = ((hash ^ BigInt(byte)) * FNV_PRIME_64) & MASK_64;
  }
  const folded = (hash >> 53n) ^ (hash & MASK_53);
  return folded === 0n ? 1 : Number(folded);
}

/**
 * Derives this node's identity from its configuration; throws a {@link ConfigError} naming the
 * flag and variable to fix when the host name is not `NAME-K`, a Kubernetes name is invalid, or
 * this node's templated address is unusable.
 */
export function deriveNodeIdentity(config: NodeIdentityConfig): NodeIdentity {
  const { statefulSetName, ordinal } = parseHostname(config);
  const memberNameOf = (j: number): string => `${statefulSetName}-${checkOrdinal(j)}`;
  const addressOf = addressing(config, statefulSetName, memberNameOf);
  const bootstrapMemberIdOf = (j: number): NodeId => checkOrdinal(j) + 1;
  const bootstrapMembers = Array.from({ length: config.initialClusterSize }, (_, j) =>
    bootstrapMember(j, memberNameOf(j), addressOf),
  );
  const self = bootstrapMember(ordinal, memberNameOf(ordinal), addressOf);
  checkLoopbackPort(self.peerAddress, config.peerPort, 'peerAddressTemplate', 'peerPort');
  checkLoopbackPort(self.clientAddress, config.clientPort, 'clientAddressTemplate', 'clientPort');
  return Object.freeze({
    ordinal,
    statefulSetName,
    nodeName: config.name,
    clusterId: clusterIdOf(config.initialClusterToken),
    bootstrapMemberId: self.id,
    isFoundingMember: ordinal < config.initialClusterSize,
    addressing: config.peerAddressTemplate === null ? 'kubernetes' : 'template',
    peerAddress: self.peerAddress,
    peerUrl: self.peerUrl,
    clientAddress: self.clientAddress,
    clientUrl: self.clientUrl,
    bootstrapMembers: Object.freeze(bootstrapMembers),
    memberNameOf,
    bootstrapMemberIdOf,
    peerAddressOf: (j: number) => addressOf('peer', checkOrdinal(j)),
    clientAddressOf: (j: number) => addressOf('client', checkOrdinal(j)),
  });
}

type AddressKind = 'peer' | 'client';
type AddressOf = (kind: AddressKind, ordinal: number) => string;

function bootstrapMember(ordinal: number, name: string, addressOf: AddressOf): BootstrapMember {
  const peerAddress = addressOf('peer', ordinal);
  const clientAddress = addressOf('client', ordinal);
  return Object.freeze({
    ordinal,
    id: ordinal + 1,
    name,
    peerAddress,
    clientAddress,
    peerUrl: `http://${peerAddress}`,
    clientUrl: `http://${clientAddress}`,
  });
}

function checkOrdinal(ordinal: number): number {
  assert(Number.isSafeInteger(ordinal) && ordinal >= 0, () => `bad ordinal ${ordinal}`);
  return ordinal;
}

/** NAME and K of the host name's first label `NAME-K`. */
function parseHostname(config: NodeIdentityConfig): {
  statefulSetName: string;
  ordinal: number;
} {
  const label = config.hostname.split('.')[0] ?? '';
  const match = HOSTNAME_PATTERN.exec(label);
  const [, statefulSetName, digits] = match ?? [];
  if (statefulSetName === undefined || digits === undefined) {
    const local =
      config.peerAddressTemplate === null
        ? '; for a local run pass --hostname NAME-K (for example raftkv-0) and the address templates'
        : '; with address templates, pass --hostname NAME-K (for example raftkv-0)';
    throw new ConfigError(
      'CONFIG_INVALID_IDENTITY',
      `host name '${config.hostname}' of ${describeOption(NODE_CONFIG_OPTIONS.hostname)} ` +
        `does not end in -K, the StatefulSet ordinal (without leading zeros)${local}`,
    );
  }
  return { statefulSetName, ordinal: Number(digits) };
}

/** How to reach each ordinal: address templates if given, else Kubernetes DNS. */
function addressing(
  config: NodeIdentityConfig,
  statefulSetName: string,
  memberNameOf: (ordinal: number) => string,
): AddressOf {
  const { peerAddressTemplate, clientAddressTemplate } = config;
  if (peerAddressTemplate !== null && clientAddressTemplate !== null) {
    return (kind, ordinal) => {
      const variables: AddressTemplateVariables = {
        ordinal,
        name: memberNameOf(ordinal),
        statefulset: statefulSetName,
        peerPort: config.peerPort,
        clientPort: config.clientPort,
      };
      return kind === 'peer'
        ? renderTemplate(peerAddressTemplate, 'peerAddressTemplate', variables)
        : renderTemplate(clientAddressTemplate, 'clientAddressTemplate', variables);
    };
  }
  assert(
    peerAddressTemplate === null && clientAddressTemplate === null,
    'address templates come in pairs (checked by parseNodeConfig)',
  );
  const domain = kubernetesDomain(config, statefulSetName);
  return (kind, ordinal) =>
    `${memberNameOf(ordinal)}.${domain}:${kind === 'peer' ? config.peerPort : config.clientPort}`;
}

/** `SERVICE.NAMESPACE.svc.DOMAIN`, after checking that the pod names are valid DNS labels. */
function kubernetesDomain(config: NodeIdentityConfig, statefulSetName: string): string {
  const nameProblem = checkDnsLabel(`${statefulSetName}-0`);
  if (nameProblem !== undefined) {
    throw new ConfigError(
      'CONFIG_INVALID_IDENTITY',
      `StatefulSet name '${statefulSetName}' from ${describeOption(NODE_CONFIG_OPTIONS.hostname)} ` +
        `cannot form pod DNS names: expected ${nameProblem}`,
    );
  }
  const service = config.peerService ?? `${statefulSetName}-peers`;
  const serviceProblem = checkServiceName(service);
  if (serviceProblem !== undefined) {
    throw new ConfigError(
      'CONFIG_INVALID_VALUE',
      `the default of ${describeOption(NODE_CONFIG_OPTIONS.peerService)}, '${service}', ` +
        `is invalid: expected ${serviceProblem}; set --peer-service or RAFTKV_PEER_SERVICE`,
    );
  }
  return `${service}.${config.namespace}.svc.${config.clusterDomain}`;
}

function renderTemplate(
  template: AddressTemplate,
  key: 'peerAddressTemplate' | 'clientAddressTemplate',
  variables: AddressTemplateVariables,
): string {
  const { host, port } = template.render(variables);
  if (!Number.isSafeInteger(port) || port < 1 || port > PORT_MAX) {
    throw new ConfigError(
      'CONFIG_INVALID_VALUE',
      `${describeOption(NODE_CONFIG_OPTIONS[key])} '${template.source}' gives ordinal ` +
        `${variables.ordinal} the port ${port}: expected a port from 1 to ${PORT_MAX}`,
    );
  }
  return `${host}:${port}`;
}

/**
 * On a loopback host nothing can translate ports, so this node's rendered port must be the one it
 * listens on; otherwise its peers (or clients) would dial a port nobody serves.
 */
function checkLoopbackPort(
  address: string,
  listenPort: number,
  templateKey: 'peerAddressTemplate' | 'clientAddressTemplate',
  portKey: 'peerPort' | 'clientPort',
): void {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  if (!LOOPBACK_HOST.test(host) || port === listenPort) return;
  throw new ConfigError(
    'CONFIG_CONFLICT',
    `${describeOption(NODE_CONFIG_OPTIONS[templateKey])} gives this node the loopback address ` +
      `${address}, but ${describeOption(NODE_CONFIG_OPTIONS[portKey])} is ${listenPort}: ` +
      `pass --${NODE_CONFIG_OPTIONS[portKey].flag}=${port} or change the template`,
  );
}
