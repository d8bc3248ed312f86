// Which size the canary ReplicaSet should have at a step, as Argo Rollouts decides it
// (GetCanaryReplicasOrWeight / UseSetCanaryScale): derived from the spec and the step
// index alone, so it needs no state of its own to survive continueAsNew or a restart.
import type { CanaryStep } from './types';

export type SetCanaryScale = NonNullable<CanaryStep['setCanaryScale']>;

/** The weight of the last setWeight at or before `index`; 0 before any. */
export function setWeightAt(steps: CanaryStep[], index: number): number {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    if (steps[i].setWeight !== undefined) return steps[i].setWeight!;
  }
  return 0;
}

/**
 * The setCanaryScale in force at `index`: the last one at or before it, until a
 * `matchTrafficWeight: true` cancels it. Past the last step none applies. Only traffic
 * routing runs it (validation refuses it otherwise).
 */
export function canaryScaleAt(steps: CanaryStep[], index: number): SetCanaryScale | undefined {
  if (index >= steps.length) return undefined;
  for (let i = index; i >= 0; i--) {
    const scs = steps[i].setCanaryScale;
    if (scs === undefined) continue;
    return scs.matchTrafficWeight ? undefined : scs;
  }
  return undefined;
}

export function canaryScaleLabel(scs: SetCanaryScale): string {
  if (scs.matchTrafficWeight) return 'setCanaryScale matchTrafficWeight';
  if (scs.replicas !== undefined) return `setCanaryScale replicas ${scs.replicas}`;
  if (scs.weight !== undefined) return `setCanaryScale weight ${scs.weight}`;
  return 'setCanaryScale';
}
