// Charts from Helm repositories and OCI registries, pure: Helm's semantic versions and
// version constraints (Masterminds/semver v3, which Helm and Argo CD use), the repository
// index (index.yaml), where a chart archive is downloaded from, and what an OCI chart
// reference names. The fetching is in activities/render/helm-repositories.ts.
import { parse } from 'yaml';
import { redactURL, SourceRefusedError } from './source-safety';

// ---------------------------------------------------------------------------
// Versions

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

// ---------------------------------------------------------------------------
// Repository index

export interface ChartVersion {
  name: string;
  version: string;
  urls: string[];
  /** sha256 of the archive, hex, when the index gives one. */
  digest?: string;
}

export type ChartIndex = Map<string, ChartVersion[]>;

export class ChartNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChartNotFoundError';
  }
}

/** index.yaml (apiVersion v1, `entries: {<chart>: [{version, urls, digest}]}`); throws naming what is wrong. */
export function parseIndex(text: string, repo: string): ChartIndex {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ChartNotFoundError(`the index of Helm repository ${redactURL(repo)} does not parse: ${(err as Error).message.split('\n')[0]}`);
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!doc || typeof doc !== 'object' || !entries || typeof entries !== 'object' || Array.isArray(entries))
    throw new ChartNotFoundError(`the index of Helm repository ${redactURL(repo)} has no entries mapping; is it a Helm repository?`);
  const index: ChartIndex = new Map();
  for (const [name, list] of Object.entries(entries as Record<string, unknown>)) {
    if (!Array.isArray(list)) continue;
    const versions: ChartVersion[] = [];
    for (const e of list as Record<string, unknown>[]) {
      if (!e || typeof e !== 'object' || e.version === undefined || e.version === null) continue;
      const urls = Array.isArray(e.urls) ? e.urls.filter((u): u is string => typeof u === 'string') : [];
      const digest = typeof e.digest === 'string' && /^(sha256:)?[0-9a-f]{64}$/.test(e.digest) ? e.digest.replace(/^sha256:/, '') : undefined;
      versions.push({ name, version: String(e.version), urls, ...(digest ? { digest } : {}) });
    }
    index.set(name, versions);
  }
  return index;
}

/**
 * The version of `chart` that `targetRevision` selects: the exact version when the index
 * has it, else the highest satisfying the constraint ("" and "*" mean the latest release).
 */
export function resolveChartVersion(index: ChartIndex, chart: string, targetRevision: string | undefined, repo: string): ChartVersion {
  const versions = index.get(chart);
  if (!versions || versions.length === 0) throw new ChartNotFoundError(`chart ${JSON.stringify(chart)} is not in Helm repository ${redactURL(repo)}`);
  const wanted = (targetRevision ?? '').trim();
  const exact = versions.find((v) => v.version === wanted || v.version === wanted.replace(/^v/, ''));
  if (exact) return exact;
  let constraint: Constraint;
  try {
    constraint = parseConstraint(wanted);
  } catch (err) {
    throw new ChartNotFoundError(`chart ${JSON.stringify(chart)} in ${redactURL(repo)}: targetRevision ${(err as Error).message}`);
  }
  const picked = maxSatisfying(
    versions.map((v) => v.version),
    constraint,
  );
  if (picked === undefined) {
    const known = versions
      .map((v) => v.version)
      .slice(0, 10)
      .join(', ');
    throw new ChartNotFoundError(
      `chart ${JSON.stringify(chart)} has no version ${isExactVersion(wanted) ? JSON.stringify(wanted) : `matching ${JSON.stringify(constraint.text)}`} in Helm repository ${redactURL(repo)} (it has ${known})`,
    );
  }
  return versions.find((v) => v.version === picked)!;
}

/**
 * Where an index entry's archive is: an absolute URL as given, a relative one against the
 * repository URL (taken as a directory, as Helm does).
 */
export function chartDownloadURL(repoURL: string, entry: ChartVersion): string {
  const first = entry.urls[0];
  if (!first) throw new ChartNotFoundError(`chart ${JSON.stringify(entry.name)} ${entry.version} in ${redactURL(repoURL)} lists no download URL`);
  const base = repoURL.endsWith('/') ? repoURL : `${repoURL}/`;
  const url = new URL(first, base);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new SourceRefusedError(`chart ${JSON.stringify(entry.name)} ${entry.version} in ${redactURL(repoURL)}: download URL scheme ${url.protocol} refused`);
  return url.toString();
}

/** Whether credentials for `repoURL` go to `target`: same origin always, another host only with passCredentials. */
export function sendsCredentials(repoURL: string, target: string, passCredentials: boolean): boolean {
  if (passCredentials) return true;
  try {
    return new URL(repoURL).host === new URL(target).host;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// OCI

/** A registry host: no leading '-' or '.', an optional port. */
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d+)?$/;

export interface OciChart {
  /** The registry host (with port). */
  registry: string;
  /** oci://host/path/chart, what helm pull takes. */
  reference: string;
}

/**
 * A chart in an OCI registry: repoURL `oci://host/path` (any Argo version), or `host/path`
 * when the repository Secret sets enableOCI (Argo CD 2.x). The chart name is appended.
 */
export function ociChart(repoURL: string, chart: string, enableOCI: boolean): OciChart | undefined {
  const url = repoURL.trim().replace(/\/+$/, '');
  let rest: string;
  if (/^oci:\/\//i.test(url)) rest = url.slice('oci://'.length);
  else if (enableOCI && !/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) rest = url;
  else return undefined;
  const registry = rest.split('/')[0] ?? '';
  if (!HOST.test(registry)) throw new SourceRefusedError(`repoURL ${JSON.stringify(redactURL(repoURL))} does not start with a registry host`);
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(chart)) throw new SourceRefusedError(`chart ${JSON.stringify(chart)} is not an OCI repository name`);
  if (
    rest
      .split('/')
      .slice(1)
      .some((p) => !/^[a-z0-9]+([._-][a-z0-9]+)*$/.test(p))
  )
    throw new SourceRefusedError(`repoURL ${JSON.stringify(redactURL(repoURL))} is not an OCI repository path`);
  return { registry, reference: `oci://${rest}/${chart}` };
}

/**
 * A chart source's repoURL: http(s) for a Helm repository, oci:// or a bare registry
 * host/path for OCI. Nothing else reaches the network.
 */
export function checkChartRepoURL(repoURL: unknown, field: string): string {
  if (typeof repoURL !== 'string' || repoURL.trim() === '') throw new SourceRefusedError(`${field}.repoURL is empty`);
  const url = repoURL.trim();
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\x00-\x1f\x7f\s]/.test(url)) throw new SourceRefusedError(`${field}.repoURL contains spaces or control characters; refused`);
  if (/^https?:\/\//i.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new SourceRefusedError(`${field}.repoURL ${JSON.stringify(redactURL(url))} is not a URL`);
    }
    return url;
  }
  if (/^oci:\/\//i.test(url)) return (ociChart(url, 'chart', false), url);
  const host = url.split('/')[0]!;
  if (HOST.test(host) && /^[^/]+(\/[A-Za-z0-9._-]+)*$/.test(url)) return url;
  throw new SourceRefusedError(
    `${field}.repoURL ${JSON.stringify(redactURL(url))} is not a Helm repository (http://, https://) or OCI registry (oci://host/path)`,
  );
}

/** A chart's name as a path: no "..", no leading "/", nothing helm could read as an option. */
export function checkChartName(chart: unknown, field: string): string {
  if (typeof chart !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/.test(chart) || chart.split('/').includes('..'))
    throw new SourceRefusedError(`${field}.chart ${JSON.stringify(chart)} is not a chart name`);
  return chart;
}

/** helm.version: only Helm 3 renders (Argo CD dropped Helm 2). */
export function checkHelmVersion(version: unknown, field: string): void {
  if (version === undefined || version === null || version === '' || version === 'v3') return;
  throw new SourceRefusedError(`${field}.helm.version ${JSON.stringify(version)}: only v3 is supported`);
}
