// One long-lived workflow per ApplicationSet (ID applicationset/<namespace>/<name>). Each pass
// generates and plans in one activity (the plan is domain/applicationsets/plan.ts, and it is
// empty whenever generation failed), creates and updates the Applications, deletes the ones no
// longer generated one at a time (each deletion, with what was deleted, is an event of this
// history), writes status, then sleeps until a nudge or the generators' requeueAfter.
// Under RollingSync the rollout's state (each Application's Waiting/Pending/Progressing/Healthy)
// is this workflow's own, carried across continueAsNew: a restart resumes it where it was.
import { allHandlersFinished, condition, continueAsNew, log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ApplicationSetActivities } from '../activities/applicationsets';
import { applicationSetNudgeSignal } from './definitions';
import { passConditions, resourcesStatus, type ApplicationSetCondition, type PassResult } from '../domain/applicationsets/status';
import { advanceRollout, rolloutCondition, type ApplicationProgress, type ObservedApplication } from '../domain/applicationsets/rolling-sync';
import { DEFAULT_REQUEUE_AFTER_SECONDS, type ApplicationSet } from '../domain/applicationsets/types';

const act = proxyActivities<ApplicationSetActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

export interface ApplicationSetWorkflowInput {
  namespace: string;
  name: string;
  conditions?: ApplicationSetCondition[];
  /** RollingSync state, carried across continueAsNew. */
  progress?: ApplicationProgress[];
}

const MAX_PASSES_PER_RUN = 200;
/** Waiting for the API server to finish deleting the ApplicationSet (its dependents first, in the foreground). */
const DELETING_POLL_MS = 5000;
/** How often a RollingSync in progress looks at its Applications between nudges. */
const ROLLOUT_POLL_MS = 3000;

export async function applicationSetWorkflow(input: ApplicationSetWorkflowInput): Promise<void> {
  const ref = { namespace: input.namespace, name: input.name };
  let dirty = true;
  let conditions = input.conditions ?? [];
  let progress = input.progress ?? [];
  setHandler(applicationSetNudgeSignal, () => {
    dirty = true;
  });

  for (let passes = 0; ; passes++) {
    dirty = false;
    const pass = await act.appSetPass({ ref });
    if (pass.gone) {
      log.info('applicationset deleted; workflow ends', { applicationSet: `${ref.namespace}/${ref.name}` });
      return;
    }
    if (pass.deleting) {
      // Deleting: Kubernetes' garbage collector removes the Applications through their
      // ownerReferences; a policy that may not delete keeps them by dropping those references.
      if (!pass.deleting.allowsDelete) await act.appSetOrphanApplications({ ref, appSetUid: pass.uid });
      await condition(() => dirty, DELETING_POLL_MS);
      continue;
    }
    const outcome = pass.outcome!;
    const plan = pass.plan!;
    let result: PassResult;
    const owned = new Map<string, { name: string; health?: string; sync?: string }>((pass.owned ?? []).map((o) => [o.name, o]));
    if ('error' in outcome) {
      result = { ok: false, message: outcome.error, reason: outcome.reason, parametersGenerated: outcome.reason === 'ApplicationValidationError' };
    } else {
      const errors: string[] = [];
      if (plan.create.length > 0 || plan.update.length > 0) {
        const applied = await act.appSetApply({ ref, create: plan.create, update: plan.update });
        errors.push(...applied.errors);
        for (const n of applied.created) owned.set(n, { name: n });
      }
      for (const name of plan.delete) {
        const r = await act.appSetDeleteApplication({ ref, name, appSetUid: pass.uid });
        if (r.deleted) owned.delete(name);
      }
      errors.push(...plan.problems);
      // Applications outside their AppProject's boundaries were skipped; the others were applied.
      const invalid = plan.invalid ?? [];
      errors.unshift(...invalid);
      result =
        errors.length === 0
          ? { ok: true }
          : {
              ok: false,
              message: errors[0] + (errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''),
              reason: errors.length === invalid.length ? 'ApplicationValidationError' : 'UpdateApplicationError',
              parametersGenerated: true,
            };
    }
    conditions = passConditions(result, conditions, new Date().toISOString());
    const resources = resourcesStatus(
      ref.namespace,
      [...owned.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    );

    // Git is read again every requeueAfterSeconds; other generators only when nudged, but
    // an unchanged pass is cheap, so they too look again now and then. A failed pass comes
    // back sooner.
    const waitSeconds = outcome.requeueAfterSeconds ?? DEFAULT_REQUEUE_AFTER_SECONDS;
    const waitMs = Math.max(1, result.ok ? waitSeconds : Math.min(waitSeconds, 60)) * 1000;
    const rolling = pass.strategy?.type === 'RollingSync';
    if (!rolling) {
      const clear = progress.length > 0;
      progress = [];
      conditions = conditions.filter((c) => c.type !== 'RolloutProgressing');
      await act.appSetWriteStatus({ ref, status: { conditions, resources, ...(clear ? { applicationStatus: [] } : {}) } });
      await condition(() => dirty, waitMs);
    } else {
      // The rollout moves on between passes: observe, advance, sync what may sync, until the
      // ApplicationSet changes (a new pass) or the requeue time comes.
      const set = { metadata: { name: ref.name, namespace: ref.namespace }, spec: { strategy: pass.strategy } } as ApplicationSet;
      const until = Date.now() + waitMs;
      let observed: ObservedApplication[] = pass.owned ?? [];
      for (;;) {
        const step = advanceRollout(set, progress, observed, new Date().toISOString(), {
          firstRevisionsAreNoChange: patched('rollingsync-first-revisions-no-change'),
        });
        progress = step.statuses;
        for (const name of step.toSync) {
          const operation = pass.syncOperations?.[name];
          const requestedAt = progress.find((p) => p.application === name)?.syncRequestedAt;
          if (operation && !('error' in outcome)) await act.appSetSyncApplication({ ref, name, operation, requestedAt });
        }
        const rollout = rolloutCondition(progress);
        const now = new Date().toISOString();
        const before = conditions.find((c) => c.type === 'RolloutProgressing');
        conditions = [
          ...conditions.filter((c) => c.type !== 'RolloutProgressing'),
          { ...rollout, lastTransitionTime: before?.status === rollout.status ? before.lastTransitionTime : now },
        ];
        await act.appSetWriteStatus({ ref, status: { conditions, resources, applicationStatus: progress } });
        const left = until - Date.now();
        if (left <= 0 || dirty) break;
        if (rollout.status === 'False') {
          await condition(() => dirty, left);
          break;
        }
        await condition(() => dirty, Math.min(ROLLOUT_POLL_MS, left));
        if (dirty) break;
        observed = await act.appSetObserve({ ref, appSetUid: pass.uid });
      }
    }

    if (passes >= MAX_PASSES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof applicationSetWorkflow>({ ...ref, conditions, progress });
    }
  }
}

/** A preview: the Applications an ApplicationSet manifest would produce, nothing applied. */
export async function applicationSetPreviewWorkflow(input: { appSet: ApplicationSet }) {
  return act.appSetPreview({ appSet: input.appSet });
}
