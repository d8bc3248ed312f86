// maxSurge / maxUnavailable as Kubernetes Deployments and Argo Rollouts read them.
import type { IntOrString } from '../rollouts/types';

/** Resolves "25%" or 3 against a total; percentages round up or down as asked. */
export function resolveIntOrPercent(value: IntOrString | undefined, total: number, roundUp: boolean, fallback: IntOrString): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v.trim());
  if (!m) {
    if (/^\d+$/.test(v.trim())) return Number(v.trim());
    throw new Error(`invalid value "${v}": expected an integer or a percentage`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function isValidIntOrPercent(value: IntOrString | undefined): boolean {
  if (value === undefined) return true;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0;
  return /^\d+%?$/.test(value.trim());
}

/**
 * The surge and unavailability budgets. Like Deployments, both zero would deadlock,
 * so unavailability becomes 1 then.
 */
export function rolloutBudgets(replicas: number, maxSurge?: IntOrString, maxUnavailable?: IntOrString): { maxSurge: number; maxUnavailable: number } {
  const surge = resolveIntOrPercent(maxSurge, replicas, true, '25%');
  let unavailable = resolveIntOrPercent(maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: Math.min(unavailable, replicas) };
}
