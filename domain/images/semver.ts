// Versions and constraints as Image Updater reads them, through Masterminds semver v3:
// a loose version ("v1.2", "1", "1.2.3-rc1+build"), and constraints with `||`, `,`/space
// for AND, `=`, `!=`, `>`, `<`, `>=`, `<=`, `~`, `~>`, `^`, x/X/* wildcards, missing
// parts as wildcards, hyphen ranges. A prerelease version satisfies a constraint only when
// that constraint names a prerelease itself (Masterminds' rule, which keeps rc tags out of `~1.0`).

export interface SemVersion {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  original: string;
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** undefined for a tag that is not a version (Image Updater skips those without error). */
export function parseVersion(s: string): SemVersion | undefined {
  const m = VERSION.exec(s);
  if (!m) return undefined;
  const pre = m[4] ?? '';
  // Numeric prerelease identifiers may not have leading zeros (semver 2.0.0 §9).
  if (pre.split('.').some((p) => /^0\d+$/.test(p))) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: pre, original: s };
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return Math.sign(d);
    } else if (nx !== ny) return nx ? -1 : 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Semver precedence; build metadata is ignored, so "1.0" and "1.0.0" compare equal. */
export function compareVersions(a: SemVersion, b: SemVersion): number {
  return Math.sign(a.major - b.major) || Math.sign(a.minor - b.minor) || Math.sign(a.patch - b.patch) || comparePrerelease(a.prerelease, b.prerelease);
}

type Op = '=' | '!=' | '>' | '<' | '>=' | '<=' | '~' | '^';

interface Bound {
  op: Op;
  v: SemVersion;
  /** Which parts were missing or x: 'major' (all), 'minor' (minor and patch), 'patch', or none. */
  wild: 'major' | 'minor' | 'patch' | undefined;
}

export class ConstraintError extends Error {}

/** A parsed constraint: OR of AND groups. */
export type SemConstraint = Bound[][];

const X = (p: string | undefined): boolean => p === 'x' || p === 'X' || p === '*';
const PART = String.raw`(?:\d+|[xX*])`;
const BOUND = new RegExp(
  String.raw`^(=|!=|>=|=>|<=|=<|~>|>|<|~|\^)?\s*v?(${PART})(?:\.(${PART}))?(?:\.(${PART}))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-.]+)?$`,
);

function parseBound(text: string): Bound {
  const m = BOUND.exec(text);
  if (!m) throw new ConstraintError(`improper constraint: ${text}`);
  const raw = m[1] ?? '=';
  const op: Op = raw === '=>' ? '>=' : raw === '=<' ? '<=' : raw === '~>' ? '~' : (raw as Op);
  const [maj, min, pat] = [m[2], m[3], m[4]];
  let wild: Bound['wild'];
  if (X(maj)) wild = 'major';
  else if (min === undefined || X(min)) wild = 'minor';
  else if (pat === undefined || X(pat)) wild = 'patch';
  const num = (p: string | undefined): number => (p === undefined || X(p) ? 0 : Number(p));
  const v: SemVersion = { major: num(maj), minor: wild === 'major' ? 0 : num(min), patch: wild ? 0 : num(pat), prerelease: m[5] ?? '', original: text };
  return { op, v, wild };
}

/** Parses a Masterminds constraint; throws ConstraintError naming the bad part. */
export function parseConstraint(text: string): SemConstraint {
  const trimmed = text.trim();
  if (trimmed === '') throw new ConstraintError('empty constraint');
  return trimmed.split('||').map((group) => {
    const g = group.trim();
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(g);
    if (hyphen) return [parseBound(`>=${hyphen[1]}`), parseBound(`<=${hyphen[2]}`)];
    // Operators may be followed by a space (">= 1.2"): glue them to their version first.
    const parts = g
      .replace(/(=|!=|>=|=>|<=|=<|~>|>|<|~|\^)\s+/g, '$1')
      .split(/[\s,]+/)
      .filter((p) => p !== '');
    if (parts.length === 0) throw new ConstraintError(`improper constraint: ${text}`);
    return parts.map(parseBound);
  });
}

const v3 = (major: number, minor = 0, patch = 0): SemVersion => ({ major, minor, patch, prerelease: '', original: '' });

function within(v: SemVersion, lo: SemVersion, hiExclusive: SemVersion | undefined): boolean {
  return compareVersions(v, lo) >= 0 && (hiExclusive === undefined || compareVersions(v, hiExclusive) < 0);
}

/** The exclusive upper end of the range a wildcard bound stands for. */
function wildEnd(b: Bound): SemVersion | undefined {
  if (b.wild === 'major') return undefined;
  if (b.wild === 'minor') return v3(b.v.major + 1);
  if (b.wild === 'patch') return v3(b.v.major, b.v.minor + 1);
  return undefined;
}

function check(b: Bound, v: SemVersion): boolean {
  if (v.prerelease !== '' && b.v.prerelease === '') return false;
  const c = compareVersions(v, b.v);
  switch (b.op) {
    case '=':
      return b.wild ? within(v, b.v, wildEnd(b)) : c === 0;
    case '!=':
      return b.wild ? !within(v, b.v, wildEnd(b)) : c !== 0;
    case '>': {
      if (!b.wild) return c > 0;
      const end = wildEnd(b);
      return end !== undefined && compareVersions(v, end) >= 0;
    }
    case '<':
      return c < 0;
    case '>=':
      return c >= 0;
    case '<=': {
      if (!b.wild) return c <= 0;
      const end = wildEnd(b);
      return end === undefined || compareVersions(v, end) < 0;
    }
    case '~': {
      // ~1.2.3 := >=1.2.3 <1.3.0; ~1 := >=1 <2; ~0 := <1.
      if (b.wild === 'major') return true;
      const end = b.wild === 'minor' ? v3(b.v.major + 1) : v3(b.v.major, b.v.minor + 1);
      return within(v, b.v, end);
    }
    case '^': {
      // ^1.2.3 := <2.0.0; ^0.2.3 := <0.3.0; ^0.0.3 := <0.0.4; ^0 := <1; ^0.0 := <0.1.
      if (b.wild === 'major') return true;
      let end: SemVersion;
      if (b.v.major > 0 || b.wild === 'minor') end = v3(b.v.major + 1);
      else if (b.v.minor > 0 || b.wild === 'patch') end = v3(0, b.v.minor + 1);
      else end = v3(0, 0, b.v.patch + 1);
      return within(v, b.v, end);
    }
  }
}

export function satisfies(c: SemConstraint, v: SemVersion): boolean {
  return c.some((group) => group.every((b) => check(b, v)));
}
