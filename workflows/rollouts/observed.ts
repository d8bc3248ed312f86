// Readings of a RolloutSnapshot that every strategy needs.
import type { ReplicaSetState, RolloutSnapshot, RolloutStatus, ServiceState } from './types';
import { POD_TEMPLATE_HASH_LABEL } from './types';

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

/** Available counts only once the ReplicaSet controller has seen the latest spec. */
export function counts(rs: ReplicaSetState | undefined) {
  return rs && { specReplicas: rs.specReplicas, replicas: rs.replicas, availableReplicas: rs.observed ? rs.availableReplicas : Math.min(rs.availableReplicas, rs.specReplicas) };
}

export function fullyAvailable(rs: ReplicaSetState | undefined, replicas: number): boolean {
  return !!rs && rs.observed && rs.specReplicas === replicas && rs.availableReplicas >= replicas;
}

export function replicaTotals(snap: RolloutSnapshot, updated: ReplicaSetState | undefined): Pick<RolloutStatus, 'replicas' | 'updatedReplicas' | 'readyReplicas' | 'availableReplicas'> {
  const sum = (f: (rs: ReplicaSetState) => number) => snap.replicaSets.reduce((n, rs) => n + f(rs), 0);
  return {
    replicas: sum((rs) => rs.replicas),
    updatedReplicas: updated?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.readyReplicas),
    availableReplicas: sum((rs) => rs.availableReplicas),
  };
}

export const nextRevision = (snap: RolloutSnapshot) => Math.max(0, ...snap.replicaSets.map((rs) => rs.revision)) + 1;
