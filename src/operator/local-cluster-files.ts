/**
 * The files that stand in for the Kubernetes API objects of one local cluster, all under one
 * directory ROOT: the custom resource (`raftcluster.json`), its status subresource
 * (`status.json`), the "StatefulSet" (`statefulset.json`) and the event log (`events.log`).
 * Owns their layout, their validation and atomic writes (temp file + rename, so a reader never
 * sees half a file). It starts no process and knows nothing of pods (local-pod-process.ts).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

import { RaftkvError } from '../common/index.js';
import type { InitialClusterState } from './platform.js';
import {
  RAFT_CLUSTER_API_VERSION,
  RAFT_CLUSTER_KIND,
  REPLICAS_MAX,
  type RaftCluster,
  type RaftClusterSpec,
  type RaftClusterStatus,
} from './raft-cluster.js';

/** The namespace every local cluster lives in (its key is `local/NAME`). */
export const LOCAL_NAMESPACE = 'local';

/**
 * Longest cluster name: pod names `NAME-K` are host names (63 characters) and Kubernetes keeps
 * StatefulSet names to 52 so that `NAME-<hash>` revisions fit; the same rule keeps local and
 * Kubernetes names interchangeable.
 */
export const CLUSTER_NAME_LENGTH_MAX = 52;
const CLUSTER_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where each file of the local cluster at `root` lives. */
export interface LocalClusterPaths {
  readonly root: string;
  /** The custom resource: a full RaftCluster object without status. */
  readonly cluster: string;
  /** The status subresource. */
  readonly status: string;
  /** The StatefulSet stand-in ({@link LocalStatefulSet}). */
  readonly statefulSet: string;
  /** One JSON line per event ({@link LocalEventRecord}). */
  readonly events: string;
  /** One state file per pod, `NAME-K.json`. */
  readonly pods: string;
  /** One log file per pod, `NAME-K.log`, appended across restarts. */
  readonly logs: string;
  /** One data directory per ordinal, `NAME-K`: the volume claims. */
  readonly data: string;
}

/** The file layout under `root`. */
export function localClusterPaths(root: string): LocalClusterPaths {
  const absolute = path.resolve(root);
  return {
    root: absolute,
    cluster: path.join(absolute, 'raftcluster.json'),
    status: path.join(absolute, 'status.json'),
    statefulSet: path.join(absolute, 'statefulset.json'),
    events: path.join(absolute, 'events.log'),
    pods: path.join(absolute, 'pods'),
    logs: path.join(absolute, 'logs'),
    data: path.join(absolute, 'data'),
  };
}

/** The StatefulSet of a local cluster: what the pod processes should be. */
export interface LocalStatefulSet {
  /** Ordinals [0, replicas) should run. */
  readonly replicas: number;
  /** `--initial-cluster-size` of every pod. */
  readonly initialReplicas: number;
  /** `--initial-cluster-state` of pods started from now on. */
  readonly initialClusterState: InitialClusterState;
  /** `metadata.uid` of the RaftCluster that owns it. */
  readonly ownerUid: string;
}

/** One line of `events.log`. */
export interface LocalEventRecord {
  /** RFC 3339 time. */
  readonly time: string;
  /** `namespace/name` of the cluster. */
  readonly cluster: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** A file of a local cluster exists but does not hold what it should. */
export class LocalClusterFileError extends RaftkvError {
  readonly code = 'LOCAL_CLUSTER_FILE_INVALID';
  readonly file: string;
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(
      `${file}: ${detail}`,
      'Restore the file or delete the cluster directory and create the cluster again.',
      options,
    );
    this.file = file;
  }
}

/** There is no cluster at a root (no `raftcluster.json`). */
export class LocalClusterNotFoundError extends RaftkvError {
  readonly code = 'LOCAL_CLUSTER_NOT_FOUND';
  readonly root: string;
  constructor(root: string) {
    super(
      `no local cluster in ${root} (no raftcluster.json)`,
      'Create it first (raftkv local start), or point at the right directory.',
    );
    this.root = root;
  }
}

/** A cluster name or spec that the CRD's schema would refuse. */
export class LocalClusterSpecError extends RaftkvError {
  readonly code = 'LOCAL_CLUSTER_SPEC_INVALID';
  constructor(detail: string) {
    super(detail, 'Fix the value; the limits are those of the RaftCluster CRD (decision 0011).');
  }
}

/**
 * Writes `value` as JSON to `file` atomically: a reader sees the old or the new content, never
 * a mix, and a crash leaves at most a stray temp file beside it.
 */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temporary = temporaryPath(file);
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Creates `file` with `value` unless it exists; returns false if it did. Atomic like
 * {@link writeJsonAtomic}, and exclusive: of two concurrent creators exactly one wins.
 */
async function createJsonExclusive(file: string, value: unknown): Promise<boolean> {
  const temporary = temporaryPath(file);
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  try {
    // link() refuses an existing target, unlike rename(): that makes the create exclusive.
    await link(temporary, file);
    return true;
  } catch (error) {
    if (isErrorCode(error, 'EEXIST')) return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** The text of `file`, or undefined if it does not exist. */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** `JSON.parse(text)`, or a {@link LocalClusterFileError} naming `file`. */
export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new LocalClusterFileError(file, 'not valid JSON', { cause: error });
  }
}

/** True when `error` is a Node system error with this `code` (ENOENT, EEXIST, ...). */
export function isErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * Creates the cluster `name` at `root` (generation 1, a new uid) unless `root` already holds
 * one; returns the cluster that is there afterwards, with its status. An existing cluster is
 * left as it is, even if its name or spec differ: the caller compares.
 */
export async function createLocalCluster(
  root: string,
  name: string,
  spec: RaftClusterSpec,
): Promise<RaftCluster> {
  checkClusterName(name);
  checkSpec(spec);
  const paths = localClusterPaths(root);
  await mkdir(paths.root, { recursive: true });
  const cluster: RaftCluster = {
    apiVersion: RAFT_CLUSTER_API_VERSION,
    kind: RAFT_CLUSTER_KIND,
    metadata: {
      name,
      namespace: LOCAL_NAMESPACE,
      uid: randomUUID(),
      generation: 1,
      creationTimestamp: rfc3339Seconds(new Date()),
    },
    spec,
  };
  await createJsonExclusive(paths.cluster, cluster);
  return readLocalCluster(root);
}

/**
 * Applies `patch` to the spec as a JSON merge patch (RFC 7386, what `kubectl patch --type=merge`
 * does: objects merge key by key, `null` removes a key) and bumps `metadata.generation` if the
 * spec changed. Returns the cluster afterwards. Not safe against a concurrent updater of the same
 * root (read-modify-write); one person scales one local cluster at a time.
 */
export async function updateLocalClusterSpec(
  root: string,
  patch: Readonly<Record<string, unknown>>,
): Promise<RaftCluster> {
  const paths = localClusterPaths(root);
  const current = await readClusterResource(paths);
  if (current === undefined) throw new LocalClusterNotFoundError(paths.root);
  const spec = mergePatch(current.spec, patch) as RaftClusterSpec;
  checkSpec(spec);
  if (JSON.stringify(spec) !== JSON.stringify(current.spec)) {
    const { status: _status, ...resource } = current;
    const generation = (current.metadata.generation ?? 1) + 1;
    await writeJsonAtomic(paths.cluster, {
      ...resource,
      metadata: { ...current.metadata, generation },
      spec,
    });
  }
  return readLocalCluster(root);
}

/** The cluster at `root` with its status merged in; {@link LocalClusterNotFoundError} if none. */
export async function readLocalCluster(root: string): Promise<RaftCluster> {
  const paths = localClusterPaths(root);
  const cluster = await readClusterResource(paths);
  if (cluster === undefined) throw new LocalClusterNotFoundError(paths.root);
  const status = await readLocalClusterStatus(root);
  return status === undefined ? cluster : { ...cluster, status };
}

/** The custom resource at `paths.cluster` without status, or undefined if absent. */
export async function readClusterResource(
  paths: LocalClusterPaths,
): Promise<RaftCluster | undefined> {
  const text = await readTextIfExists(paths.cluster);
  return text === undefined ? undefined : parseClusterResource(paths.cluster, text);
}

/** Checks the parsed text of `raftcluster.json` (the fields the operator relies on). */
export function parseClusterResource(file: string, text: string): RaftCluster {
  const value = parseJson(file, text);
  if (!isRecord(value)) throw new LocalClusterFileError(file, 'not a JSON object');
  if (value['apiVersion'] !== RAFT_CLUSTER_API_VERSION || value['kind'] !== RAFT_CLUSTER_KIND) {
    throw new LocalClusterFileError(file, `not a ${RAFT_CLUSTER_API_VERSION} ${RAFT_CLUSTER_KIND}`);
  }
  const metadata = value['metadata'];
  if (
    !isRecord(metadata) ||
    typeof metadata['name'] !== 'string' ||
    typeof metadata['namespace'] !== 'string' ||
    typeof metadata['uid'] !== 'string'
  ) {
    throw new LocalClusterFileError(file, 'metadata needs name, namespace and uid strings');
  }
  if (!isRecord(value['spec'])) throw new LocalClusterFileError(file, 'spec is not an object');
  const { status: _status, ...resource } = value;
  return resource as unknown as RaftCluster;
}

/** The status at `root`, or undefined if none was written yet. */
export async function readLocalClusterStatus(root: string): Promise<RaftClusterStatus | undefined> {
  const file = localClusterPaths(root).status;
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const value = parseJson(file, text);
  if (!isRecord(value)) throw new LocalClusterFileError(file, 'not a JSON object');
  return value as RaftClusterStatus;
}

/** Replaces the status at `root` (the status subresource: nothing else writes this file). */
export async function writeLocalClusterStatus(
  root: string,
  status: RaftClusterStatus,
): Promise<void> {
  const paths = localClusterPaths(root);
  await mkdir(paths.root, { recursive: true });
  await writeJsonAtomic(paths.status, status);
}

/** The StatefulSet at `root`, or undefined if none was applied yet. */
export async function readLocalStatefulSet(root: string): Promise<LocalStatefulSet | undefined> {
  const file = localClusterPaths(root).statefulSet;
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const value = parseJson(file, text);
  if (
    !isRecord(value) ||
    !isNonNegativeInteger(value['replicas']) ||
    !isNonNegativeInteger(value['initialReplicas']) ||
    typeof value['ownerUid'] !== 'string'
  ) {
    throw new LocalClusterFileError(file, 'needs replicas, initialReplicas and ownerUid');
  }
  return {
    replicas: value['replicas'],
    initialReplicas: value['initialReplicas'],
    // Written before the state was recorded: the cluster was founded by then.
    initialClusterState: value['initialClusterState'] === 'new' ? 'new' : 'existing',
    ownerUid: value['ownerUid'],
  };
}

/** Replaces the StatefulSet at `root`. */
export async function writeLocalStatefulSet(
  root: string,
  statefulSet: LocalStatefulSet,
): Promise<void> {
  const paths = localClusterPaths(root);
  await mkdir(paths.root, { recursive: true });
  await writeJsonAtomic(paths.statefulSet, statefulSet);
}

/** Appends one event line to `events.log` (one write of one line: lines never interleave). */
export async function appendLocalEvent(root: string, event: LocalEventRecord): Promise<void> {
  const paths = localClusterPaths(root);
  await mkdir(paths.root, { recursive: true });
  await appendFile(paths.events, `${JSON.stringify(event)}\n`);
}

/** `date` as RFC 3339 with seconds precision, as Kubernetes writes times. */
export function rfc3339Seconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Refuses a name that cannot be a StatefulSet's (and so the pods' host names). */
export function checkClusterName(name: string): void {
  if (name.length > CLUSTER_NAME_LENGTH_MAX || !CLUSTER_NAME_PATTERN.test(name)) {
    throw new LocalClusterSpecError(
      `cluster name "${name}" must be at most ${CLUSTER_NAME_LENGTH_MAX} characters of a-z, 0-9 ` +
        "and '-', starting and ending with a letter or digit",
    );
  }
}

/** The CRD's admission checks that matter locally. */
function checkSpec(spec: RaftClusterSpec): void {
  if (!isRecord(spec)) throw new LocalClusterSpecError('spec must be an object');
  const replicas: unknown = spec.replicas;
  const isValid =
    replicas === undefined ||
    (typeof replicas === 'number' &&
      Number.isInteger(replicas) &&
      replicas >= 1 &&
      replicas <= REPLICAS_MAX);
  if (!isValid) {
    throw new LocalClusterSpecError(`spec.replicas must be an integer from 1 to ${REPLICAS_MAX}`);
  }
}

/** RFC 7386 JSON merge patch of `target` by `patch`. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** A temp file beside `file`, unique per process and call. */
function temporaryPath(file: string): string {
  return `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
}
