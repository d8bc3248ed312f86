// Semantic versions and version constraints as Masterminds/semver v3 reads them, the
// library behind Helm's chart versions (and so Argo CD's `targetRevision` for charts) and
// Argo CD Image Updater's `semver` strategy: loose versions ("v1.2", "1"), constraints with
// `||`, `,`/space for AND, comparisons, `~`, `^`, wildcards and hyphen ranges; a prerelease
// satisfies only a constraint that names a prerelease itself.

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: string;
  /** The text it was read from. */
  original: string;
}

const VERSION = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/;

/** A version as Masterminds reads it loosely: "v" prefix, missing minor/patch as 0; undefined when it is not one. */
export function parseVersion(text: string): SemVer | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  // Numeric prerelease identifiers may not have leading zeros (semver 2.0.0 §9; Masterminds refuses them).
  if ((m[4] ?? '').split('.').some((p) => /^0\d+$/.test(p))) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0), prerelease: m[4] ?? '', original: text.trim() };
}

function comparePrerelease(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1; // a release is above its prereleases
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
      if (Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    } else if (nx !== ny) return nx ? -1 : 1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePrerelease(a.prerelease, b.prerelease);
}

// ---------------------------------------------------------------------------
// Constraints

type Op = '=' | '!=' | '>' | '<' | '>=' | '<=';
interface Comparison {
  op: Op;
  v: SemVer;
}
/** Comparisons that must all hold; a constraint is a union (||) of these. */
type Conjunction = Comparison[];

export class ConstraintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConstraintError';
  }
}

const WILD = /^(x|X|\*)$/;
const v3 = (major: number, minor: number, patch: number, prerelease = ''): SemVer => ({
  major,
  minor,
  patch,
  prerelease,
  original: `${major}.${minor}.${patch}${prerelease ? `-${prerelease}` : ''}`,
});

/** A version with wildcards or missing parts: how many leading parts are given. */
function partial(text: string, whole: string): { parts: number[]; given: number; prerelease: string } {
  const m = /^v?([0-9xX*]+)(?:\.([0-9xX*]+))?(?:\.([0-9xX*]+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(text);
  if (!m) throw new ConstraintError(`${JSON.stringify(whole)} is not a version constraint: ${JSON.stringify(text)} is not a version`);
  const raw = [m[1], m[2], m[3]];
  const parts: number[] = [];
  let given = 0;
  for (const r of raw) {
    if (r === undefined || WILD.test(r)) break;
    if (!/^\d+$/.test(r)) throw new ConstraintError(`${JSON.stringify(whole)} is not a version constraint`);
    parts.push(Number(r));
    given++;
  }
  while (parts.length < 3) parts.push(0);
  return { parts, given, prerelease: given === 3 ? (m[4] ?? '') : '' };
}

/** The exclusive upper bound when the first `given` parts are fixed ("1.2" → <1.3.0). */
function bumpAt(parts: number[], given: number): SemVer {
  if (given <= 1) return v3((parts[0] ?? 0) + 1, 0, 0);
  if (given === 2) return v3(parts[0]!, parts[1]! + 1, 0);
  return v3(parts[0]!, parts[1]!, parts[2]! + 1);
}

function expand(term: string, whole: string): Conjunction {
  const m = /^(\^|~>|~|>=|<=|!=|=>|=<|>|<|=)?\s*(.+)$/.exec(term);
  if (!m) throw new ConstraintError(`${JSON.stringify(whole)} is not a version constraint`);
  const op = m[1] ?? '';
  const { parts, given, prerelease } = partial(m[2]!.trim(), whole);
  const [major, minor, patch] = parts as [number, number, number];
  const low = v3(major, minor, patch, prerelease);
  if (given === 0) {
    // "*", ">=*": any release; "<*", "!=*": nothing Masterminds would pick either.
    return op === '' || op === '=' || op.startsWith('>') || op === '^' || op.startsWith('~') ? [{ op: '>=', v: v3(0, 0, 0) }] : [{ op: '<', v: v3(0, 0, 0) }];
  }
  switch (op) {
    case '^': {
      // Up to the next change of the first non-zero part (Masterminds: ^0.0 → <0.1.0, ^0 → <1.0.0).
      let high: SemVer;
      if (major > 0 || given === 1) high = v3(major + 1, 0, 0);
      else if (minor > 0 || given === 2) high = v3(0, minor + 1, 0);
      else high = v3(0, 0, patch + 1);
      return [
        { op: '>=', v: low },
        { op: '<', v: high },
      ];
    }
    case '~':
    case '~>':
      if (given === 3 && major === 0 && minor === 0 && patch === 0) return [{ op: '>=', v: low }]; // ~0.0.0: any
      return [
        { op: '>=', v: low },
        { op: '<', v: given === 1 ? v3(major + 1, 0, 0) : v3(major, minor + 1, 0) },
      ];
    case '':
    case '=':
      if (given === 3) return [{ op: '=', v: low }];
      return [
        { op: '>=', v: low },
        { op: '<', v: bumpAt(parts, given) },
      ];
    case '!=':
      if (given === 3) return [{ op: '!=', v: low }];
      // "!=1.2.x": outside the 1.2 line; a union within one conjunction is not needed, checked as a range.
      return [{ op: '!=', v: { ...low, original: `${major}.${given > 1 ? minor : 'x'}.x` } }];
    case '>':
      return given === 3 ? [{ op: '>', v: low }] : [{ op: '>=', v: bumpAt(parts, given) }];
    case '>=':
    case '=>':
      return [{ op: '>=', v: low }];
    case '<':
      return [{ op: '<', v: low }];
    case '<=':
    case '=<':
      return given === 3 ? [{ op: '<=', v: low }] : [{ op: '<', v: bumpAt(parts, given) }];
  }
  throw new ConstraintError(`${JSON.stringify(whole)} is not a version constraint`);
}

export interface Constraint {
  text: string;
  alternatives: Conjunction[];
}

/**
 * Masterminds' constraint syntax: comparisons joined by ',' or spaces (all must hold),
 * alternatives by '||', hyphen ranges "1.2 - 1.4.5", wildcards "1.2.*" / "1.x", "~", "^".
 */
export function parseConstraint(text: string): Constraint {
  const whole = text.trim();
  if (whole === '') return { text: '*', alternatives: [[{ op: '>=', v: v3(0, 0, 0) }]] };
  const alternatives = whole.split('||').map((alt) => {
    const a = alt.trim();
    if (a === '') throw new ConstraintError(`${JSON.stringify(whole)} is not a version constraint (an empty alternative)`);
    const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(a);
    if (hyphen) return [...expand(`>=${hyphen[1]}`, whole), ...expand(`<=${hyphen[2]}`, whole)];
    // Operators may be followed by spaces ("> 1.0"): join them before splitting on spaces.
    const terms = a
      .replace(/(\^|~>|~|>=|<=|!=|=>|=<|>|<|=)\s+/g, '$1')
      .split(/[\s,]+/)
      .filter((t) => t !== '');
    return terms.flatMap((t) => expand(t, whole));
  });
  return { text: whole, alternatives };
}

function holds(c: Comparison, v: SemVer, includePre: boolean): boolean {
  if (v.prerelease !== '' && !includePre) return false;
  if (c.op === '!=' && c.v.original.endsWith('.x')) {
    const [maj, min] = c.v.original.split('.');
    return !(v.major === Number(maj) && (min === 'x' || v.minor === Number(min)));
  }
  const d = compareVersions(v, c.v);
  switch (c.op) {
    case '=':
      return d === 0;
    case '!=':
      return d !== 0;
    case '>':
      return d > 0;
    case '<':
      return d < 0;
    case '>=':
      return d >= 0;
    case '<=':
      return d <= 0;
  }
}

export function satisfies(version: SemVer, constraint: Constraint): boolean {
  // A prerelease is considered only by an alternative that names a prerelease itself (Masterminds v3).
  return constraint.alternatives.some((conj) => {
    const includePre = conj.some((c) => c.v.prerelease !== '');
    return conj.every((c) => holds(c, version, includePre));
  });
}

/** The highest of `versions` satisfying `constraint` (texts that are not versions are ignored). */
export function maxSatisfying(versions: readonly string[], constraint: Constraint): string | undefined {
  let best: SemVer | undefined;
  for (const text of versions) {
    const v = parseVersion(text);
    if (!v || !satisfies(v, constraint)) continue;
    if (!best || compareVersions(v, best) > 0) best = v;
  }
  return best?.original;
}

/** Argo CD's test for a targetRevision that names one version rather than a constraint. */
export const isExactVersion = (text: string) => /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(text.trim());
