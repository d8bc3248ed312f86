// Readings of a RolloutSnapshot that every strategy needs.
import type { ReplicaSetState, RolloutSnapshot, RolloutStatus, ServiceState } from './types';
import { POD_TEMPLATE_HASH_LABEL } from '../argo/names';

export const replicasOf = (snap: RolloutSnapshot) => snap.spec.replicas ?? 1;

export function selectorString(snap: RolloutSnapshot): string {
  return Object.entries(snap.spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function imageOf(snap: RolloutSnapshot): string {
  const containers = (snap.spec.template?.spec as { containers?: { image?: string }[] } | undefined)?.containers;
  return containers?.[0]?.image ?? '';
}

export function serviceNamed(snap: RolloutSnapshot, name: string | undefined): ServiceState | undefined {
  return name ? snap.services.find((s) => s.name === name) : undefined;
}

export const selectedHash = (svc: ServiceState | undefined) => svc?.selector[POD_TEMPLATE_HASH_LABEL];

/**
 * The counts as histories before `argo-canary-scale` saw them: a ReplicaSet the
 * controller has not caught up with had its available count capped at the new spec,
 * which made a stable side just told to shrink look shrunk already.
 */
export function counts(rs: ReplicaSetState | undefined) {
  return (
    rs && {
      specReplicas: rs.specReplicas,
      replicas: rs.replicas,
      availableReplicas: rs.observed ? rs.availableReplicas : Math.min(rs.availableReplicas, rs.specReplicas),
    }
  );
}

/** The counts as the ReplicaSet reports them, as Argo compares them: a step holds only once the pods really are gone. */
export function exactCounts(rs: ReplicaSetState | undefined) {
  return rs && { specReplicas: rs.specReplicas, replicas: rs.replicas, availableReplicas: rs.availableReplicas };
}

export function fullyAvailable(rs: ReplicaSetState | undefined, replicas: number): boolean {
  return !!rs && rs.observed && rs.specReplicas === replicas && rs.availableReplicas >= replicas;
}

export function replicaTotals(
  snap: RolloutSnapshot,
  updated: ReplicaSetState | undefined,
): Pick<RolloutStatus, 'replicas' | 'updatedReplicas' | 'readyReplicas' | 'availableReplicas'> {
  const sum = (f: (rs: ReplicaSetState) => number) => snap.replicaSets.reduce((n, rs) => n + f(rs), 0);
  return {
    replicas: sum((rs) => rs.replicas),
    updatedReplicas: updated?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.readyReplicas),
    availableReplicas: sum((rs) => rs.availableReplicas),
  };
}

export const nextRevision = (snap: RolloutSnapshot) => Math.max(0, ...snap.replicaSets.map((rs) => rs.revision)) + 1;
