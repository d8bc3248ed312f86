// Argo's PagerDuty service for Events API v2: `service.pagerdutyv2: {serviceKeys: {<recipient>:
// <integration (routing) key>}}`, template block `pagerdutyv2: {summary, severity, source,
// component, group, class, url, dedupKey}`. One `trigger` event per send to
// `<apiURL>/v2/enqueue` (apiURL defaults to https://events.pagerduty.com; the override is
// Sluice's, for a proxy or a test receiver). Without a `dedupKey` in the template the key is
// derived from the firing, so a retried send updates the same alert instead of opening another.
import { createHash } from 'node:crypto';
import { block, httpSend, optionString, perRecipient, PermanentSendError, type NotificationService } from './service';

const SEVERITIES = new Set(['critical', 'error', 'warning', 'info']);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** PagerDuty's dedup_key is at most 255 characters. */
export const pagerdutyDedupKey = (idempotencyKey: string): string =>
  idempotencyKey.length <= 255 ? idempotencyKey : `sluice-${createHash('sha256').update(idempotencyKey).digest('hex')}`;

export const pagerdutyv2: NotificationService = {
  async send(notification, destination, config, ctx) {
    const routingKey = perRecipient(config, 'serviceKeys', destination.recipient, 'service key');
    if (typeof notification.pagerdutyv2 !== 'object' || notification.pagerdutyv2 === null) {
      throw new PermanentSendError('pagerdutyv2: the template has no pagerdutyv2 block');
    }
    const p = block(notification, 'pagerdutyv2');
    const payload: Record<string, string> = { summary: text(p.summary), severity: text(p.severity), source: text(p.source) };
    // PagerDuty refuses these with a 400; saying which field is clearer than its generic answer.
    for (const field of ['summary', 'source'] as const) if (!payload[field]) throw new PermanentSendError(`pagerdutyv2: the template's ${field} is empty`);
    if (!SEVERITIES.has(payload.severity!)) {
      throw new PermanentSendError(`pagerdutyv2: severity ${JSON.stringify(payload.severity)} is not one of critical, error, warning, info`);
    }
    for (const field of ['component', 'group', 'class'] as const) if (text(p[field])) payload[field] = text(p[field]);
    const event: Record<string, unknown> = {
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: text(p.dedupKey) || pagerdutyDedupKey(ctx.idempotencyKey),
      payload,
      client: 'Sluice',
      ...(text(p.url) ? { client_url: text(p.url) } : {}),
    };
    const api = (optionString(config.options, 'apiURL') ?? 'https://events.pagerduty.com').replace(/\/$/, '');
    await httpSend(
      'pagerdutyv2',
      {
        url: `${api}/v2/enqueue`,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        data: event,
        // 400: the event is invalid (a bad routing key included); 429 and 5xx: retry, as PagerDuty documents.
        detail: (a) => {
          const d = (a.data ?? {}) as { message?: unknown; errors?: unknown };
          return [typeof d.message === 'string' ? d.message : '', Array.isArray(d.errors) ? d.errors.join('; ') : ''].filter(Boolean).join(': ');
        },
      },
      ctx,
    );
  },
};
