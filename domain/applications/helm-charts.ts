// Charts from Helm repositories and OCI registries, pure: the repository index
// (index.yaml) and which version a targetRevision picks (versions and constraints are
// domain/argo/semver.ts), where a chart archive is downloaded from, and what an OCI chart
// reference names. The fetching is in activities/render/helm-repositories.ts.
import { parse } from 'yaml';
import { isExactVersion, maxSatisfying, parseConstraint, type Constraint } from '../argo/semver';
import { redactURL, SourceRefusedError } from './source-safety';

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
