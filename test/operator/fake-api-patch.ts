/**
 * Patch semantics of the fake Kubernetes API server: JSON merge patch (RFC 7386) and a rough
 * server-side apply that tracks field ownership in `metadata.managedFields` (FieldsV1 tries).
 *
 * Roughness, on purpose: lists are atomic (replaced whole, no merge keys); ownership is per leaf
 * path; a field an applier stops sending is removed unless another manager also owns it. This is
 * enough to check that the operator applies with one field manager and that re-applying is
 * idempotent; it is not a reimplementation of structured-merge-diff.
 */
import {
  ApiError,
  type JsonObject,
  asObject,
  canonicalJson,
  metadataOf,
} from './fake-api-resources.js';

/** One `metadata.managedFields` entry. */
export interface ManagedFieldsEntry {
  readonly manager: string;
  readonly operation: 'Apply' | 'Update';
  readonly apiVersion: string;
  readonly time: string;
  readonly fieldsType: 'FieldsV1';
  readonly fieldsV1: JsonObject;
  readonly subresource?: string;
}

type FieldPath = readonly string[];

/** Metadata the server owns; never tracked as anyone's field. */
const UNTRACKED = new Set([
  '["apiVersion"]',
  '["kind"]',
  '["metadata","name"]',
  '["metadata","namespace"]',
  '["metadata","uid"]',
  '["metadata","resourceVersion"]',
  '["metadata","generation"]',
  '["metadata","creationTimestamp"]',
  '["metadata","managedFields"]',
]);

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const result: JsonObject = isPlainObject(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Leaf paths of `value`: non-empty objects are descended, everything else is a leaf. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  return [prefix];
}

function trackedPaths(object: JsonObject, subresource: string | undefined): string[][] {
  return leafPaths(object).filter(
    (path) =>
      !UNTRACKED.has(JSON.stringify(path)) &&
      !(path[0] === 'metadata' && path[1] === 'managedFields') &&
      (subresource !== 'status' || path[0] === 'status'),
  );
}

function valueAt(object: unknown, path: FieldPath): unknown {
  let current: unknown = object;
  for (const key of path) current = isPlainObject(current) ? current[key] : undefined;
  return current;
}

function deleteAt(object: JsonObject, path: FieldPath): void {
  let current: unknown = object;
  for (const key of path.slice(0, -1)) current = isPlainObject(current) ? current[key] : undefined;
  const last = path[path.length - 1];
  if (isPlainObject(current) && last !== undefined) delete current[last];
}

/** Objects merge recursively; lists and scalars of `applied` replace. */
function deepMerge(target: unknown, applied: unknown): unknown {
  if (!isPlainObject(applied) || !isPlainObject(target)) return structuredClone(applied);
  const result: JsonObject = structuredClone(target);
  for (const [key, value] of Object.entries(applied)) result[key] = deepMerge(result[key], value);
  return result;
}

function toFieldsV1(paths: readonly FieldPath[]): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const key of path) {
      const child = asObject(node[`f:${key}`]);
      node[`f:${key}`] = child;
      node = child;
    }
  }
  return root;
}

function fromFieldsV1(fields: JsonObject, prefix: string[] = []): string[][] {
  const children = Object.entries(fields).filter(([key]) => key.startsWith('f:'));
  if (children.length === 0) return prefix.length === 0 ? [] : [prefix];
  return children.flatMap(([key, child]) =>
    fromFieldsV1(asObject(child), [...prefix, key.slice(2)]),
  );
}

function entriesOf(object: JsonObject | undefined): ManagedFieldsEntry[] {
  const entries = metadataOf(object ?? {}).managedFields;
  return Array.isArray(entries) ? (structuredClone(entries) as ManagedFieldsEntry[]) : [];
}

function withEntries(object: JsonObject, entries: readonly ManagedFieldsEntry[]): JsonObject {
  const kept = entries.filter((entry) => Object.keys(entry.fieldsV1).length > 0);
  return { ...object, metadata: { ...metadataOf(object), managedFields: kept } };
}

function sameScope(entry: ManagedFieldsEntry, subresource: string | undefined): boolean {
  return (entry.subresource ?? undefined) === subresource;
}

/** Removes `paths` from every entry of another manager (ownership moves to the writer). */
function takeOwnership(
  entries: ManagedFieldsEntry[],
  manager: string,
  paths: readonly FieldPath[],
): ManagedFieldsEntry[] {
  const taken = new Set(paths.map((path) => JSON.stringify(path)));
  return entries.map((entry) =>
    entry.manager === manager
      ? entry
      : {
          ...entry,
          fieldsV1: toFieldsV1(
            fromFieldsV1(entry.fieldsV1).filter((path) => !taken.has(JSON.stringify(path))),
          ),
        },
  );
}

/** What one server-side apply request carries. */
export interface ApplyRequest {
  readonly existing: JsonObject | undefined;
  readonly applied: JsonObject;
  readonly manager: string;
  readonly force: boolean;
  readonly apiVersion: string;
  readonly subresource: 'status' | undefined;
  readonly time: string;
}

/**
 * Server-side apply: merges the applied configuration, removes fields this manager applied
 * before but no longer sends (unless another manager owns them), and records ownership. Without
 * `force`, changing a field another manager owns is a 409 Conflict.
 */
export function serverSideApply(request: ApplyRequest): JsonObject {
  const { existing, applied, manager, subresource } = request;
  const appliedPaths = trackedPaths(applied, subresource);
  let entries = entriesOf(existing);
  const others = entries.filter((entry) => entry.manager !== manager);
  if (!request.force && existing !== undefined) {
    const conflicts = others.flatMap((entry) =>
      fromFieldsV1(entry.fieldsV1)
        .filter((owned) =>
          appliedPaths.some(
            (path) =>
              JSON.stringify(path) === JSON.stringify(owned) &&
              canonicalJson(valueAt(existing, path)) !== canonicalJson(valueAt(applied, path)),
          ),
        )
        .map((path) => `conflict with "${entry.manager}": .${path.join('.')}`),
    );
    if (conflicts.length > 0) {
      throw new ApiError(
        409,
        'Conflict',
        `Apply failed with ${conflicts.length} conflict(s): ${conflicts.join(', ')}`,
      );
    }
  }
  const { managedFields: _dropped, ...existingMetadata } = metadataOf(existing ?? {});
  const base: JsonObject =
    existing === undefined ? {} : { ...existing, metadata: existingMetadata };
  const merged = deepMerge(base, applied) as JsonObject;
  const previous = entries.find(
    (entry) =>
      entry.manager === manager && entry.operation === 'Apply' && sameScope(entry, subresource),
  );
  const appliedKeys = new Set(appliedPaths.map((path) => JSON.stringify(path)));
  const ownedByOthers = new Set(
    others.flatMap((entry) => fromFieldsV1(entry.fieldsV1).map((path) => JSON.stringify(path))),
  );
  for (const path of previous === undefined ? [] : fromFieldsV1(previous.fieldsV1)) {
    const key = JSON.stringify(path);
    if (!appliedKeys.has(key) && !ownedByOthers.has(key)) deleteAt(merged, path);
  }
  if (request.force) entries = takeOwnership(entries, manager, appliedPaths);
  entries = entries.filter((entry) => entry !== previous);
  entries.push({
    manager,
    operation: 'Apply',
    apiVersion: request.apiVersion,
    time: request.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(appliedPaths),
    ...(subresource !== undefined ? { subresource } : {}),
  });
  return withEntries(merged, entries);
}

/**
 * Records an Update (create, replace, merge patch) by `manager`: it owns every field it changed,
 * taken from whoever owned it before.
 */
export function recordUpdate(
  before: JsonObject | undefined,
  after: JsonObject,
  manager: string,
  apiVersion: string,
  subresource: 'status' | undefined,
  time: string,
): JsonObject {
  const changed = trackedPaths(after, subresource).filter(
    (path) => canonicalJson(valueAt(before, path)) !== canonicalJson(valueAt(after, path)),
  );
  let entries = takeOwnership(entriesOf(before), manager, changed);
  const previous = entries.find(
    (entry) =>
      entry.manager === manager && entry.operation === 'Update' && sameScope(entry, subresource),
  );
  const owned = [...(previous === undefined ? [] : fromFieldsV1(previous.fieldsV1)), ...changed];
  const stillThere = owned.filter((path) => valueAt(after, path) !== undefined);
  if (changed.length === 0 && previous === undefined) return withEntries(after, entries);
  entries = entries.filter((entry) => entry !== previous);
  entries.push({
    manager,
    operation: 'Update',
    apiVersion,
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(stillThere),
    ...(subresource !== undefined ? { subresource } : {}),
  });
  return withEntries(after, entries);
}

/** Managers that own at least one field of `object`, for assertions. */
export function managersOf(object: JsonObject): string[] {
  return entriesOf(object).map((entry) => entry.manager);
}
