/**
 * Helpers of the Kubernetes platform tests: schema validation of stored objects with
 * kubernetes-models, a logger that records, polling until a condition holds, and a RaftCluster
 * fixture. Test support only.
 */
import type { LogFields, Logger } from '../../src/common/index.js';

/** Loads the kubernetes-models class of `kind`. */
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  StatefulSet: () => import('kubernetes-models/apps/v1/StatefulSet'),
  Service: () => import('kubernetes-models/v1/Service'),
  ConfigMap: () => import('kubernetes-models/v1/ConfigMap'),
  Event: () => import('kubernetes-models/v1/Event'),
  Pod: () => import('kubernetes-models/v1/Pod'),
  PersistentVolumeClaim: () => import('kubernetes-models/v1/PersistentVolumeClaim'),
  PodDisruptionBudget: () => import('kubernetes-models/policy/v1/PodDisruptionBudget'),
  Lease: () => import('kubernetes-models/coordination.k8s.io/v1/Lease'),
  ServiceMonitor: () =>
    import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor'),
};

/** Throws when `object` does not validate against its kind's schema. */
export async function validateManifest(object: unknown): Promise<void> {
  const kind = (object as { kind?: unknown }).kind;
  const load = typeof kind === 'string' ? MODELS[kind] : undefined;
  if (load === undefined) throw new Error(`no model for kind ${String(kind)}`);
  const Model = (await load())[kind as string] as new (data: unknown) => { validate(): void };
  new Model(JSON.parse(JSON.stringify(object))).validate();
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: LogFields;
  readonly message: string;
}

/** A logger that keeps every line. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(fields: LogFields, message: string): void {
    this.lines.push({ level: 'debug', fields, message });
  }
  info(fields: LogFields, message: string): void {
    this.lines.push({ level: 'info', fields, message });
  }
  warn(fields: LogFields, message: string): void {
    this.lines.push({ level: 'warn', fields, message });
  }
  error(fields: LogFields, message: string): void {
    this.lines.push({ level: 'error', fields, message });
  }
  /** Lines of `level` whose message contains `text`. */
  matching(level: LogLine['level'], text: string): LogLine[] {
    return this.lines.filter((line) => line.level === level && line.message.includes(text));
  }
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  description: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A RaftCluster manifest as a user would create it. */
export function raftClusterManifest(
  name: string,
  namespace: string,
  spec: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'raftkv.io/v1alpha1',
    kind: 'RaftCluster',
    metadata: { name, namespace },
    spec,
  };
}
