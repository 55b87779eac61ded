/**
 * `LeaseStore` on a coordination.k8s.io/v1 Lease (one name in one namespace), for the operator's
 * leader election. Owns the mapping between `LeaseRecord` and the Lease object, MicroTime
 * included: the API server parses `acquireTime` / `renewTime` with exactly six fractional digits,
 * which only client-node's `V1MicroTime` writes; it reads them back as strings.
 * It decides nothing about who leads (lease-elector.ts does).
 */
import {
  CoordinationV1Api,
  type KubeConfig,
  type V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';

import { isConflict, isNotFound } from './kubernetes-errors.js';
import { LeaseConflictError, type LeaseRecord, type LeaseStore } from './platform.js';

export interface KubernetesLeaseStoreOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  /** The Lease's name, e.g. `raftkv-operator`. */
  readonly name: string;
}

/** The Kubernetes implementation of {@link LeaseStore}. */
export class KubernetesLeaseStore implements LeaseStore {
  private readonly coordination: CoordinationV1Api;
  private readonly namespace: string;
  private readonly name: string;

  constructor(options: KubernetesLeaseStoreOptions) {
    this.coordination = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.namespace = options.namespace;
    this.name = options.name;
  }

  async get(): Promise<LeaseRecord | null> {
    try {
      return recordOf(
        await this.coordination.readNamespacedLease({ namespace: this.namespace, name: this.name }),
      );
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord> {
    try {
      return recordOf(
        await this.coordination.createNamespacedLease({
          namespace: this.namespace,
          body: this.leaseOf(record, undefined),
        }),
      );
    } catch (error) {
      if (isConflict(error)) throw new LeaseConflictError(`lease ${this.key()} already exists`);
      throw error;
    }
  }

  async replace(record: LeaseRecord): Promise<LeaseRecord> {
    try {
      return recordOf(
        await this.coordination.replaceNamespacedLease({
          namespace: this.namespace,
          name: this.name,
          body: this.leaseOf(record, record.resourceVersion),
        }),
      );
    } catch (error) {
      if (isConflict(error)) {
        throw new LeaseConflictError(`lease ${this.key()} changed since ${record.resourceVersion}`);
      }
      // Deleted since it was read: as stale as a changed one; the elector reads it again.
      if (isNotFound(error)) throw new LeaseConflictError(`lease ${this.key()} was deleted`);
      throw error;
    }
  }

  private key(): string {
    return `${this.namespace}/${this.name}`;
  }

  private leaseOf(
    record: Omit<LeaseRecord, 'resourceVersion'>,
    resourceVersion: string | undefined,
  ): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: new V1MicroTime(record.acquireTimeMs),
        renewTime: new V1MicroTime(record.renewTimeMs),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}

/** Reads a Lease; absent fields read as an empty, expired lease. */
export function recordOf(lease: V1Lease): LeaseRecord {
  const spec = lease.spec;
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTimeMs: microTimeMs(spec?.acquireTime),
    renewTimeMs: microTimeMs(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

/**
 * Milliseconds of a MicroTime as client-node hands it over: typed as a Date, but the generated
 * deserializer leaves the server's string (`…T10:00:00.123456Z`) as it is. Absent → 0.
 */
export function microTimeMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return 0;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}
