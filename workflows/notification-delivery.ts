// The one step both notifications workflows share: send one firing to one recipient with a
// key that is the same for every attempt and replica, and when the send finally fails,
// record a Warning Event on the object. The caller marks the firing pending before and
// records the outcome given here.
import { ApplicationFailure, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { NotificationActivities, SendNotificationInput } from '../activities/notifications/activities';
import type { SendStatus } from '../domain/notifications/firing';

export const read = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
// The same reads as local activities: in the workflow task that the wake-up starts, with
// no activity task and no second workflow task (a read is safe to repeat).
export const readLocally = proxyLocalActivities<NotificationActivities>({
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

/** `notification` without its key: the object's uid and the firing's key make it. */
export async function deliverFiring(
  notification: Omit<SendNotificationInput, 'idempotencyKey'>,
  firingKey: string,
  kind: 'Application' | 'Rollout',
  record: (status: SendStatus) => void,
): Promise<void> {
  const object = notification.app;
  const uid = object.metadata.uid ?? '';
  const ref = { namespace: object.metadata.namespace!, name: object.metadata.name };
  // The same for every attempt and replica: the object, the firing and the recipient.
  const idempotencyKey = `${uid}/${firingKey}`;
  try {
    await send.sendNotification({ ...notification, idempotencyKey });
    record('sent');
  } catch (err) {
    record('failed');
    const cause = err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
    const message = cause instanceof Error ? cause.message : String(err);
    log.warn('notification failed', { kind, object: `${ref.namespace}/${ref.name}`, trigger: notification.trigger, message });
    await read.recordNotificationFailure({
      app: ref,
      ...(kind === 'Rollout' ? { kind } : {}),
      uid,
      trigger: notification.trigger,
      destination: notification.destination,
      message,
      idempotencyKey,
    });
  }
}
