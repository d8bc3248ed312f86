// Code generations, beside patches. In a new run, every patched() call records a marker
// and makes the SDK upsert the TemporalChangeVersion search attribute (one more event and
// a visibility write per patch): about eight for a new Application's first sync, a few
// per rollout and AnalysisRun. A run started by this code carries `generation` in its
// input and takes the changes its generation lists without asking; the input is in the
// history, so a replay takes them too. Runs started before (no generation) still ask
// patched(), so their histories replay as recorded. A new change is made with a patch as
// before; it joins a generation only when the next one is cut.
import { patched } from '@temporalio/workflow';

const GENERATIONS: readonly (readonly string[])[] = [
  [], // 0: runs started before generations existed ask about every change
  [
    // applications and their syncs
    'sync-windows',
    'app-local-pass',
    'app-one-step-pass',
    'app-sync-covers-own-nudges',
    'app-decide-after-sync',
    'app-keeps-reconcile-timer',
    'sync-local-steps',
    'prune-confirm',
    // rollouts
    'local-reconcile',
    'argo-canary-scale',
    'batched-reconcile',
    'reobserve-after-actions',
    // analysis runs
    'analysis-status-after-commit',
    'analysis-measure-on-time',
  ],
  ['app-post-sync-one-step'],
];

/** The generation runs started by this code carry. */
export const CURRENT_GENERATION = GENERATIONS.length - 1;

/** Whether a run of `generation` has the change `patch`: known from its generation, else asked with patched(). */
export function hasChange(generation: number | undefined, patch: string): boolean {
  for (let g = Math.min(generation ?? 0, CURRENT_GENERATION); g >= 1; g--) if (GENERATIONS[g]!.includes(patch)) return true;
  return patched(patch);
}
