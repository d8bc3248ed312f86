// One workflow per Application (ID notifications/<namespace>/<name>) that sends its
// notifications exactly once: woken by the application watcher when the Application
// changes, it reads the Application and its subscriptions (no secrets), decides in pure
// code what fires (domain/notifications/firing.ts), records each firing as pending before
// the send and as sent or failed after, and sends each firing to each recipient as its own
// activity, retried with backoff for a bounded time, with a key that is the same for every
// attempt. A send that finally fails becomes a Warning Event on the Application. It is a
// workflow of its own, not part of the Application's loop, so that a slow or failing
// receiver never delays a sync and the Application workflow's history is unchanged.
// Since `notifications-local-read` the read is a local activity (a fresh GET, so two
// replicas' wake-ups never see the Application go back in time): a wake-up is one
// workflow task, not two plus an activity.
import { allHandlersFinished, condition, continueAsNew, log, patched, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import { decideNotifications, emptyNotificationState, type NotificationState } from '../domain/notifications/firing';
import { notificationsNudgeSignal } from './definitions';
import { deliverFiring, read, readLocally } from './notification-delivery';

export interface NotificationsWorkflowInput {
  namespace: string;
  name: string;
  /** Carried across continue-as-new. */
  state?: NotificationState;
}

const MAX_ITERATIONS_PER_RUN = 500;

export async function notificationsWorkflow(input: NotificationsWorkflowInput): Promise<void> {
  const ref = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  const run = { state: input.state ?? emptyNotificationState() };
  let changed = true; // evaluate once on start: the change that started us
  let inFlight = 0;
  setHandler(notificationsNudgeSignal, () => void (changed = true));
  const reads = patched('notifications-local-read') ? readLocally : read;

  for (let iteration = 0; ; iteration++) {
    await condition(() => changed);
    changed = false;
    const subject = await reads.readNotificationSubject(ref);
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
      void deliverFiring(
        { app: subject.app, appProject: subject.appProject, trigger: firing.trigger, templates: firing.templates, destination: firing.destination },
        firing.key,
        'Application',
        (status) => void (run.state.sends[firing.key] = status),
      ).finally(() => inFlight--);
    }
    setCurrentDetails(`**notifications ${id}**: ${Object.values(run.state.sends).filter((s) => s === 'sent').length} sent, ${inFlight} in flight`);
    if ((iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) && !changed) {
      await condition(() => inFlight === 0 && allHandlersFinished());
      await continueAsNew<typeof notificationsWorkflow>({ ...ref, state: run.state });
    }
  }
}
