// One interface for every notification service, as notifications-engine's services: a
// service takes a rendered notification, a destination and its ConfigMap options. Adding
// a service is adding a file and a line in SERVICES (services.ts).
import * as https from 'node:https';
import axios, { type AxiosRequestConfig } from 'axios';
import type { ServiceConfig } from '../../domain/notifications/config';
import type { Destination } from '../../domain/notifications/subscriptions';

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
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const optionString = (o: Record<string, unknown>, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
export const block = (n: Notification, k: string): Record<string, unknown> => (isMap(n[k]) ? (n[k] as Record<string, unknown>) : {});

/**
 * One HTTP request; a status outside 2xx throws, naming the service and status but never the
 * URL's credentials or the headers. 4xx other than 408/429 are permanent.
 */
export async function httpSend(
  service: string,
  request: AxiosRequestConfig & { insecureSkipVerify?: boolean },
  ctx: SendContext,
): Promise<{ status: number; data: unknown }> {
  const { insecureSkipVerify, ...rest } = request;
  let res;
  try {
    res = await axios.request({
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
  if (res.status < 200 || res.status >= 300) {
    const message = `${service}: the server answered ${res.status}`;
    throw res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429 ? new PermanentSendError(message) : new Error(message);
  }
  return { status: res.status, data: res.data };
}
