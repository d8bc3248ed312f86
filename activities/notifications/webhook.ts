// Argo's webhook service: `service.webhook.<name>: {url, headers: [{name, value}], basicAuth:
// {username, password}, insecureSkipVerify}` and the template block `webhook.<name>: {method,
// path, body}`. A template without a block for this webhook sends nothing, as in Argo.
import { block, httpSend, optionString, type NotificationService } from './service';

export const webhook: NotificationService = {
  async send(notification, _destination, config, ctx) {
    const request = block(block(notification, 'webhook'), config.name);
    if (Object.keys(request).length === 0) return;
    const o = config.options;
    const base = optionString(o, 'url');
    if (!base) throw new Error(`service.webhook.${config.name}: no url`);
    const path = optionString(request, 'path') ?? '';
    const headers: Record<string, string> = { 'Idempotency-Key': ctx.idempotencyKey };
    for (const h of Array.isArray(o.headers) ? o.headers : []) {
      const { name, value } = (h ?? {}) as { name?: unknown; value?: unknown };
      if (typeof name === 'string') headers[name] = String(value ?? '');
    }
    const auth = (o.basicAuth ?? undefined) as { username?: string; password?: string } | undefined;
    await httpSend(
      `webhook ${config.name}`,
      {
        url: base.replace(/\/$/, '') + (path && !path.startsWith('/') ? `/${path}` : path),
        method: (optionString(request, 'method') ?? 'GET').toUpperCase(),
        headers,
        data: optionString(request, 'body') ?? '',
        ...(auth?.username !== undefined ? { auth: { username: String(auth.username), password: String(auth.password ?? '') } } : {}),
        insecureSkipVerify: o.insecureSkipVerify === true,
        // The body is the template's text: send it as it is.
        transformRequest: [(d: unknown) => d],
      },
      ctx,
    );
  },
};
