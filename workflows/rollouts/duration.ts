// Argo durations: an integer is seconds; a string is Go's time.Duration syntax
// ("30s", "5m", "1h30m", "500ms"). Pure, so workflows can use it.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export class DurationError extends Error {}

/** Milliseconds for an Argo duration; throws DurationError naming the value. */
export function parseDuration(value: number | string | undefined | null): number {
  if (value === undefined || value === null) throw new DurationError('no duration given');
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new DurationError(`invalid duration ${value}: must be a non-negative number of seconds`);
    return value * 1000;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    part.lastIndex = pos;
    const m = part.exec(text);
    if (!m) throw new DurationError(`invalid duration "${value}": expected a number of seconds or a duration such as 30s, 5m, 1h`);
    total += Number(m[1]) * UNIT_MS[m[2]];
    pos = part.lastIndex;
  }
  if (text.length === 0) throw new DurationError(`invalid duration "${value}"`);
  return Math.round(total);
}
