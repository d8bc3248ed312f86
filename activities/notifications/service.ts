// One interface for every notification service, as notifications-engine's services: a
// service takes a rendered notification, a destination and its ConfigMap options. Adding
// a service is adding a file and a line in SERVICES (services.ts).
import * as https from 'node:https';
import type { AxiosRequestConfig } from 'axios';
import type { ServiceConfig } from '../../domain/notifications/config';
import type { Destination } from '../../domain/notifications/subscriptions';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A notification rendered from its templates: `message`, `title`, and per-service blocks, every string rendered. */
export interface Notification {
  message?: string;
  title?: string;
  [service: string]: unknown;
}

export interface SendContext {
  /** The same for every attempt of one firing to one recipient; sent where the service takes one. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/** A send the service refused for good (bad recipient, bad credentials): retrying cannot help. */
export class PermanentSendError extends Error {
  override name = 'PermanentSendError';
}

export interface NotificationService {
  send(notification: Notification, destination: Destination, config: ServiceConfig, ctx: SendContext): Promise<void>;
  /**
   * Fields the template block named after this service gets when the template leaves them
   * out, before rendering (github's `repoURLPath`/`revisionPath` are templates themselves).
   */
  templateDefaults?: Record<string, unknown>;
}

/** `service.<type>` or `service.<type>.<name>`, as the ConfigMap key reads: what errors name. */
export const serviceKey = (config: ServiceConfig): string => (config.name === config.type ? `service.${config.type}` : `service.${config.type}.${config.name}`);

/** A template field that holds JSON as text (Argo's teams.facts, slack.attachments): parsed, or a permanent error naming it. */
export function jsonField(service: string, field: string, text: unknown): unknown {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new PermanentSendError(`${service}: the template's ${field} is not valid JSON`);
  }
}

/** A per-recipient map of the service's options (`recipientUrls`, `serviceKeys`, `apiKeys`): the recipient's entry, or a permanent error naming it. */
export function perRecipient(config: ServiceConfig, option: string, recipient: string, what: string): string {
  const map = config.options[option];
  const value = isMap(map) ? map[recipient] : undefined;
  if (typeof value !== 'string' || value === '') {
    throw new PermanentSendError(`${serviceKey(config)}: no ${what} for recipient ${JSON.stringify(recipient)} in ${option}`);
  }
  return value;
}

/** An HTTP answer, for a service's own classification. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
}

export const optionString = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
export const block = (n: Notification, k: string): Record<string, unknown> => (isMap(n[k]) ? (n[k] as Record<string, unknown>) : {});

/**
 * One HTTP request; a status outside 2xx throws, naming the service and status but never the
 * URL's credentials or the headers. 4xx other than 408/429 are permanent.
 */
export async function httpSend(
  service: string,
  request: AxiosRequestConfig & {
    insecureSkipVerify?: boolean;
    /** The service's own rule for a refusal; undefined falls back to the 4xx rule. */
    permanent?: (answer: HttpAnswer) => boolean | undefined;
    /** The service's documented error text in the answer (never echoes credentials). */
    detail?: (answer: HttpAnswer) => string | undefined;
  },
  ctx: SendContext,
): Promise<HttpAnswer> {
  const { insecureSkipVerify, permanent, detail, ...rest } = request;
  let res;
  try {
    // Loaded on first use: axios and nodemailer cost ~11 MiB resident in a process that never measures or notifies.
    res = await (
      await import('axios')
    ).default.request({
      timeout: 30_000,
      maxRedirects: 0,
      validateStatus: () => true,
      signal: ctx.signal,
      ...(insecureSkipVerify ? { httpsAgent: new https.Agent({ rejectUnauthorized: false }) } : {}),
      ...rest,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    // No cause: axios' error carries the request, headers and credentials included.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`${service}: request failed${code ? ` (${code})` : ''}`);
  }
  const answer: HttpAnswer = { status: res.status, headers: { ...res.headers } as Record<string, unknown>, data: res.data };
  if (res.status < 200 || res.status >= 300) {
    let why: string | undefined;
    try {
      why = detail?.(answer);
    } catch {
      why = undefined;
    }
    const message = `${service}: the server answered ${res.status}${why ? `: ${why.slice(0, 300)}` : ''}`;
    const refused = permanent?.(answer) ?? (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429);
    throw refused ? new PermanentSendError(message) : new Error(message);
  }
  return answer;
}

/** `insecureSkipVerify` as Argo's HTTP services spell it. */
export const insecureOption = (o: Record<string, unknown>): boolean => o.insecureSkipVerify === true || o.insecureSkipVerify === 'true';
