// Argo CD's multiple sources (spec.sources[]), pure: which sources an Application has,
// which are only there to lend files (`ref` with no path or chart), how one revision per
// source travels as a single string through the sync path, and how a Helm value file
// written `$<ref>/<path>` names a file of another source.
import { checkSourcePath, SourceRefusedError } from './source-safety';
import type { ApplicationSource, ApplicationSpec } from './types';

export interface IndexedSource {
  source: ApplicationSource;
  /** The field shown in errors: spec.source or spec.sources[i]. */
  field: string;
}

/** spec.sources when it has entries (Argo ignores spec.source then), else spec.source. */
export function sourcesOf(spec: ApplicationSpec): IndexedSource[] {
  if (spec.sources && spec.sources.length > 0) return spec.sources.map((source, i) => ({ source, field: `spec.sources[${i}]` }));
  return spec.source ? [{ source: spec.source, field: 'spec.source' }] : [];
}

export const isMultiSource = (spec: ApplicationSpec) => (spec.sources?.length ?? 0) > 0;

/** A `ref` source with neither path nor chart only provides files to the others; it renders nothing. */
export const isRefOnly = (s: ApplicationSource) => !!s.ref && !s.path && !s.chart;

/**
 * One revision per source travels as one string (commit SHAs never contain ','): the
 * comparison's revision, a sync's revision and a history entry's revision.
 */
export function joinRevisions(revisions: string[]): string {
  return revisions.join(',');
}

/** The revision each source is read at: the joined form split back, else each source's targetRevision. */
export function revisionsFor(spec: ApplicationSpec, revision: string | undefined): (string | undefined)[] {
  const sources = sourcesOf(spec);
  if (!revision) return sources.map(({ source }) => source.targetRevision);
  if (!isMultiSource(spec)) return [revision];
  const parts = revision.split(',');
  return sources.map(({ source }, i) => (parts[i]?.trim() ? parts[i]!.trim() : source.targetRevision));
}

/** The names sources declare with `ref`; a name declared twice is refused (Argo refuses duplicates too). */
export function refNames(spec: ApplicationSpec): Map<string, number> {
  const names = new Map<string, number>();
  sourcesOf(spec).forEach(({ source, field }, i) => {
    if (!source.ref) return;
    if (!/^[A-Za-z0-9_-]+$/.test(source.ref))
      throw new SourceRefusedError(`${field}.ref ${JSON.stringify(source.ref)} may hold only letters, digits, '-' and '_'`);
    if (names.has(source.ref)) throw new SourceRefusedError(`${field}.ref ${JSON.stringify(source.ref)} is declared by more than one source`);
    names.set(source.ref, i);
  });
  return names;
}

/**
 * A Helm value file `$<ref>/<path>`: the index of the source named `ref` and the path inside
 * its repository (".." refused); undefined for a plain file, relative to the chart.
 */
export function referencedValueFile(file: string, refs: Map<string, number>, field: string): { source: number; path: string } | undefined {
  if (!file.startsWith('$')) return undefined;
  const slash = file.indexOf('/');
  const name = (slash < 0 ? file : file.slice(0, slash)).slice(1);
  const index = refs.get(name);
  if (index === undefined) {
    const known = [...refs.keys()].map((k) => `$${k}`);
    throw new SourceRefusedError(
      `${field} ${JSON.stringify(file)} references $${name}, but no source has ref: ${name}${known.length ? ` (declared: ${known.join(', ')})` : ' (no source declares a ref)'}`,
    );
  }
  const rel = slash < 0 ? '' : file.slice(slash + 1);
  if (rel === '') throw new SourceRefusedError(`${field} ${JSON.stringify(file)} names no file inside $${name}`);
  return { source: index, path: checkSourcePath(rel, `${field} ${JSON.stringify(file)}`) };
}
