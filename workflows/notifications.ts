// One workflow per Application (ID notifications/<namespace>/<name>) that sends its
// notifications exactly once: woken by the application watcher when the Application
// changes, it reads the Application and its subscriptions (no secrets), decides in pure
// code what fires (domain/notifications/firing.ts), records each firing as pending before
// the send and as sent or failed after, and sends each firing to each recipient as its own
// activity, retried with backoff for a bounded time, with a key that is the same for every
// attempt. A send that finally fails becomes a Warning Event on the Application. It is a
// workflow of its own, not part of the Application's loop, so that a slow or failing
// receiver never delays a sync and the Application workflow's history is unchanged.
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
import type { NotificationActivities, NotificationSubject } from '../activities/notifications/activities';
import { decideNotifications, emptyNotificationState, type Firing, type NotificationState, type SendStatus } from '../domain/notifications/firing';
import { notificationsNudgeSignal } from './definitions';

export interface NotificationsWorkflowInput {
  namespace: string;
  name: string;
  /** Carried across continue-as-new. */
  state?: NotificationState;
}

const read = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
// Bounded: after this long the send counts as failed and an Event says so.
const send = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '45s',
  heartbeatTimeout: '10s', // a worker that dies mid-send: retried elsewhere soon
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: ['NotificationRefused'] },
});

const MAX_ITERATIONS_PER_RUN = 500;

export async function notificationsWorkflow(input: NotificationsWorkflowInput): Promise<void> {
  const ref = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  const run = { state: input.state ?? emptyNotificationState() };
  let changed = true; // evaluate once on start: the change that started us
  let inFlight = 0;
  setHandler(notificationsNudgeSignal, () => void (changed = true));

  for (let iteration = 0; ; iteration++) {
    await condition(() => changed);
    changed = false;
    const subject = await read.readNotificationSubject(ref);
    if (!subject) {
      await condition(() => inFlight === 0);
      return; // the Application is gone
    }
    const decision = decideNotifications(subject, subject.subscriptions, { app: subject.app, appProject: subject.appProject }, run.state);
    run.state = decision.state;
    for (const p of [...subject.problems, ...decision.problems]) log.warn('notifications configuration', { application: id, problem: p });
    for (const firing of decision.firings) {
      run.state.sends[firing.key] = 'pending'; // before the send: a replay never decides this firing again
      inFlight++;
      void deliver(subject, firing, (status) => void (run.state.sends[firing.key] = status)).finally(() => inFlight--);
    }
    setCurrentDetails(`**notifications ${id}**: ${Object.values(run.state.sends).filter((s) => s === 'sent').length} sent, ${inFlight} in flight`);
    if ((iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) && !changed) {
      await condition(() => inFlight === 0 && allHandlersFinished());
      await continueAsNew<typeof notificationsWorkflow>({ ...ref, state: run.state });
    }
  }
}

async function deliver(subject: NotificationSubject, firing: Firing, record: (status: SendStatus) => void): Promise<void> {
  const uid = subject.app.metadata.uid ?? '';
  // The same for every attempt and replica: the Application, the firing and the recipient.
  const idempotencyKey = `${uid}/${firing.key}`;
  try {
    await send.sendNotification({
      app: subject.app,
      appProject: subject.appProject,
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
    log.warn('notification failed', { application: `${subject.app.metadata.namespace}/${subject.app.metadata.name}`, trigger: firing.trigger, message });
    await read.recordNotificationFailure({
      app: { namespace: subject.app.metadata.namespace!, name: subject.app.metadata.name },
      uid,
      trigger: firing.trigger,
      destination: firing.destination,
      message,
      idempotencyKey,
    });
  }
}
