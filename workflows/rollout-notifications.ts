// One workflow per subscribed Rollout (ID notifications/rollout/<namespace>/<name>) that
// sends Argo Rollouts' notifications exactly once: woken by the rollout notifications
// watcher when the Rollout, one of its ReplicaSets or AnalysisRuns changes, it reads them
// (no secrets), derives the events since its last look (domain/notifications/
// rollout-events.ts: RolloutAborted, AnalysisRunFailed, ...), and sends each event to each
// subscribed destination as its own activity, recorded as pending before and sent or
// failed after, retried with backoff for a bounded time. A workflow apart from the
// rollout's own, so that a slow receiver never holds a rollout up and the rollout
// workflow's history stays as it is.
import { allHandlersFinished, condition, continueAsNew, log, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { decideRolloutNotifications, emptyRolloutNotificationState, type RolloutNotificationState } from '../domain/notifications/rollout-events';
import { notificationsNudgeSignal } from './definitions';
import { deliverFiring, read } from './notification-delivery';

export interface RolloutNotificationsWorkflowInput {
  namespace: string;
  name: string;
  /** Carried across continue-as-new. */
  state?: RolloutNotificationState;
}

const MAX_ITERATIONS_PER_RUN = 500;

export async function rolloutNotificationsWorkflow(input: RolloutNotificationsWorkflowInput): Promise<void> {
  const ref = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  const run = { state: input.state ?? emptyRolloutNotificationState() };
  let changed = true; // look once on start: that look is the baseline
  let inFlight = 0;
  setHandler(notificationsNudgeSignal, () => void (changed = true));

  for (let iteration = 0; ; iteration++) {
    await condition(() => changed);
    changed = false;
    const subject = await read.readRolloutNotificationSubject(ref);
    if (!subject) {
      await condition(() => inFlight === 0);
      return; // the Rollout is gone
    }
    const decision = decideRolloutNotifications(subject.observation, subject.subscriptions, subject.triggers, run.state);
    run.state = decision.state;
    for (const p of [...subject.problems, ...decision.problems]) log.warn('rollout notifications configuration', { rollout: id, problem: p });
    for (const firing of decision.firings) {
      run.state.sends[firing.key] = 'pending'; // before the send: a replay never decides this event again
      inFlight++;
      void deliverFiring(
        {
          app: subject.rollout,
          appProject: null,
          rollout: { analysisRuns: subject.analysisRuns },
          trigger: firing.trigger,
          templates: firing.templates,
          destination: firing.destination,
        },
        firing.key,
        'Rollout',
        (status) => void (run.state.sends[firing.key] = status),
      ).finally(() => inFlight--);
    }
    setCurrentDetails(`**rollout notifications ${id}**: ${run.state.seq} events, ${inFlight} sends in flight`);
    if ((iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) && !changed) {
      await condition(() => inFlight === 0 && allHandlersFinished());
      await continueAsNew<typeof rolloutNotificationsWorkflow>({ ...ref, state: run.state });
    }
  }
}
