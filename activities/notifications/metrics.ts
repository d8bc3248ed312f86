// The notification sends counter, served at /metrics: the composition (cmd/process.ts)
// registers it with the API's registry, since activities do not import the API.
import { Counter } from 'prom-client';

export const notificationSends = new Counter({
  name: 'sluice_notification_sends_total',
  help: 'Notification sends by service, trigger and result: delivered, or failed for good (after the retries, or refused)',
  labelNames: ['namespace', 'service', 'trigger', 'result'],
  registers: [],
});

export function recordNotificationSend(namespace: string, service: string, trigger: string, result: 'delivered' | 'failed'): void {
  notificationSends.inc({ namespace, service, trigger, result });
}
