/**
 * The resource types the fake Kubernetes API server (fake-api-server.ts) serves, how a request
 * path maps to one of them, and the `Status` error bodies the real API server answers with.
 * Test support only: it knows the handful of kinds the operator touches, nothing more.
 */

/** One served resource type, e.g. `apps/v1` `statefulsets`. */
export interface ResourceType {
  /** API group; `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** Writes to the main resource ignore `status`; `/status` writes only `status`. */
  readonly hasStatus: boolean;
  /** Serves `/scale` (autoscaling/v1 Scale on `spec.replicas`). */
  readonly hasScale: boolean;
}

/** A JSON object as stored and served. */
export type JsonObject = Record<string, unknown>;

/** The kinds the operator reads and writes. */
export const DEFAULT_RESOURCE_TYPES: readonly ResourceType[] = [
  core('pods', 'Pod', true),
  core('services', 'Service', true),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', true),
  core('configmaps', 'ConfigMap', false),
  core('events', 'Event', false),
  grouped('apps', 'v1', 'statefulsets', 'StatefulSet', true, true),
  grouped('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, false),
  grouped('coordination.k8s.io', 'v1', 'leases', 'Lease', false, false),
  grouped('raftkv.io', 'v1alpha1', 'raftclusters', 'RaftCluster', true, true),
  grouped('monitoring.coreos.com', 'v1', 'servicemonitors', 'ServiceMonitor', false, false),
];

function core(plural: string, kind: string, hasStatus: boolean): ResourceType {
  return { group: '', version: 'v1', plural, kind, hasStatus, hasScale: false };
}

function grouped(
  group: string,
  version: string,
  plural: string,
  kind: string,
  hasStatus: boolean,
  hasScale: boolean,
): ResourceType {
  return { group, version, plural, kind, hasStatus, hasScale };
}

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** The key tests name a type by: `apps/v1/statefulsets`, `v1/pods`. */
export function resourceKeyOf(type: ResourceType): string {
  return `${apiVersionOf(type)}/${type.plural}`;
}

/** What a request path names. */
export interface ParsedPath {
  readonly type: ResourceType;
  /** Undefined for a list or watch across all namespaces. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: 'status' | 'scale' | undefined;
}

/**
 * Parses `/api/v1/namespaces/NS/PLURAL[/NAME[/SUB]]`, `/apis/G/V/...` and the all-namespaces
 * forms `/api/v1/PLURAL`, `/apis/G/V/PLURAL`. Throws the API server's answer for a path it does
 * not serve: a plain-text 404 for an unknown group or version (as for a CRD not installed), a
 * `NotFound` Status for an unknown resource of a known group.
 */
export function parsePath(pathname: string, types: readonly ResourceType[]): ParsedPath {
  const segments = pathname
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (segments[0] === 'api') {
    group = '';
    version = segments[1];
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    group = segments[1] ?? '';
    version = segments[2];
    rest = segments.slice(3);
  } else {
    throw new PageNotFound();
  }
  const inGroup = types.filter((type) => type.group === group && type.version === version);
  if (inGroup.length === 0) throw new PageNotFound();
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const type = inGroup.find((candidate) => candidate.plural === plural);
  const isKnownSubresource =
    subresource === undefined ||
    (subresource === 'status' && type?.hasStatus === true) ||
    (subresource === 'scale' && type?.hasScale === true);
  if (type === undefined || extra.length > 0 || !isKnownSubresource) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (name !== undefined && namespace === undefined) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  return {
    type,
    namespace,
    name,
    subresource: subresource as 'status' | 'scale' | undefined,
  };
}

/** An error the fake answers with a `Status` body, as the real API server does. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: JsonObject = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The `Status` object of this error. */
  toStatus(): JsonObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** The real API server's plain-text answer for a group/version it does not serve. */
export class PageNotFound extends Error {
  constructor() {
    super('404 page not found');
    this.name = 'PageNotFound';
  }
}

/** `NotFound` for one object, with the details the real API server gives. */
export function notFound(type: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${type.plural}${groupSuffix(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.plural,
  });
}

/** `AlreadyExists` for a create of an existing name. */
export function alreadyExists(type: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'AlreadyExists',
    `${type.plural}${groupSuffix(type)} "${name}" already exists`,
    { name, group: type.group, kind: type.plural },
  );
}

/** `Conflict`: the optimistic-concurrency failure of a write. */
export function conflict(type: ResourceType, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${type.plural}${groupSuffix(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.plural },
  );
}

function groupSuffix(type: ResourceType): string {
  return type.group === '' ? '' : `.${type.group}`;
}

/** A JSON object, or an empty one for anything else. */
export function asObject(value: unknown): JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonObject)
    : {};
}

/** The `metadata` of a stored object. */
export function metadataOf(object: JsonObject): JsonObject {
  return asObject(object.metadata);
}

/** JSON with object keys sorted: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'object' && inner !== null && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as JsonObject).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : inner,
  );
}
