// Argo's Opsgenie service: `service.opsgenie: {apiUrl, apiKeys: {<team>: <API key>}}`; the
// recipient is the responding team's id. Creates an alert with POST `/v2/alerts` and
// `Authorization: GenieKey <key>`: the message from `message`, and from the template block
// `opsgenie: {description, priority, alias, note, actions, tags, details, entity, visibleTo,
// user}`. `apiUrl` is a host as in Argo's client (`api.opsgenie.com`, `api.eu.opsgenie.com`);
// a full URL is used as it is. Opsgenie deduplicates open alerts by alias: without one in the
// template the alias derives from the firing, so a retried send never opens a second alert.
import { createHash } from 'node:crypto';
import { block, httpSend, insecureOption, optionString, perRecipient, PermanentSendError, type NotificationService } from './service';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map((x) => String(x)) : undefined);
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const opsgenieAlias = (idempotencyKey: string): string => `sluice-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;

export const opsgenie: NotificationService = {
  async send(notification, destination, config, ctx) {
    const apiKey = perRecipient(config, 'apiKeys', destination.recipient, 'API key');
    const message = text(notification.message);
    if (!message) throw new PermanentSendError('opsgenie: the template has no message (the alert needs one)');
    const present = isMap(notification.opsgenie);
    const o = block(notification, 'opsgenie');
    if (present && !text(o.description)) throw new PermanentSendError("opsgenie: the template's opsgenie.description is empty");
    const alert: Record<string, unknown> = {
      message,
      alias: text(o.alias) || opsgenieAlias(ctx.idempotencyKey),
      responders: [{ type: 'team', id: destination.recipient }],
      source: 'Sluice',
    };
    for (const field of ['description', 'priority', 'note', 'entity', 'user'] as const) if (text(o[field])) alert[field] = text(o[field]);
    for (const field of ['actions', 'tags'] as const) if (strings(o[field])?.length) alert[field] = strings(o[field]);
    if (isMap(o.details) && Object.keys(o.details).length > 0) alert.details = Object.fromEntries(Object.entries(o.details).map(([k, v]) => [k, String(v)]));
    if (Array.isArray(o.visibleTo) && o.visibleTo.length > 0) {
      alert.visibleTo = o.visibleTo
        .filter(isMap)
        .map((r) => Object.fromEntries(['type', 'id', 'name', 'username'].flatMap((k) => (text(r[k]) ? [[k, text(r[k])]] : []))));
    }
    const configured = (optionString(config.options, 'apiUrl') ?? 'api.opsgenie.com').replace(/\/$/, '');
    const base = /^https?:\/\//.test(configured) ? configured : `https://${configured}`;
    await httpSend(
      'opsgenie',
      {
        url: `${base}/v2/alerts`,
        method: 'POST',
        headers: { Authorization: `GenieKey ${apiKey}`, 'Content-Type': 'application/json' },
        data: alert,
        insecureSkipVerify: insecureOption(config.options),
        // 422: the alert is invalid; 401/403: the key is wrong: permanent (the default 4xx rule).
        detail: (a) => {
          const d = (a.data ?? {}) as { message?: unknown };
          return typeof d.message === 'string' ? d.message : undefined;
        },
      },
      ctx,
    );
  },
};
