// Replica arithmetic of a replica-weighted canary, with Argo Rollouts' semantics:
// both sides round up (so neither drops to zero at a partial weight), the total
// stays within replicas + maxSurge (one more when both sides rounded up), and
// availability never falls below replicas - maxUnavailable. Pure and deterministic.

export interface ReplicaCounts {
  specReplicas: number;
  availableReplicas: number;
}

export interface CanaryScaleInput {
  replicas: number;
  /** Desired canary weight, 0..100. */
  weight: number;
  /** setCanaryScale.replicas: a fixed canary size (only with traffic routing). */
  fixedCanaryReplicas?: number;
  trafficRouted: boolean;
  maxSurge: number;
  maxUnavailable: number;
  canary?: ReplicaCounts;
  /** The stable ReplicaSet when it differs from the canary one. */
  stable?: ReplicaCounts;
  /** Every other ReplicaSet of the rollout (superseded canaries, older revisions). */
  others: ReplicaCounts[];
}

export interface CanaryScale {
  canary: number;
  stable: number;
}

/** The end state a step aims for. */
export function desiredCanaryCounts(input: Pick<CanaryScaleInput, 'replicas' | 'weight' | 'fixedCanaryReplicas' | 'trafficRouted' | 'stable'>): CanaryScale {
  const { replicas, weight } = input;
  if (input.fixedCanaryReplicas !== undefined) return { canary: input.fixedCanaryReplicas, stable: replicas };
  // Integer arithmetic: 10 * (1 - 0.3) is 7.000000000000001 in floating point.
  let canary = Math.ceil((replicas * weight) / 100);
  let stable = Math.ceil((replicas * (100 - weight)) / 100);
  if (!input.stable) {
    // Nothing stable to share with: the new ReplicaSet takes everything.
    canary = replicas;
    stable = 0;
  }
  if (input.trafficRouted) stable = replicas;
  return { canary, stable };
}

const sumSpec = (rss: ReplicaCounts[]) => rss.reduce((n, rs) => n + rs.specReplicas, 0);

/** The sizes to set now on the way to the step's end state. */
export function nextCanaryScale(input: CanaryScaleInput): CanaryScale {
  const { replicas, weight, canary, stable, others } = input;
  const desired = desiredCanaryCounts(input);
  if (input.fixedCanaryReplicas !== undefined) return desired;
  if (input.trafficRouted) return desired;

  let canaryCount = canary?.specReplicas ?? 0;
  let stableCount = stable?.specReplicas ?? 0;

  const bothRoundedUp = (replicas * weight) % 100 !== 0;
  const maxTotal = replicas + input.maxSurge + (bothRoundedUp ? 1 : 0);
  const current = sumSpec(others) + (canary?.specReplicas ?? 0) + (stable?.specReplicas ?? 0);
  let scaleUp = maxTotal - current;

  // Scale up: stable first, so it is never starved by the canary.
  if (stable && stable.specReplicas < desired.stable && scaleUp > 0) {
    const grow = Math.min(scaleUp, desired.stable - stable.specReplicas);
    stableCount = stable.specReplicas + grow;
    scaleUp -= grow;
  }
  if (canary && canary.specReplicas < desired.canary && scaleUp > 0) {
    canaryCount = canary.specReplicas + Math.min(scaleUp, desired.canary - canary.specReplicas);
  }

  // Older ReplicaSets go first; only then may the canary or stable shrink.
  if (sumSpec(others) > 0) return { canary: canaryCount, stable: stableCount };

  const minAvailable = replicas - input.maxUnavailable;
  const increasing = !canary || desired.canary >= canary.specReplicas;
  const countable = (rs: ReplicaCounts | undefined, ignoreAvailability: boolean) => {
    if (!rs) return 0;
    if (rs.specReplicas < rs.availableReplicas) return rs.specReplicas;
    return ignoreAvailability ? rs.specReplicas : rs.availableReplicas;
  };
  // Growing the canary: the stable side's availability is what must be protected,
  // and vice versa when shrinking it (an abort).
  const removable = countable(canary, !increasing) + countable(stable, increasing);
  if (removable <= minAvailable) return { canary: canaryCount, stable: stableCount };
  let scaleDown = removable - minAvailable;

  if (canary && canary.specReplicas > desired.canary) {
    const shrink = Math.min(scaleDown, canary.specReplicas - desired.canary);
    canaryCount = canary.specReplicas - shrink;
    scaleDown -= shrink;
  }
  if (stable && stable.specReplicas > desired.stable) {
    stableCount = stable.specReplicas - Math.min(scaleDown, stable.specReplicas - desired.stable);
  }
  return { canary: canaryCount, stable: stableCount };
}

/** True when the canary and stable sides sit at the step's end state, fully available. */
export function atDesiredCanaryCounts(input: CanaryScaleInput): boolean {
  const desired = desiredCanaryCounts(input);
  const { canary, stable, others } = input;
  if (!canary || canary.specReplicas !== desired.canary || canary.availableReplicas !== desired.canary) return false;
  if (stable && (stable.specReplicas !== desired.stable || stable.availableReplicas !== desired.stable)) return false;
  return others.every((rs) => rs.availableReplicas === 0);
}
