// The ImageUpdateError condition on an Application: what the image-update workflow could
// not do (bad annotations, a registry down or refusing credentials, a write-back target
// that is not there), naming each image and cause. The image workflow owns this one
// condition; the Application's status writer owns the others and keeps this one as it is.

export const IMAGE_UPDATE_CONDITION = 'ImageUpdateError';

export interface Condition {
  type: string;
  message?: string;
  lastTransitionTime?: string;
  [k: string]: unknown;
}

/** One message for all problems (deduplicated, in order), or undefined when there are none. */
export function imageConditionMessage(problems: readonly string[]): string | undefined {
  const unique = [...new Set(problems.filter((p) => p !== ''))];
  return unique.length > 0 ? unique.join('; ') : undefined;
}

/** The live ImageUpdateError message, if the Application has one. */
export function imageConditionIn(conditions: readonly Condition[] | null | undefined): string | undefined {
  const c = (conditions ?? []).find((x) => x?.type === IMAGE_UPDATE_CONDITION);
  return c ? (c.message ?? '') : undefined;
}

/** The conditions with ImageUpdateError set to `message` (removed when undefined); null when none remain, as Argo CD leaves them. */
export function withImageCondition(conditions: readonly Condition[] | null | undefined, message: string | undefined, atIso: string): Condition[] | null {
  const others = (conditions ?? []).filter((c) => c?.type !== IMAGE_UPDATE_CONDITION);
  const out = message === undefined ? others : [...others, { type: IMAGE_UPDATE_CONDITION, message, lastTransitionTime: atIso }];
  return out.length > 0 ? out : null;
}

/** The conditions the Application's status writer projects, plus the live ImageUpdateError it does not own. */
export function keepImageCondition(next: readonly Condition[] | null, live: readonly Condition[] | null | undefined): Condition[] | null {
  const kept = (live ?? []).filter((c) => c?.type === IMAGE_UPDATE_CONDITION);
  if (kept.length === 0) return next ? [...next] : null;
  return [...(next ?? []).filter((c) => c.type !== IMAGE_UPDATE_CONDITION), ...kept];
}
