// Every API error is JSON `{code, message}`; the message names the object and, for
// 403, the action. Tokens are redacted from every message (a malformed body can echo
// its own text through the JSON parser's message).
import { redactTokens } from '../domain/rbac/tokens';

export type ErrorCode =
  'Unauthenticated' | 'PermissionDenied' | 'NotFound' | 'FailedPrecondition' | 'InvalidRequest' | 'PayloadTooLarge' | 'Unavailable' | 'Internal';

const STATUS: Record<ErrorCode, number> = {
  Unauthenticated: 401,
  PermissionDenied: 403,
  NotFound: 404,
  FailedPrecondition: 409,
  InvalidRequest: 400,
  PayloadTooLarge: 413,
  Unavailable: 503,
  Internal: 500,
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS[this.code];
  }
}

export const errorBody = (code: ErrorCode, message: string) => ({ code, message: redactTokens(message) });

export const notFound = (what: string) => new ApiError('NotFound', `${what} not found`);

export const errorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' } },
} as const;

/** Maps anything thrown in a handler (or by Fastify itself) to a status and a body. */
export function toApiError(err: Error & { statusCode?: number; code?: string; validation?: unknown }): ApiError {
  if (err instanceof ApiError) return err;
  if (err.validation) return new ApiError('InvalidRequest', err.message);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PayloadTooLarge', `request body is larger than the API accepts (${err.message})`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('InvalidRequest', `${err.message}; send Content-Type: application/json`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('InvalidRequest', 'the body is empty but Content-Type is application/json; send {} or no Content-Type');
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return new ApiError('InvalidRequest', `malformed JSON body: ${err.message}`);
  if (err.statusCode === 413) return new ApiError('PayloadTooLarge', err.message);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError('InvalidRequest', err.message);
  return new ApiError('Internal', err.message);
}
