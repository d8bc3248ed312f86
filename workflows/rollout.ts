// One long-lived workflow per Rollout (ID rollout/<namespace>/<name>). It observes
// the cluster, asks the strategy what to do, does it through activities and projects
// its state onto the Rollout's status, then sleeps until something changes or a
// durable timer (a timed pause) fires. Every step is an activity in the history.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RolloutActivities } from '../activities/rollout';
import { nudgeSignal, promoteUpdate, rolloutViewQuery, type RolloutRef } from './definitions';
import { decideCanary, type RolloutAction } from './rollouts/canary';
import { progressFromStatus, type RolloutProgress } from './rollouts/progress';
import type { RolloutStatus } from './rollouts/types';

const act = proxyActivities<RolloutActivities>({
  // Kubernetes calls take milliseconds; a short timeout bounds how long a call that
  // died with its worker holds the rollout up before it is retried elsewhere.
  startToCloseTimeout: '10s',
  // Kubernetes being unreachable is retried for as long as it takes; activities are
  // idempotent, so a retry after a lost response is harmless.
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

/** Safety net for a missed watch event; normally a nudge arrives within milliseconds. */
const RESYNC_MS = 60_000;
const MAX_ITERATIONS_PER_RUN = 300;

export interface RolloutWorkflowInput extends RolloutRef {
  progress?: RolloutProgress;
  lastStatusJson?: string;
}

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<void> {
  const ref: RolloutRef = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  let progress: RolloutProgress | undefined = input.progress;
  let lastStatusJson = input.lastStatusJson ?? '';
  let summary = 'starting';
  let changed = true;

  setHandler(nudgeSignal, () => {
    changed = true;
  });
  setHandler(rolloutViewQuery, () => ({ progress, summary }));
  setHandler(
    promoteUpdate,
    ({ full }) => {
      if (!progress) throw ApplicationFailure.nonRetryable(`rollout ${id} has not been observed yet`);
      if (full) progress.promoteFull = true;
      else progress.pauseConditions = [];
      changed = true;
      return { message: full ? `rollout ${id} fully promoted` : `rollout ${id} promoted` };
    },
    {
      validator: ({ full }) => {
        if (!progress) throw new Error(`rollout ${id} has not been observed yet`);
        if (full) {
          if (progress.currentHash === progress.stableHash) throw new Error(`rollout ${id} has no update in progress`);
          return;
        }
        if (progress.pauseConditions.length === 0) throw new Error(`rollout ${id} is not paused`);
      },
    },
  );

  let waitMs = 0;
  for (let iteration = 0; ; iteration++) {
    if (!changed) await condition(() => changed, waitMs);
    changed = false;

    const snap = await act.observeRollout(ref);
    if (!snap.exists) {
      log.info('rollout deleted; workflow ends', { rollout: id });
      return;
    }
    progress ??= progressFromStatus(snap.status);
    const decision = decideCanary(snap, progress, Date.now());
    progress = decision.progress;
    summary = decision.summary;

    let status: RolloutStatus = decision.status;
    const failure = await perform(ref, decision.actions);
    if (failure) status = { ...status, phase: 'Degraded', message: `ReplicaSetError: ${failure}` };

    const statusJson = JSON.stringify(status);
    if (statusJson !== lastStatusJson) {
      await act.writeRolloutStatus(ref, status);
      lastStatusJson = statusJson;
    }
    setCurrentDetails(`**${id}**: ${summary}`);
    waitMs = decision.wakeAt !== undefined ? Math.max(0, decision.wakeAt - Date.now()) : RESYNC_MS;

    if (iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof rolloutWorkflow>({ ...ref, progress, lastStatusJson });
    }
  }
}

/** Runs the actions in order; a refusal from Kubernetes is reported, not retried forever. */
async function perform(ref: RolloutRef, actions: RolloutAction[]): Promise<string | undefined> {
  for (const action of actions) {
    try {
      if (action.kind === 'createReplicaSet') await act.createReplicaSet(ref, action);
      else await act.scaleReplicaSet(ref, action);
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) return err.cause.message;
      throw err;
    }
  }
  return undefined;
}
