/**
 * `metav1.Condition` bookkeeping with apimachinery's `SetStatusCondition` semantics: a condition's
 * `lastTransitionTime` moves only when its status flips; reason, message and observed generation
 * follow every write. Pure.
 */
import type { Condition, ConditionStatus, ConditionType } from './raft-cluster.js';

export interface ConditionUpdate {
  readonly type: ConditionType;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/** The condition list after `updates`, keeping the transition time of unchanged statuses. */
export function setConditions(
  previous: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  observedGeneration: number,
  nowIso: string,
): Condition[] {
  const byType = new Map((previous ?? []).map((condition) => [condition.type, condition]));
  for (const update of updates) {
    const before = byType.get(update.type);
    byType.set(update.type, {
      ...update,
      message: update.message.slice(0, MESSAGE_CHARS_MAX),
      observedGeneration,
      lastTransitionTime:
        before !== undefined && before.status === update.status
          ? before.lastTransitionTime
          : nowIso,
    });
  }
  return [...byType.values()].sort((a, b) => ORDER.indexOf(a.type) - ORDER.indexOf(b.type));
}

/** The API server's limit on a condition message. */
const MESSAGE_CHARS_MAX = 32_768;
const ORDER: readonly ConditionType[] = ['Available', 'Progressing', 'Degraded'];

/** The named condition, if present. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** RFC 3339 with seconds precision, as Kubernetes writes times. */
export function kubernetesTime(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
