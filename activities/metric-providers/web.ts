// The web provider: an HTTP request whose JSON response is narrowed by a Kubernetes-style
// JSONPath (`{$.data.ok}`, `{.status}`); a body that is not JSON is the result as text.
// Like Argo, a non-2xx response, a timeout or a path that finds nothing is an Error.
import * as https from 'node:https';
import { JSONPath } from 'jsonpath-plus';
import type { MetricProvider } from './provider';
import { measured, measurementError, now, unchanged } from './provider';

const DEFAULT_TIMEOUT_SECONDS = 10;
const insecureAgent = new https.Agent({ rejectUnauthorized: false });

/** `{$.a.b}` / `{.a.b}` (kubectl's syntax, which Argo uses) → `$.a.b` for jsonpath-plus. */
export function toJsonPath(kubePath: string | undefined): string {
  let p = (kubePath || '{$}').trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p === '' || p === '.') return '$';
  if (p.startsWith('.')) p = `$${p}`;
  return p;
}

/** The first value the path finds, and its JSON text (what status shows). */
export function selectValue(data: unknown, kubePath: string | undefined): { result: unknown; value: string } {
  const found = JSONPath({ path: toJsonPath(kubePath), json: data as object, wrap: true }) as unknown[];
  if (!Array.isArray(found) || found.length === 0) throw new Error('result of web metric produced no value');
  return { result: found[0], value: JSON.stringify(found[0]) };
}

export const webProvider: MetricProvider = {
  async run(ctx) {
    const startedAt = now();
    const web = ctx.metric.provider.web!;
    const method = web.method || 'GET';
    try {
      if (web.body && web.jsonBody !== undefined) throw new Error('use either Body or JSONBody; both cannot exists for WebMetric payload');
      if ((web.body || web.jsonBody !== undefined) && method === 'GET')
        throw new Error('Body/JSONBody can only be used with POST or PUT WebMetric Method types');
      const headers: Record<string, string> = {};
      for (const h of web.headers ?? []) headers[h.key] = h.value;
      let data: string | undefined = web.body || undefined;
      if (web.jsonBody !== undefined) {
        data = JSON.stringify(web.jsonBody);
        headers['Content-Type'] = 'application/json';
      }
      const timeoutSeconds = web.timeoutSeconds && web.timeoutSeconds > 0 ? web.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS;
      // Loaded on first use: axios and nodemailer cost ~11 MiB resident in a process that never measures or notifies.
      const res = await (
        await import('axios')
      ).default.request<string>({
        url: web.url,
        method,
        headers,
        data,
        timeout: timeoutSeconds * 1000,
        signal: ctx.signal,
        responseType: 'text',
        transformResponse: [(raw: string) => raw],
        validateStatus: () => true,
        maxRedirects: 10,
        ...(web.insecure ? { httpsAgent: insecureAgent } : {}),
      });
      if (res.status < 200 || res.status >= 300) throw new Error(`received non 2xx response code: ${res.status}`);
      const text = typeof res.data === 'string' ? res.data : String(res.data ?? '');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return measured(ctx.metric, startedAt, text, text);
      }
      const { result, value } = selectValue(parsed, web.jsonPath);
      return measured(ctx.metric, startedAt, result, value);
    } catch (err) {
      return measurementError(startedAt, err);
    }
  },
  resume: unchanged,
  terminate: unchanged,
};
