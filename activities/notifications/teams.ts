// Argo's Microsoft Teams service (Office 365 connector, incoming webhook):
// `service.teams: {recipientUrls: {<recipient>: <webhook URL>}}`, template block `teams:
// {template, title, summary, text, themeColor, facts, sections, potentialAction}` where facts,
// sections and potentialAction are JSON text. `template` is the whole payload, sent as it is.
// Otherwise a MessageCard: text from `teams.text` else `message`, facts appended as a section.
// The connector answers 200 with the body `1` on success; any other body is its refusal.
import { block, httpSend, insecureOption, jsonField, perRecipient, PermanentSendError, type NotificationService } from './service';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

export function messageCard(notification: { message?: string; [k: string]: unknown }): Record<string, unknown> {
  const t = block(notification, 'teams');
  const card: Record<string, unknown> = {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    title: text(t.title),
    summary: text(t.summary),
    text: text(t.text) || text(notification.message),
  };
  if (text(t.themeColor)) card.themeColor = t.themeColor;
  const sections: unknown[] = [];
  const parsedSections = jsonField('teams', 'sections', t.sections);
  if (parsedSections !== undefined) {
    if (!Array.isArray(parsedSections)) throw new PermanentSendError("teams: the template's sections is not a JSON list");
    sections.push(...parsedSections);
  }
  const facts = jsonField('teams', 'facts', t.facts);
  if (facts !== undefined) {
    if (!Array.isArray(facts)) throw new PermanentSendError("teams: the template's facts is not a JSON list");
    sections.push({ facts });
  }
  if (sections.length > 0) card.sections = sections;
  const actions = jsonField('teams', 'potentialAction', t.potentialAction);
  if (actions !== undefined) {
    if (!Array.isArray(actions)) throw new PermanentSendError("teams: the template's potentialAction is not a JSON list");
    card.potentialAction = actions;
  }
  return card;
}

export const teams: NotificationService = {
  async send(notification, destination, config, ctx) {
    const url = perRecipient(config, 'recipientUrls', destination.recipient, 'webhook URL');
    const custom = text(block(notification, 'teams').template);
    const payload = custom || JSON.stringify(messageCard(notification));
    const answer = await httpSend(
      'teams',
      {
        url,
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        data: payload,
        transformRequest: [(d: unknown) => d],
        responseType: 'text',
        insecureSkipVerify: insecureOption(config.options),
        detail: (a) => String(a.data ?? '').slice(0, 200),
      },
      ctx,
    );
    const body = String(answer.data ?? '').trim();
    if (body !== '1') {
      // The connector relays Teams' own failures in a 200: throttling and outages are worth a retry.
      const reason = `teams: the webhook refused the message for ${destination.recipient}: ${body.slice(0, 200) || 'empty answer'}`;
      throw /\b(429|5\d\d)\b|throttl|temporarily/i.test(body) ? new Error(reason) : new PermanentSendError(reason);
    }
  },
};
