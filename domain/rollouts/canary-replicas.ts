// Replica arithmetic of a replica-weighted canary, with Argo Rollouts' semantics:
// both sides round up (so neither drops to zero at a partial weight), the total
// stays within replicas + maxSurge (one more when both sides rounded up), and
// availability never falls below replicas - maxUnavailable. Pure and deterministic.

export interface ReplicaCounts {
  specReplicas: number;
  availableReplicas: number;
  /** status.replicas (pods created), when known. */
  replicas?: number;
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

// ---- Traffic-routed canaries (Argo's CalculateReplicaCountsForTrafficRoutedCanary) ----
// The router carries the split, so replicas only have to carry the traffic they get:
// the canary is sized from the weight (or a setCanaryScale step), the stable side stays
// at full size unless dynamicStableScale shrinks it with the traffic it still receives.

/** ceil(replicas * weight / 100) in integers: the pods a traffic weight needs. */
export const replicasForWeight = (replicas: number, weight: number) => Math.ceil((replicas * weight) / 100);

/** minPodsPerReplicaSet: a side that runs at all runs at least that many pods (capped at replicas). */
export function atLeastMinPods(count: number, minPods: number | undefined, replicas: number): number {
  if (count === 0 || minPods === undefined) return count;
  return Math.max(count, Math.min(minPods, replicas));
}

export interface TrafficRoutedScaleInput {
  replicas: number;
  /** Canary weight the replicas are sized for (a setWeight's, or a setCanaryScale weight). */
  weight: number;
  /** setCanaryScale.replicas: a fixed canary size, taken as given. */
  fixedCanaryReplicas?: number;
  /** The weight is a setCanaryScale's: the canary is sized apart from its traffic, on purpose. */
  canaryScaleWeight?: boolean;
  /** With the canary sized apart, the canary weight the step's setWeight sends (the stable takes the rest). */
  trafficWeight?: number;
  minPodsPerReplicaSet?: number;
  dynamicStableScale: boolean;
  aborted: boolean;
  /** The canary weight the router has now (status.canary.weights), when known. */
  routerCanaryWeight?: number;
}

export function trafficRoutedCanaryCounts(input: TrafficRoutedScaleInput): CanaryScale {
  const { replicas, weight, minPodsPerReplicaSet: minPods } = input;
  let canary = input.fixedCanaryReplicas ?? atLeastMinPods(replicasForWeight(replicas, weight), minPods, replicas);
  if (!input.dynamicStableScale) return { canary, stable: replicas };
  // dynamicStableScale: each side keeps the pods for the larger of the traffic it is
  // meant to get and the traffic the router still sends it, so traffic never lands on
  // a side that has already shrunk (the stable going up, or the canary on an abort).
  // A canary sized apart says nothing of the traffic: the stable side is sized for the
  // larger of the two shares, or a setWeight going down would wait on a stable never grown.
  let stable = replicasForWeight(replicas, 100 - Math.min(weight, input.trafficWeight ?? weight));
  if (input.routerCanaryWeight !== undefined) {
    stable = Math.max(stable, replicasForWeight(replicas, 100 - input.routerCanaryWeight));
    // Argo keeps the canary up for its traffic only on an abort; a setWeight going down
    // (50 then 0) would otherwise cut the canary while the router still sends it traffic.
    const sizedApart = input.fixedCanaryReplicas !== undefined || input.canaryScaleWeight;
    if (input.aborted || !sizedApart) canary = Math.max(canary, replicasForWeight(replicas, input.routerCanaryWeight));
  }
  return { canary: atLeastMinPods(canary, minPods, replicas), stable: atLeastMinPods(stable, minPods, replicas) };
}

/**
 * Argo's AtDesiredReplicaCountsForCanary with a router: the canary at its count and all
 * available; the stable side (unless it scales dynamically) at its count and created.
 * Older ReplicaSets do not matter: the router sends them nothing.
 */
export function atTrafficRoutedCounts(input: TrafficRoutedScaleInput, canary: ReplicaCounts | undefined, stable: ReplicaCounts | undefined): boolean {
  const desired = trafficRoutedCanaryCounts(input);
  if (!canary || canary.specReplicas !== desired.canary || canary.availableReplicas !== desired.canary) return false;
  if (input.dynamicStableScale) return true;
  return !!stable && stable.specReplicas === desired.stable && (stable.replicas ?? stable.specReplicas) === desired.stable;
}

/**
 * The canary weight an abort with dynamicStableScale sizes replicas for (Argo's
 * GetDesiredCanaryWeight): walking the setWeight steps backwards, the first whose
 * pods are fewer than the canary still carries, so the canary shrinks step by step as
 * the stable side comes back, never all at once.
 */
export function abortStepDownWeight(opts: {
  replicas: number;
  setWeights: number[];
  stableAvailable: number;
  canaryAvailable: number;
  /**
   * The canary's size does not follow its traffic: abortScaleDownDelaySeconds set (it waits at
   * full size for its deadline), or a setCanaryScale that abortScaleDownDelaySeconds 0 keeps.
   * Only the stable side's pods then say how far traffic may step down; counting the canary's
   * (as Argo does) would hold its traffic above 0 for as long as it is kept.
   */
  canaryHeldApart: boolean;
  minPodsPerReplicaSet?: number;
}): number {
  const expected = opts.replicas - opts.stableAvailable;
  const carrying = opts.canaryHeldApart ? expected : Math.max(expected, opts.canaryAvailable);
  for (let i = opts.setWeights.length - 1; i >= 0; i--) {
    // Counted with minPodsPerReplicaSet, as the canary would be sized: a weight whose pods the
    // minimum raises to what the canary carries is no step down (Argo stops there for good).
    if (atLeastMinPods(replicasForWeight(opts.replicas, opts.setWeights[i]), opts.minPodsPerReplicaSet, opts.replicas) < carrying) return opts.setWeights[i];
  }
  return 0;
}

/**
 * The router's canary weight during an abort with dynamicStableScale (Argo's
 * calculateDesiredWeightOnAbortOrStableRollback): traffic moves back to stable only as
 * fast as stable pods become available, and never goes back up.
 */
export function abortRouterWeight(opts: { replicas: number; stepDownWeight: number; stableAvailable: number; currentCanaryWeight?: number }): number {
  if (opts.replicas === 0) return 0;
  const stableWeight = Math.floor((100 * opts.stableAvailable) / opts.replicas);
  const expected = Math.max(0, 100 - stableWeight);
  const current = opts.currentCanaryWeight;
  if (current === undefined) return Math.max(expected, opts.stepDownWeight);
  if (opts.stepDownWeight <= 0) return Math.min(expected, current);
  if (stableWeight < 100 - opts.stepDownWeight) return current; // stable still scaling up
  return Math.min(opts.stepDownWeight, current);
}

/** Argo's checkReplicasAvailable: the stable side can take 100 - weight of the traffic. */
export function stableCanTake(replicas: number, canaryWeight: number, stableAvailable: number): boolean {
  return stableAvailable >= Math.floor(((100 - canaryWeight) * replicas) / 100);
}
