/**
 * The object store of the fake Kubernetes API server: objects by type, namespace and name, one
 * global monotonically increasing resourceVersion, the event history watches replay from, and
 * the open watches. Test support only; it enforces no schema and collects no garbage.
 * Everything going in or out is deep-copied, so callers never share state with the store.
 */
import { randomUUID } from 'node:crypto';

import {
  ApiError,
  type JsonObject,
  type ResourceType,
  alreadyExists,
  asObject,
  metadataOf,
  notFound,
  resourceKeyOf,
} from './fake-api-resources.js';
import type { LabelPredicate } from './fake-api-selectors.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One line of a watch stream. */
export interface WatchEvent {
  readonly type: WatchEventType | 'ERROR' | 'BOOKMARK';
  readonly object: JsonObject;
}

interface HistoryEntry {
  readonly revision: number;
  readonly type: ResourceType;
  readonly namespace: string;
  readonly eventType: WatchEventType;
  readonly object: JsonObject;
  readonly previous: JsonObject | undefined;
}

interface Watcher {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  readonly selector: LabelPredicate;
  readonly send: (event: WatchEvent) => void;
}

/** What to watch. */
export interface WatchRequest {
  readonly type: ResourceType;
  /** Undefined: all namespaces. */
  readonly namespace: string | undefined;
  readonly selector: LabelPredicate;
  /** Replay events after this version; empty or `0`: synthetic ADDED for what exists now. */
  readonly resourceVersion: string | undefined;
  readonly send: (event: WatchEvent) => void;
}

/** Seconds-precision RFC 3339, as `metav1.Time` serializes. */
export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class FakeObjectStore {
  /** Starts above 0: a resourceVersion of "0" means "any" to list and watch. */
  private revision = 100;
  /** Events at or before this revision are gone; a watch from before it gets 410. */
  private compactedRevision = 100;
  private readonly objects = new Map<string, JsonObject>();
  private readonly history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  get(type: ResourceType, namespace: string, name: string): JsonObject | undefined {
    const object = this.objects.get(keyOf(type, namespace, name));
    return object === undefined ? undefined : structuredClone(object);
  }

  /** Objects of `type` in `namespace` (all if undefined) whose labels match, by name. */
  list(
    type: ResourceType,
    namespace: string | undefined,
    selector: LabelPredicate = () => true,
  ): JsonObject[] {
    const prefix = `${resourceKeyOf(type)}|${namespace ?? ''}`;
    return [...this.objects.entries()]
      .filter(([key]) =>
        namespace === undefined
          ? key.startsWith(`${resourceKeyOf(type)}|`)
          : key.startsWith(`${prefix}|`),
      )
      .map(([, object]) => object)
      .filter((object) => selector(labelsOf(object)))
      .sort((a, b) => String(metadataOf(a).name).localeCompare(String(metadataOf(b).name)))
      .map((object) => structuredClone(object));
  }

  /** Stores a new object: uid, creationTimestamp, resourceVersion and generation are set here. */
  create(type: ResourceType, namespace: string, object: JsonObject): JsonObject {
    const metadata = metadataOf(object);
    const name = String(metadata.name);
    const key = keyOf(type, namespace, name);
    if (this.objects.has(key)) throw alreadyExists(type, name);
    const stored: JsonObject = {
      ...structuredClone(object),
      metadata: {
        ...structuredClone(metadata),
        name,
        namespace,
        uid: randomUUID(),
        creationTimestamp: nowTimestamp(),
        ...(type.hasStatus ? { generation: 1 } : {}),
        resourceVersion: this.nextRevision(),
      },
    };
    this.objects.set(key, stored);
    this.record(type, namespace, 'ADDED', stored, undefined);
    return structuredClone(stored);
  }

  /** Replaces an existing object with `object` (its full new state) at a new resourceVersion. */
  replace(type: ResourceType, namespace: string, object: JsonObject): JsonObject {
    const name = String(metadataOf(object).name);
    const key = keyOf(type, namespace, name);
    const previous = this.objects.get(key);
    if (previous === undefined) throw notFound(type, name);
    const stored: JsonObject = {
      ...structuredClone(object),
      metadata: { ...structuredClone(metadataOf(object)), resourceVersion: this.nextRevision() },
    };
    this.objects.set(key, stored);
    this.record(type, namespace, 'MODIFIED', stored, previous);
    return structuredClone(stored);
  }

  /** Removes an object; the DELETED event carries its last state at a new resourceVersion. */
  delete(type: ResourceType, namespace: string, name: string): JsonObject {
    const key = keyOf(type, namespace, name);
    const previous = this.objects.get(key);
    if (previous === undefined) throw notFound(type, name);
    this.objects.delete(key);
    const last: JsonObject = {
      ...previous,
      metadata: { ...metadataOf(previous), resourceVersion: this.nextRevision() },
    };
    this.record(type, namespace, 'DELETED', last, previous);
    return structuredClone(last);
  }

  /**
   * Starts a watch: replays the history after `resourceVersion` (or sends ADDED for every
   * existing object when none is given), then streams live events until the returned function
   * is called. Throws 410 Expired when `resourceVersion` is older than the last compaction.
   */
  watch(request: WatchRequest): () => void {
    const watcher: Watcher = {
      type: request.type,
      namespace: request.namespace,
      selector: request.selector,
      send: request.send,
    };
    const since = request.resourceVersion;
    if (since === undefined || since === '' || since === '0') {
      for (const object of this.list(request.type, request.namespace, request.selector)) {
        request.send({ type: 'ADDED', object });
      }
    } else {
      const revision = Number(since);
      if (!Number.isInteger(revision) || revision < this.compactedRevision) {
        throw new ApiError(
          410,
          'Expired',
          `too old resource version: ${since} (${this.compactedRevision})`,
        );
      }
      for (const entry of this.history) {
        if (entry.revision > revision) deliver(watcher, entry);
      }
    }
    this.watchers.add(watcher);
    return () => {
      this.watchers.delete(watcher);
    };
  }

  /** Forgets the event history: a watch from any earlier resourceVersion gets 410 Gone. */
  compact(): void {
    this.compactedRevision = this.revision;
    this.history.length = 0;
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private record(
    type: ResourceType,
    namespace: string,
    eventType: WatchEventType,
    object: JsonObject,
    previous: JsonObject | undefined,
  ): void {
    const entry: HistoryEntry = {
      revision: this.revision,
      type,
      namespace,
      eventType,
      object: structuredClone(object),
      previous: previous === undefined ? undefined : structuredClone(previous),
    };
    this.history.push(entry);
    for (const watcher of this.watchers) deliver(watcher, entry);
  }
}

function keyOf(type: ResourceType, namespace: string, name: string): string {
  return `${resourceKeyOf(type)}|${namespace}|${name}`;
}

function labelsOf(object: JsonObject | undefined): Record<string, string> {
  return asObject(metadataOf(object ?? {}).labels) as Record<string, string>;
}

/**
 * Sends `entry` to `watcher` as the real API server would: an object that starts or stops
 * matching the selector arrives as ADDED or DELETED.
 */
function deliver(watcher: Watcher, entry: HistoryEntry): void {
  if (resourceKeyOf(watcher.type) !== resourceKeyOf(entry.type)) return;
  if (watcher.namespace !== undefined && watcher.namespace !== entry.namespace) return;
  const matchesNow = watcher.selector(labelsOf(entry.object));
  const matchedBefore = entry.previous !== undefined && watcher.selector(labelsOf(entry.previous));
  let type: WatchEventType | undefined;
  if (entry.eventType === 'MODIFIED') {
    if (matchesNow) type = matchedBefore ? 'MODIFIED' : 'ADDED';
    else if (matchedBefore) type = 'DELETED';
  } else if (matchesNow) {
    type = entry.eventType;
  }
  if (type !== undefined) watcher.send({ type, object: structuredClone(entry.object) });
}
