// The runaway guard for Applications (Argo CD has none): with selfHeal on, an Application
// whose resources something else keeps changing back (another controller, a mutating
// webhook, an HPA on a replica count Git also sets) is synced every few seconds for ever.
// The workflow remembers its recent self-heal syncs; when it would re-apply the same
// resource more than SELF_HEAL_LOOP_LIMIT times within SELF_HEAL_LOOP_WINDOW_MS for the
// same revision and spec, it stops self-healing and says which resource flaps. A new
// revision, a change of the Application's spec or a manual sync lets go.

/** More self-heals of one resource than this, within the window, is a loop. */
export const SELF_HEAL_LOOP_LIMIT = 10;
export const SELF_HEAL_LOOP_WINDOW_MS = 5 * 60_000;
/** The most self-heals kept (a bound on the state carried across continueAsNew). */
const SELF_HEALS_KEPT = 50;
export const RECONCILE_LOOP_REASON = 'ReconcileLoop';

/** One self-heal sync: what it re-applied, at which revision and spec. */
export interface SelfHeal {
  revision: string;
  specKey: string;
  atMs: number;
  /** `group/kind/namespace/name` of the resources it found out of sync. */
  resources: string[];
}

/** The guard's stop: where the Application stood, and why. */
export interface SelfHealLoop {
  revision: string;
  specKey: string;
  resource: string;
  message: string;
}

/** A Warning Event the workflow records on its Application, named from the workflow's clock so a retry finds it. */
export interface ApplicationEvent {
  name: string;
  reason: string;
  message: string;
  at: string;
}

/** A short stable key of the Application's spec (FNV-1a of its JSON): a change of the spec is a change of the key. */
export function specKeyOf(spec: unknown): string {
  const text = JSON.stringify(spec ?? {});
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

/** The self-heals kept after `added`: those in the window, the newest SELF_HEALS_KEPT. */
export function rememberSelfHeal(kept: readonly SelfHeal[], added: SelfHeal, nowMs: number): SelfHeal[] {
  return [...kept, added].filter((h) => h.atMs > nowMs - SELF_HEAL_LOOP_WINDOW_MS).slice(-SELF_HEALS_KEPT);
}

/**
 * The loop, if the self-heals kept show one: a resource re-applied more than
 * SELF_HEAL_LOOP_LIMIT times in the window at the latest self-heal's revision and spec.
 */
export function detectSelfHealLoop(heals: readonly SelfHeal[], nowMs: number): SelfHealLoop | undefined {
  const latest = heals[heals.length - 1];
  if (!latest) return undefined;
  const same = heals.filter((h) => h.atMs > nowMs - SELF_HEAL_LOOP_WINDOW_MS && h.revision === latest.revision && h.specKey === latest.specKey);
  const counts = new Map<string, number>();
  for (const h of same) for (const r of h.resources) counts.set(r, (counts.get(r) ?? 0) + 1);
  let worst: [string, number] | undefined;
  for (const [resource, n] of counts) if (n > SELF_HEAL_LOOP_LIMIT && (!worst || n > worst[1])) worst = [resource, n];
  if (!worst) return undefined;
  const [resource, n] = worst;
  const minutes = SELF_HEAL_LOOP_WINDOW_MS / 60_000;
  return {
    revision: latest.revision,
    specKey: latest.specKey,
    resource,
    message:
      `self-heal stopped: ${resource} drifted from Git again after ${n - 1} self-heal syncs within ${minutes} min at revision ${latest.revision.slice(0, 7)}; ` +
      'something else keeps changing it. A new revision, a change of the Application or a manual sync resumes self-heal',
  };
}

/** Whether the stop still holds: the Application is at the revision and spec it stopped at. */
export function selfHealLoopHolds(loop: SelfHealLoop, revision: string | undefined, specKey: string): boolean {
  return loop.revision === (revision ?? '') && loop.specKey === specKey;
}
