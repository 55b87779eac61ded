/**
 * A loopback fake Kubernetes API server (node:http on 127.0.0.1, port 0) for testing the
 * operator's real `@kubernetes/client-node` calls: paths, verbs, patch content types, field
 * managers, error bodies, list/watch semantics. It serves the kinds of fake-api-resources.ts:
 * GET, list and watch (newline-delimited JSON events, replay from a resourceVersion, 410 when
 * it is too old), POST, PUT (resourceVersion precondition), PATCH (merge patch and a rough
 * server-side apply, fake-api-patch.ts), DELETE, `/status` and `/scale`, label selectors, and
 * `Status` error bodies. Test hooks inject conflicts and failures, end or break watches, seed and
 * read objects, and log every request.
 *
 * It is not an API server: no schema validation (except Lease MicroTime precision, the known
 * pitfall), no garbage collection, no admission, no authentication, no pod lifecycle.
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

import { mergePatch, recordUpdate, serverSideApply } from './fake-api-patch.js';
import {
  ApiError,
  DEFAULT_RESOURCE_TYPES,
  type JsonObject,
  PageNotFound,
  type ParsedPath,
  type ResourceType,
  apiVersionOf,
  asObject,
  canonicalJson,
  conflict,
  metadataOf,
  notFound,
  parsePath,
  resourceKeyOf,
} from './fake-api-resources.js';
import { parseLabelSelector } from './fake-api-selectors.js';
import { FakeObjectStore, type WatchEvent, nowTimestamp } from './fake-api-store.js';

/** One request as the server received it. */
export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly isWatch: boolean;
}

/** Which requests an injected failure applies to. */
export interface RequestMatch {
  /** Any method if absent. */
  readonly method?: string;
  /** The request path starts with this. */
  readonly pathPrefix: string;
  /** Only watches (true), only non-watch requests (false), or both (absent). */
  readonly isWatch?: boolean;
}

interface InjectedFailure {
  readonly match: RequestMatch;
  readonly error: ApiError;
  remaining: number;
}

export interface FakeApiServerOptions {
  /** Resource keys (`monitoring.coreos.com/v1/servicemonitors`) not served, as with no CRD. */
  readonly absentResources?: readonly string[];
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export class FakeApiServer {
  /** Every request, in arrival order. */
  readonly requests: LoggedRequest[] = [];
  private readonly store = new FakeObjectStore();
  private types: ResourceType[];
  private readonly conflictPaths: string[] = [];
  private readonly failures: InjectedFailure[] = [];
  /** Open watch streams and how to unsubscribe each from the store. */
  private readonly openWatches = new Map<ServerResponse, () => void>();
  private goneWatches = 0;

  private constructor(
    private readonly server: Server,
    options: FakeApiServerOptions,
  ) {
    const absent = new Set(options.absentResources ?? []);
    this.types = DEFAULT_RESOURCE_TYPES.filter((type) => !absent.has(resourceKeyOf(type)));
  }

  /** Starts a server on 127.0.0.1 at a free port. */
  static async start(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const server = createServer();
    const fake = new FakeApiServer(server, options);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void fake.handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return fake;
  }

  /** `http://127.0.0.1:PORT`. */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** A KubeConfig pointing at this server (plain HTTP needs `skipTLSVerify` in client-node). */
  kubeConfig(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'x' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kubeConfig;
  }

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  /** The next write (POST, PUT, PATCH, DELETE) to exactly `path` answers 409 Conflict. */
  injectConflict(path: string): void {
    this.conflictPaths.push(path);
  }

  /** The next `times` matching requests answer `code` with a Status body. */
  failNext(match: RequestMatch, code: number, reason = 'InternalError', times = 1): void {
    const error = new ApiError(code, reason, `injected failure (${code} ${reason})`);
    this.failures.push({ match, error, remaining: times });
  }

  /** The next watch request gets an ERROR event with a 410 Expired Status, then ends. */
  injectWatchGone(): void {
    this.goneWatches += 1;
  }

  /** Ends every open watch cleanly, as the API server does at its request timeout. */
  closeWatches(): number {
    return this.endWatches((response) => response.end());
  }

  /** Breaks every open watch's connection (the client sees an error, not an end). */
  breakWatches(): number {
    return this.endWatches((response) => response.socket?.destroy());
  }

  /** Open watch streams now. */
  get watchCount(): number {
    return this.openWatches.size;
  }

  /** Forgets history: a watch from an older resourceVersion gets 410. */
  compact(): void {
    this.store.compact();
  }

  /** Stops serving a resource (`monitoring.coreos.com/v1/servicemonitors`), as if no CRD. */
  removeResource(resourceKey: string): void {
    this.types = this.types.filter((type) => resourceKeyOf(type) !== resourceKey);
  }

  /**
   * Creates or replaces an object as given, status included (seeding pods and claims by hand).
   * Its apiVersion and kind pick the type; watchers see the change.
   */
  put(object: JsonObject): JsonObject {
    const type = this.typeOfObject(object);
    const metadata = metadataOf(object);
    const namespace = String(metadata.namespace);
    const existing = this.store.get(type, namespace, String(metadata.name));
    if (existing === undefined) return this.store.create(type, namespace, object);
    const existingMetadata = metadataOf(existing);
    return this.store.replace(type, namespace, {
      ...object,
      metadata: {
        ...metadata,
        uid: existingMetadata.uid,
        creationTimestamp: existingMetadata.creationTimestamp,
      },
    });
  }

  /** One stored object by resource key (`apps/v1/statefulsets`), or undefined. */
  object(resourceKey: string, namespace: string, name: string): JsonObject | undefined {
    return this.store.get(this.typeOfKey(resourceKey), namespace, name);
  }

  /** Stored objects of one resource key, in one namespace or all. */
  objects(resourceKey: string, namespace?: string): JsonObject[] {
    return this.store.list(this.typeOfKey(resourceKey), namespace);
  }

  /** Deletes an object directly; false if it did not exist. */
  remove(resourceKey: string, namespace: string, name: string): boolean {
    const type = this.typeOfKey(resourceKey);
    if (this.store.get(type, namespace, name) === undefined) return false;
    this.store.delete(type, namespace, name);
    return true;
  }

  /** Requests matching `method` and a path prefix, for assertions. */
  requestsTo(method: string, pathPrefix: string): LoggedRequest[] {
    return this.requests.filter(
      (request) => request.method === method && request.path.startsWith(pathPrefix),
    );
  }

  async close(): Promise<void> {
    this.closeWatches();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private endWatches(end: (response: ServerResponse) => void): number {
    const count = this.openWatches.size;
    for (const [response, unsubscribe] of this.openWatches) {
      unsubscribe();
      end(response);
    }
    this.openWatches.clear();
    return count;
  }

  private typeOfKey(resourceKey: string): ResourceType {
    const type = DEFAULT_RESOURCE_TYPES.find(
      (candidate) => resourceKeyOf(candidate) === resourceKey,
    );
    if (type === undefined) throw new Error(`unknown resource ${resourceKey}`);
    return type;
  }

  private typeOfObject(object: JsonObject): ResourceType {
    const type = DEFAULT_RESOURCE_TYPES.find(
      (candidate) =>
        apiVersionOf(candidate) === object.apiVersion && candidate.kind === object.kind,
    );
    if (type === undefined)
      throw new Error(`unknown kind ${String(object.apiVersion)} ${String(object.kind)}`);
    return type;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const isWatch =
      url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const contentType = request.headers['content-type']?.split(';')[0]?.trim();
    this.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      isWatch,
    });
    try {
      const text = await readBody(request);
      this.throwInjected(method, url.pathname, isWatch);
      const parsed = parsePath(url.pathname, this.types);
      if (method === 'GET' && isWatch && parsed.name === undefined) {
        this.watch(parsed, url, response);
        return;
      }
      const body = text === '' ? undefined : parseBody(text, contentType);
      const { code, result } = this.route(method, parsed, url, body, contentType);
      sendJson(response, code, result);
    } catch (error) {
      sendError(response, error);
    }
  }

  private throwInjected(method: string, path: string, isWatch: boolean): void {
    const failure = this.failures.find(
      ({ match }) =>
        (match.method === undefined || match.method === method) &&
        path.startsWith(match.pathPrefix) &&
        (match.isWatch === undefined || match.isWatch === isWatch),
    );
    if (failure !== undefined) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      throw failure.error;
    }
    const conflictIndex = this.conflictPaths.indexOf(path);
    if (WRITE_METHODS.has(method) && conflictIndex >= 0) {
      this.conflictPaths.splice(conflictIndex, 1);
      throw new ApiError(409, 'Conflict', `injected conflict on ${path}`);
    }
  }

  private route(
    method: string,
    parsed: ParsedPath,
    url: URL,
    body: unknown,
    contentType: string | undefined,
  ): { code: number; result: JsonObject } {
    const { type, namespace, name } = parsed;
    if (name === undefined) {
      if (method === 'GET') return { code: 200, result: this.list(parsed, url) };
      if (method === 'POST' && namespace !== undefined) {
        return { code: 201, result: this.create(type, namespace, asObject(body), url) };
      }
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
    }
    const ns = namespace ?? '';
    const existing = this.store.get(type, ns, name);
    switch (method) {
      case 'GET':
        if (existing === undefined) throw notFound(type, name);
        return { code: 200, result: parsed.subresource === 'scale' ? scaleOf(existing) : existing };
      case 'PUT':
        if (existing === undefined) throw notFound(type, name);
        return { code: 200, result: this.replace(parsed, existing, asObject(body), url) };
      case 'PATCH':
        return this.patch(parsed, existing, body, url, contentType);
      case 'DELETE':
        return { code: 200, result: this.store.delete(type, ns, name) };
      default:
        throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported`);
    }
  }

  private list(parsed: ParsedPath, url: URL): JsonObject {
    const selector = parseLabelSelector(url.searchParams.get('labelSelector'));
    const items = this.store.list(parsed.type, parsed.namespace, selector);
    return {
      apiVersion: apiVersionOf(parsed.type),
      kind: `${parsed.type.kind}List`,
      metadata: { resourceVersion: this.store.resourceVersion },
      items,
    };
  }

  private watch(parsed: ParsedPath, url: URL, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'application/json' });
    // The real API server answers a watch at once; Node would hold headers until a first event.
    response.flushHeaders();
    const send = (event: WatchEvent): void => {
      if (!response.writableEnded && !response.destroyed) {
        response.write(`${JSON.stringify(event)}\n`);
      }
    };
    if (this.goneWatches > 0) {
      this.goneWatches -= 1;
      send({
        type: 'ERROR',
        object: new ApiError(410, 'Expired', 'injected: too old resource version').toStatus(),
      });
      response.end();
      return;
    }
    let unsubscribe: () => void;
    try {
      unsubscribe = this.store.watch({
        type: parsed.type,
        namespace: parsed.namespace,
        selector: parseLabelSelector(url.searchParams.get('labelSelector')),
        resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
        send,
      });
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // The real API server reports an expired resourceVersion inside a 200 watch stream.
      send({ type: 'ERROR', object: error.toStatus() });
      response.end();
      return;
    }
    this.openWatches.set(response, unsubscribe);
    response.on('close', () => {
      unsubscribe();
      this.openWatches.delete(response);
    });
  }

  private create(type: ResourceType, namespace: string, body: JsonObject, url: URL): JsonObject {
    const metadata = { ...metadataOf(body) };
    if (metadata.name === undefined && typeof metadata.generateName === 'string') {
      metadata.name = `${metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    }
    if (typeof metadata.name !== 'string' || metadata.name === '') {
      throw new ApiError(422, 'Invalid', `${type.kind} is invalid: metadata.name: Required value`);
    }
    const { status: _status, ...withoutStatus } = body;
    const object: JsonObject = {
      ...(type.hasStatus ? withoutStatus : body),
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: { ...metadata, namespace },
    };
    checkObject(type, object);
    const tracked = recordUpdate(
      undefined,
      object,
      managerOf(url),
      apiVersionOf(type),
      undefined,
      nowTimestamp(),
    );
    return this.store.create(type, namespace, tracked);
  }

  private replace(
    parsed: ParsedPath,
    existing: JsonObject,
    body: JsonObject,
    url: URL,
  ): JsonObject {
    const expectedVersion = metadataOf(body).resourceVersion;
    if (expectedVersion !== undefined && expectedVersion !== metadataOf(existing).resourceVersion) {
      throw conflict(parsed.type, String(metadataOf(existing).name));
    }
    if (parsed.subresource === 'scale') return this.writeScale(parsed, existing, body);
    const candidate = { ...body, apiVersion: apiVersionOf(parsed.type), kind: parsed.type.kind };
    const tracked = recordUpdate(
      existing,
      candidate,
      managerOf(url),
      apiVersionOf(parsed.type),
      parsed.subresource,
      nowTimestamp(),
    );
    return this.commit(parsed, existing, tracked);
  }

  private patch(
    parsed: ParsedPath,
    existing: JsonObject | undefined,
    body: unknown,
    url: URL,
    contentType: string | undefined,
  ): { code: number; result: JsonObject } {
    const { type, name } = parsed;
    const apiVersion = apiVersionOf(type);
    if (contentType === 'application/apply-patch+yaml') {
      const applied = asObject(body);
      const manager = url.searchParams.get('fieldManager');
      if (manager === null || manager === '') {
        throw new ApiError(400, 'BadRequest', 'PATCH with apply requires fieldManager');
      }
      if (applied.apiVersion !== apiVersion || applied.kind !== type.kind) {
        throw new ApiError(400, 'BadRequest', `apply body must be ${apiVersion} ${type.kind}`);
      }
      if (metadataOf(applied).name !== name) {
        throw new ApiError(400, 'BadRequest', 'the name of the object does not match the URL');
      }
      if (parsed.subresource === 'scale')
        throw new ApiError(415, 'UnsupportedMediaType', 'apply on scale');
      const result = serverSideApply({
        existing,
        applied,
        manager,
        force: url.searchParams.get('force') === 'true',
        apiVersion,
        subresource: parsed.subresource,
        time: nowTimestamp(),
      });
      if (existing === undefined) {
        if (parsed.subresource !== undefined) throw notFound(type, String(name));
        const { status: _status, ...withoutStatus } = result;
        const object = {
          ...(type.hasStatus ? withoutStatus : result),
          apiVersion,
          kind: type.kind,
        };
        checkObject(type, object);
        return { code: 201, result: this.store.create(type, parsed.namespace ?? '', object) };
      }
      return { code: 200, result: this.commit(parsed, existing, result) };
    }
    if (existing === undefined) throw notFound(type, String(name));
    const isBuiltIn = !['raftkv.io', 'monitoring.coreos.com'].includes(type.group);
    if (
      contentType === 'application/merge-patch+json' ||
      (contentType === 'application/strategic-merge-patch+json' && isBuiltIn)
    ) {
      if (parsed.subresource === 'scale')
        return {
          code: 200,
          result: this.writeScale(parsed, existing, asObject(mergePatch(scaleOf(existing), body))),
        };
      const patched = asObject(mergePatch(existing, body));
      const tracked = recordUpdate(
        existing,
        patched,
        managerOf(url),
        apiVersion,
        parsed.subresource,
        nowTimestamp(),
      );
      return { code: 200, result: this.commit(parsed, existing, tracked) };
    }
    if (contentType === 'application/json-patch+json' && !Array.isArray(body)) {
      // What the real API server says when an object is sent as a JSON patch (the default
      // content type client-node picks for patch calls without setHeaderOptions).
      throw new ApiError(
        400,
        'BadRequest',
        'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
      );
    }
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml (got ${String(contentType)})`,
    );
  }

  /**
   * Stores the result of a write: `/status` keeps everything but status, a main-resource write
   * of a type with a status subresource keeps the old status and bumps `metadata.generation`
   * when anything outside metadata and status changed. A write that changes nothing is not
   * stored (no new resourceVersion, no watch event), as on the real API server.
   */
  private commit(parsed: ParsedPath, existing: JsonObject, candidate: JsonObject): JsonObject {
    const { type } = parsed;
    const oldMetadata = metadataOf(existing);
    const newMetadata = metadataOf(candidate);
    let next: JsonObject;
    if (parsed.subresource === 'status') {
      next = {
        ...existing,
        status: candidate.status,
        metadata: { ...oldMetadata, managedFields: newMetadata.managedFields },
      };
      if (candidate.status === undefined) delete next.status;
    } else {
      const { status: _ignored, ...rest } = candidate;
      next =
        type.hasStatus && existing.status !== undefined
          ? { ...rest, status: existing.status }
          : type.hasStatus
            ? rest
            : candidate;
      const generation = Number(oldMetadata.generation ?? 0);
      const bump =
        type.hasStatus && canonicalJson(specOf(existing)) !== canonicalJson(specOf(next));
      next.metadata = {
        ...newMetadata,
        name: oldMetadata.name,
        namespace: oldMetadata.namespace,
        uid: oldMetadata.uid,
        creationTimestamp: oldMetadata.creationTimestamp,
        resourceVersion: oldMetadata.resourceVersion,
        ...(type.hasStatus ? { generation: bump ? generation + 1 : generation } : {}),
      };
    }
    checkObject(type, next);
    if (sameContent(existing, next)) return existing;
    return this.store.replace(type, parsed.namespace ?? '', next);
  }

  private writeScale(parsed: ParsedPath, existing: JsonObject, scale: JsonObject): JsonObject {
    const replicas = asObject(scale.spec).replicas;
    if (typeof replicas !== 'number')
      throw new ApiError(422, 'Invalid', 'spec.replicas: Required value');
    const next = { ...existing, spec: { ...asObject(existing.spec), replicas } };
    return scaleOf(this.commit({ ...parsed, subresource: undefined }, existing, next));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseBody(text: string, contentType: string | undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (contentType === 'application/apply-patch+yaml') return parseYaml(text) as unknown;
    throw new ApiError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

function managerOf(url: URL): string {
  return url.searchParams.get('fieldManager') ?? 'unknown';
}

function sendJson(response: ServerResponse, code: number, body: unknown): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof PageNotFound) {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('404 page not found\n');
    return;
  }
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError(500, 'InternalError', `fake API server: ${String(error)}`);
  sendJson(response, apiError.code, apiError.toStatus());
}

function specOf(object: JsonObject): JsonObject {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

/** Equal apart from managedFields timestamps. */
function sameContent(a: JsonObject, b: JsonObject): boolean {
  const strip = (object: JsonObject): string =>
    canonicalJson(
      JSON.parse(
        JSON.stringify(object, (key, value: unknown) => (key === 'time' ? undefined : value)),
      ),
    );
  return strip(a) === strip(b);
}

/** The autoscaling/v1 Scale view of an object with `spec.replicas`. */
function scaleOf(object: JsonObject): JsonObject {
  const metadata = metadataOf(object);
  const status = asObject(object.status);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      creationTimestamp: metadata.creationTimestamp,
    },
    spec: { replicas: asObject(object.spec).replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      ...(typeof status.selector === 'string' ? { selector: status.selector } : {}),
    },
  };
}

/** The one validation the fake does: Lease times must be MicroTime (6 fractional digits). */
function checkObject(type: ResourceType, object: JsonObject): void {
  if (type.kind !== 'Lease') return;
  const spec = asObject(object.spec);
  for (const field of ['acquireTime', 'renewTime']) {
    const value = spec[field];
    if (value !== undefined && (typeof value !== 'string' || !MICRO_TIME.test(value))) {
      throw new ApiError(
        400,
        'BadRequest',
        `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as ".000000"`,
      );
    }
  }
}
