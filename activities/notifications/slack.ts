// Argo's Slack service. With a bot token: POST `<apiURL>/chat.postMessage` (apiURL defaults
// to https://slack.com/api) with the recipient as channel; Slack answers 200 with `ok:false`
// on a refusal. Without a token, or with a token that is an incoming-webhook URL (as the
// examples' Secret holds), POST the message to that URL. Template block `slack: {attachments,
// blocks, groupingKey, notifyBroadcast}`: attachments and blocks are JSON text, as in Argo.
import { block, httpSend, optionString, PermanentSendError, type NotificationService } from './service';

function json(field: string, text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new PermanentSendError(`slack: the template's ${field} is not valid JSON`);
  }
}

// Slack refusals that a retry can fix.
const TRANSIENT = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

export const slack: NotificationService = {
  async send(notification, destination, config, ctx) {
    const o = config.options;
    const s = block(notification, 'slack');
    const token = optionString(o, 'token') ?? '';
    const webhookURL = optionString(o, 'webhookURL') ?? (/^https?:\/\//.test(token) ? token : undefined);
    const message: Record<string, unknown> = {
      text: notification.message ?? '',
      ...(json('attachments', s.attachments) !== undefined ? { attachments: json('attachments', s.attachments) } : {}),
      ...(json('blocks', s.blocks) !== undefined ? { blocks: json('blocks', s.blocks) } : {}),
      ...(optionString(o, 'username') ? { username: o.username } : {}),
      ...(optionString(o, 'icon') ? { [String(o.icon).startsWith(':') ? 'icon_emoji' : 'icon_url']: o.icon } : {}),
      ...(s.notifyBroadcast === true || s.notifyBroadcast === 'true' ? { reply_broadcast: true } : {}),
    };
    if (destination.recipient) message.channel = destination.recipient;
    const insecureSkipVerify = o.insecureSkipVerify === true;
    if (webhookURL) {
      await httpSend('slack webhook', { url: webhookURL, method: 'POST', data: message, insecureSkipVerify }, ctx);
      return;
    }
    if (!token) throw new PermanentSendError(`service.${config.type === config.name ? 'slack' : `slack.${config.name}`}: no token`);
    const api = (optionString(o, 'apiURL') ?? 'https://slack.com/api').replace(/\/$/, '');
    const { data } = await httpSend(
      'slack',
      {
        url: `${api}/chat.postMessage`,
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json; charset=utf-8' },
        data: message,
        insecureSkipVerify,
      },
      ctx,
    );
    const answer = (data ?? {}) as { ok?: boolean; error?: string };
    if (answer.ok !== true) {
      const reason = `slack: chat.postMessage refused${destination.recipient ? ` for ${destination.recipient}` : ''}: ${answer.error ?? 'no ok in the answer'}`;
      throw TRANSIENT.has(answer.error ?? '') ? new Error(reason) : new PermanentSendError(reason);
    }
  },
};
