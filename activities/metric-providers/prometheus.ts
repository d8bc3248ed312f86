// The Prometheus provider: an instant query; a vector (or matrix) becomes an array of
// floats, a scalar a float, so `result[0] < 0.05`, `len(result) == 0` and `isNaN(result)`
// work as in Argo. An unreachable server, a bad query or an unsupported result type is
// a measurement Error.
import * as https from 'node:https';
import type { MetricProvider, MeasurementContext } from './provider';
import { measured, measurementError, now, unchanged } from './provider';

const DEFAULT_TIMEOUT_SECONDS = 30;
const insecureAgent = new https.Agent({ rejectUnauthorized: false });

/** A sample as Prometheus writes it: "NaN", "+Inf", "-Inf" or a number. */
function parseSample(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64), as Argo shows values. */
export function formatSample(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  const s = String(n);
  if (!/e/.test(s)) return s;
  return n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
}

export async function queryPrometheus(ctx: MeasurementContext): Promise<{ result: number | number[]; value: string }> {
  const spec = ctx.metric.provider.prometheus!;
  const address = spec.address || process.env.ARGO_ROLLOUTS_PROMETHEUS_ADDRESS;
  if (!address) throw new Error('prometheus address is not configured');
  if (!/^https?:\/\/[^/]+/.test(address)) throw new Error('prometheus address is not is url format');
  const timeoutSeconds = spec.timeout ?? DEFAULT_TIMEOUT_SECONDS;
  if (timeoutSeconds < 0) throw new Error('prometheus timeout should not be negative');
  const headers: Record<string, string> = {};
  for (const h of spec.headers ?? []) headers[h.key] = h.value;
  // Loaded on first use: axios and nodemailer cost ~11 MiB resident in a process that never measures or notifies.
  const res = await (
    await import('axios')
  ).default.get(`${address.replace(/\/$/, '')}/api/v1/query`, {
    params: { query: spec.query },
    headers,
    timeout: timeoutSeconds * 1000,
    signal: ctx.signal,
    validateStatus: () => true,
    ...(spec.insecure ? { httpsAgent: insecureAgent } : {}),
  });
  const body = res.data;
  if (!body || typeof body !== 'object' || body.status !== 'success') {
    const reason = body && typeof body === 'object' ? `${body.errorType ?? 'error'}: ${body.error ?? 'unknown'}` : `HTTP ${res.status}`;
    throw new Error(`prometheus query failed: ${reason}`);
  }
  const { resultType, result } = body.data;
  switch (resultType) {
    case 'scalar': {
      const n = parseSample(result[1]);
      return { result: n, value: formatSample(n) };
    }
    case 'vector': {
      const ns = (result as { value: [number, string] }[]).map((s) => parseSample(s.value[1]));
      return { result: ns, value: `[${ns.map(formatSample).join(',')}]` };
    }
    case 'matrix': {
      const ns = (result as { values: [number, string][] }[]).flatMap((s) => s.values.map((v) => parseSample(v[1])));
      return { result: ns, value: `[${ns.map(formatSample).join(',')}]` };
    }
    default:
      throw new Error('Prometheus metric type not supported');
  }
}

export const prometheusProvider: MetricProvider = {
  async run(ctx) {
    const startedAt = now();
    try {
      const { result, value } = await queryPrometheus(ctx);
      return measured(ctx.metric, startedAt, result, value);
    } catch (err) {
      return measurementError(startedAt, err);
    }
  },
  resume: unchanged,
  terminate: unchanged,
};
