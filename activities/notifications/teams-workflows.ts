// Argo's `teams-workflows` service: Teams through a Power Automate Workflows webhook, the
// replacement for the retired Office 365 connectors. Same options (`recipientUrls`) and
// template fields as `teams` under `teams-workflows:`, plus `adaptiveCard` (a whole Adaptive
// Card as JSON). The payload is a `message` with one Adaptive Card attachment, built as Argo
// builds it: title, text, fact sets from facts and sections, OpenUri actions as OpenUrl.
// As in Argo, the URL must look like a Workflows URL and be HTTPS unless it is this machine.
import { block, httpSend, insecureOption, jsonField, perRecipient, PermanentSendError, type NotificationService } from './service';

const WORKFLOWS_URL = /(api\.(powerautomate|powerplatform)\.com|flow\.microsoft\.com|webhook\.office\.com\/workflows|\/powerautomate\/)/i;
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (field: string, v: unknown): unknown[] => {
  const parsed = jsonField('teams-workflows', field, v);
  if (parsed === undefined) return [];
  if (!Array.isArray(parsed)) throw new PermanentSendError(`teams-workflows: the template's ${field} is not a JSON list`);
  return parsed;
};

function factSet(facts: unknown[]): Record<string, unknown> | undefined {
  const out = facts.flatMap((f) =>
    isMap(f) && typeof f.name === 'string'
      ? [{ title: f.name, value: typeof f.value === 'string' ? f.value : f.value === undefined ? '' : String(f.value) }]
      : [],
  );
  return out.length > 0 ? { type: 'FactSet', facts: out } : undefined;
}

export function adaptiveCard(notification: { message?: string; [k: string]: unknown }): Record<string, unknown> {
  const t = block(notification, 'teams-workflows');
  const custom = text(t.adaptiveCard).trim();
  if (custom) return jsonField('teams-workflows', 'adaptiveCard', custom) as Record<string, unknown>;
  const body: unknown[] = [];
  const title = text(t.title);
  const message = text(t.text) || text(notification.message);
  if (title) body.push({ type: 'TextBlock', text: title, size: 'Large', weight: 'Bolder', ...(text(t.themeColor) ? { color: t.themeColor } : {}), wrap: true });
  if (message) body.push({ type: 'TextBlock', text: message, wrap: true });
  const facts = factSet(list('facts', t.facts));
  if (facts) body.push(facts);
  for (const section of list('sections', t.sections)) {
    const set = isMap(section) && Array.isArray(section.facts) ? factSet(section.facts) : undefined;
    if (set) body.push(set);
  }
  const actions = list('potentialAction', t.potentialAction).flatMap((a) => {
    if (!isMap(a) || a['@type'] !== 'OpenUri') return [];
    const target = Array.isArray(a.targets) && isMap(a.targets[0]) ? a.targets[0] : {};
    const url = text(target.uri);
    return url ? [{ type: 'Action.OpenUrl', ...(text(a.name) ? { title: a.name } : {}), url }] : [];
  });
  return { type: 'AdaptiveCard', version: '1.4', body, ...(actions.length > 0 ? { actions } : {}) };
}

export const teamsWorkflows: NotificationService = {
  async send(notification, destination, config, ctx) {
    const url = perRecipient(config, 'recipientUrls', destination.recipient, 'webhook URL');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new PermanentSendError(`teams-workflows: the webhook URL for recipient ${destination.recipient} is not a URL`);
    }
    const local = parsed.hostname === 'localhost' || parsed.hostname.startsWith('127.');
    if (!(parsed.protocol === 'https:' || (parsed.protocol === 'http:' && local)) || !WORKFLOWS_URL.test(url)) {
      throw new PermanentSendError(
        `teams-workflows: the webhook URL for recipient ${destination.recipient} is not an HTTPS Teams Workflows (Power Automate) URL`,
      );
    }
    const payload = { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: adaptiveCard(notification) }] };
    await httpSend(
      'teams-workflows',
      {
        url,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        data: payload,
        responseType: 'text',
        insecureSkipVerify: insecureOption(config.options),
        detail: (a) => String(a.data ?? '').slice(0, 200),
      },
      ctx,
    );
  },
};
