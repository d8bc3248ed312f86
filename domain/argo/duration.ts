// Durations as Argo writes them: Go's time.ParseDuration ("30s", "5m", "1h30m", "500ms",
// "-1.5h"), which AppProject sync windows use as it is, and Argo Rollouts' DurationString
// on top of it, where a bare integer is seconds. Pure, so workflows can use it.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export class DurationError extends Error {}

/** Go's time.ParseDuration, in milliseconds; undefined when Go would refuse it. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  const unit = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = unit.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * UNIT_MS[m[3]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/**
 * Milliseconds for an Argo Rollouts duration: a number of seconds, or a Go duration.
 * A negative one is refused (no pause, interval or backoff means it). Throws
 * DurationError naming the value.
 */
export function parseDuration(value: number | string | undefined | null): number {
  if (value === undefined || value === null) throw new DurationError('no duration given');
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new DurationError(`invalid duration ${value}: must be a non-negative number of seconds`);
    return value * 1000;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const ms = parseGoDuration(text);
  if (ms === undefined || ms < 0) throw new DurationError(`invalid duration "${value}": expected a number of seconds or a duration such as 30s, 5m, 1h`);
  return Math.round(ms);
}
