// One workflow per subscribed Rollout (ID notifications/rollout/<namespace>/<name>) that
// sends Argo Rollouts' notifications exactly once: woken by the rollout notifications
// watcher when the Rollout, one of its ReplicaSets or AnalysisRuns changes, it reads them
// (no secrets), derives the events since its last look (domain/notifications/
// rollout-events.ts: RolloutAborted, AnalysisRunFailed, ...), and sends each event to each
// subscribed destination as its own activity, recorded as pending before and sent or
// failed after, retried with backoff for a bounded time. A workflow apart from the
// rollout's own, so that a slow receiver never holds a rollout up and the rollout
// workflow's history stays as it is.
import {
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
import type { NotificationActivities, RolloutNotificationSubject } from '../activities/notifications/activities';
import {
  decideRolloutNotifications,
  emptyRolloutNotificationState,
  type RolloutFiring,
  type RolloutNotificationState,
} from '../domain/notifications/rollout-events';
import type { SendStatus } from '../domain/notifications/firing';
import { notificationsNudgeSignal } from './definitions';

export interface RolloutNotificationsWorkflowInput {
  namespace: string;
  name: string;
  /** Carried across continue-as-new. */
  state?: RolloutNotificationState;
}

const read = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
// Bounded: after this long the send counts as failed and an Event says so.
const send = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '45s',
  heartbeatTimeout: '10s',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['NotificationRefused'] },
});

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
      void deliver(subject, firing, (status) => void (run.state.sends[firing.key] = status)).finally(() => inFlight--);
    }
    setCurrentDetails(`**rollout notifications ${id}**: ${run.state.seq} events, ${inFlight} sends in flight`);
    if ((iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) && !changed) {
      await condition(() => inFlight === 0 && allHandlersFinished());
      await continueAsNew<typeof rolloutNotificationsWorkflow>({ ...ref, state: run.state });
    }
  }
}

async function deliver(subject: RolloutNotificationSubject, firing: RolloutFiring, record: (status: SendStatus) => void): Promise<void> {
  const uid = subject.rollout.metadata.uid ?? '';
  // The same for every attempt and replica: the Rollout, the event and the recipient.
  const idempotencyKey = `${uid}/${firing.key}`;
  const ref = { namespace: subject.rollout.metadata.namespace!, name: subject.rollout.metadata.name };
  try {
    await send.sendNotification({
      app: subject.rollout,
      appProject: null,
      rollout: { analysisRuns: subject.analysisRuns },
      trigger: firing.trigger,
      templates: firing.templates,
      destination: firing.destination,
      idempotencyKey,
    });
    record('sent');
  } catch (err) {
    record('failed');
    const cause = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
    const message = cause instanceof Error ? cause.message : String(err);
    log.warn('rollout notification failed', { rollout: `${ref.namespace}/${ref.name}`, trigger: firing.trigger, message });
    await read.recordNotificationFailure({ app: ref, kind: 'Rollout', uid, trigger: firing.trigger, destination: firing.destination, message, idempotencyKey });
  }
}
