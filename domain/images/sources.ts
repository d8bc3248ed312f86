// Which of an Application's sources takes an image's new tag, and where its write-back goes.
// Image Updater picks one source for the whole Application: the source type the write-back
// target implies (kustomization → Kustomize, a helmvalues file → Helm), else the first Helm
// or Kustomize source, found by its explicit `helm:`/`kustomize:` block or by the index of
// status.sourceTypes. Sluice decides the same way per image, so an image with Helm value
// names goes to the Helm source and one with a kustomize image name to the Kustomize source
// of the same Application, and a source that cannot take the update is passed over:
//   - a `ref` source with neither path nor chart only lends files to the others;
//   - a plugin source, or one whose type is not known yet (no status), renders in ways
//     Sluice does not write to;
//   - a plain directory needs write-back git (marker comments);
//   - a chart from a Helm repository has no files in Git: git write-back goes to a values
//     file of a `ref` source, named `helmvalues:$<ref>/<path>` (Argo CD's own valueFiles
//     notation) or found among the chart's `$<ref>/…` valueFiles by its path.
// The `.argocd-source-<app>.yaml` file and relative write-back-target paths resolve against
// the chosen source's path, in the chosen source's repository, on its targetRevision.

import type { ImageSpec, WriteBack, WriteBackTarget } from './annotations';
import type { SourceKind } from './git-target';
import {
  helmParametersFor,
  helmTagIn,
  kustomizeImageFor,
  kustomizeTagIn,
  mergeHelmParameters,
  mergeKustomizeImages,
  type ChosenImage,
  type HelmParameter,
} from './write-back';
import { valueKey } from './selection';

/** The fields of an Application source this decision reads (Argo CD's ApplicationSource). */
export interface UpdatableSource {
  repoURL: string;
  path?: string;
  chart?: string;
  ref?: string;
  targetRevision?: string;
  helm?: { valueFiles?: string[]; parameters?: HelmParameter[]; [k: string]: unknown };
  kustomize?: { images?: string[]; [k: string]: unknown };
  directory?: { recurse?: boolean; [k: string]: unknown };
  plugin?: unknown;
  [k: string]: unknown;
}

export interface AppSources {
  /** spec.sources when it has entries (Argo CD ignores spec.source then), else [spec.source]. */
  sources: UpdatableSource[];
  /** true for spec.sources. */
  multi: boolean;
  /** status.sourceType (one source) or status.sourceTypes (several). */
  sourceType?: string;
  sourceTypes?: string[];
}

/** Where a git write-back goes: a file (or, for a plain directory, the source's manifests) in one repository. */
export interface GitLocation {
  repoURL: string;
  targetRevision?: string;
  /** The path relative targets resolve against (the source's path; '' = repository root). */
  path: string;
  target: WriteBackTarget;
  /** A plain directory's `directory.recurse`. */
  recurse?: boolean;
}

export interface SourceChoice {
  /** Index in spec.sources; undefined for spec.source. */
  index?: number;
  kind: SourceKind;
  /** Set for write-back git. */
  git?: GitLocation;
}

export type SourceDecision = SourceChoice | { problem: string };

/** Applications as Kubernetes returns them: the sources and the detected types in the status. */
export function appSourcesOf(app: {
  spec?: { source?: UpdatableSource; sources?: UpdatableSource[] };
  status?: { sourceType?: string; sourceTypes?: string[] };
}): AppSources {
  const multi = (app.spec?.sources?.length ?? 0) > 0;
  const sources = multi ? app.spec!.sources! : app.spec?.source ? [app.spec.source] : [];
  return {
    sources,
    multi,
    ...(app.status?.sourceType ? { sourceType: app.status.sourceType } : {}),
    ...(app.status?.sourceTypes ? { sourceTypes: app.status.sourceTypes } : {}),
  };
}

const isRefOnly = (s: UpdatableSource) => !!s.ref && !s.path && !s.chart;

/**
 * The detected type of source i: Argo CD's status.sourceTypes is index-aligned with
 * spec.sources; Sluice's own status leaves the ref-only sources out, so a list as long as
 * the rendering sources is read in their order.
 */
function detectedType(app: AppSources, i: number): string | undefined {
  if (!app.multi) return app.sourceType;
  const types = app.sourceTypes ?? [];
  if (types.length === app.sources.length) return types[i];
  const rendering = app.sources.map((s, j) => (isRefOnly(s) ? -1 : j)).filter((j) => j >= 0);
  return types.length === rendering.length ? types[rendering.indexOf(i)] : undefined;
}

export function sourceKindOf(app: AppSources, i: number): SourceKind | undefined {
  const s = app.sources[i]!;
  if (s.plugin) return undefined;
  if (s.chart || s.helm) return 'helm';
  if (s.kustomize) return 'kustomize';
  if (s.directory) return 'directory';
  const t = detectedType(app, i);
  return t === 'Helm' ? 'helm' : t === 'Kustomize' ? 'kustomize' : t === 'Directory' ? 'directory' : undefined;
}

/** The source type an image asks for: the write-back target's, else its own settings' (Helm value names, Kustomize image name). */
function wantedKind(spec: ImageSpec, wb: WriteBack): SourceKind | undefined {
  if (wb.method === 'git' && wb.target.kind === 'kustomization') return 'kustomize';
  if (wb.method === 'git' && wb.target.kind === 'helmvalues') return 'helm';
  if (spec.helm) return 'helm';
  if (spec.kustomizeImageName) return 'kustomize';
  return undefined;
}

/** `a/./b/../c` → `a/c`; undefined when it climbs out of the repository. */
function normalize(p: string): string | undefined {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/** `$name/rest` → the source with `ref: name` and the path inside it. */
function refFile(sources: UpdatableSource[], text: string): { index: number; path: string } | string {
  const slash = text.indexOf('/');
  const name = (slash < 0 ? text : text.slice(0, slash)).slice(1);
  const index = sources.findIndex((s) => s.ref === name);
  if (index < 0) return `names $${name}, but no source has ref: ${name}`;
  const rest = normalize(slash < 0 ? '' : text.slice(slash + 1));
  if (!rest) return `names no file inside $${name}`;
  return { index, path: rest };
}

/** Where the git write-back of source i goes, or why it cannot. */
function gitLocation(app: AppSources, i: number, kind: SourceKind, wb: Extract<WriteBack, { method: 'git' }>): GitLocation | string {
  const s = app.sources[i]!;
  const target = wb.target;
  if (target.kind === 'helmvalues' && target.path.startsWith('$')) {
    if (kind !== 'helm') return `write-back-target helmvalues:${target.path} names a values file of a Helm source, and this source is not one`;
    if (!app.multi) return `write-back-target helmvalues:${target.path} names a ref source, but the Application has a single source`;
    const f = refFile(app.sources, target.path);
    if (typeof f === 'string') return `write-back-target helmvalues:${target.path} ${f}`;
    const r = app.sources[f.index]!;
    return {
      repoURL: r.repoURL,
      ...(r.targetRevision ? { targetRevision: r.targetRevision } : {}),
      path: '',
      target: { kind: 'helmvalues', path: `/${f.path}` },
    };
  }
  if (wb.repository) {
    // `git-repository`: the write goes to that repository, at the source's path; a chart's
    // version is no branch there, so the base branch is git-branch's or the default one.
    return {
      repoURL: wb.repository,
      ...(s.targetRevision && !s.chart ? { targetRevision: s.targetRevision } : {}),
      path: s.chart ? '' : (s.path ?? ''),
      target,
      ...(kind === 'directory' ? { recurse: !!s.directory?.recurse } : {}),
    };
  }
  if (s.chart) {
    // The chart's values file `$<ref>/<p>` where <p> is the target's path: that ref source's repository holds it.
    const wanted = target.kind === 'helmvalues' ? normalize(target.path) : undefined;
    if (wanted && app.multi)
      for (const v of s.helm?.valueFiles ?? []) {
        if (!v.startsWith('$')) continue;
        const f = refFile(app.sources, v);
        if (typeof f !== 'string' && f.path === wanted) {
          const r = app.sources[f.index]!;
          return {
            repoURL: r.repoURL,
            ...(r.targetRevision ? { targetRevision: r.targetRevision } : {}),
            path: '',
            target: { kind: 'helmvalues', path: `/${f.path}` },
          };
        }
      }
    return `chart ${s.chart} comes from a Helm repository, which git cannot write to (write-back-target helmvalues:$<ref>/<values file> writes a values file of a ref source)`;
  }
  return {
    repoURL: s.repoURL,
    ...(s.targetRevision ? { targetRevision: s.targetRevision } : {}),
    path: s.path ?? '',
    target,
    ...(kind === 'directory' ? { recurse: !!s.directory?.recurse } : {}),
  };
}

/** Why source i cannot take this image's update, or where it goes. */
function tryTake(app: AppSources, i: number, wb: WriteBack): SourceChoice | string {
  const s = app.sources[i]!;
  if (app.multi && isRefOnly(s)) return `only lends files to the others (ref: ${s.ref})`;
  if (s.plugin) return 'a plugin source';
  const kind = sourceKindOf(app, i);
  if (!kind) return 'neither Helm, Kustomize nor a plain directory (or its type is not detected yet)';
  const index = app.multi ? { index: i } : {};
  if (wb.method === 'argocd') {
    if (kind === 'directory') return 'a plain-directory source is updated through marker comments in Git: it needs write-back-method git';
    return { ...index, kind };
  }
  const git = gitLocation(app, i, kind, wb);
  return typeof git === 'string' ? git : { ...index, kind, git };
}

/**
 * The source taking an image's update: the first (in spec order) of the type the image
 * asks for that can take it, else the first Helm or Kustomize source that can, else a
 * plain directory (marker comments); a problem naming every source's reason otherwise.
 */
export function sourceFor(app: AppSources, spec: ImageSpec, wb: WriteBack): SourceDecision {
  if (app.sources.length === 0) return { problem: 'the Application has no source' };
  const tried = app.sources.map((_, i) => tryTake(app, i, wb));
  const ok = tried.map((t, i) => ({ t, i })).filter((x): x is { t: SourceChoice; i: number } => typeof x.t !== 'string');
  const wanted = wantedKind(spec, wb);
  const pick = (wanted && ok.find((x) => x.t.kind === wanted)) ?? ok.find((x) => x.t.kind !== 'directory') ?? ok[0];
  if (pick) return pick.t;
  if (!app.multi) return { problem: `the Application source cannot take image updates: ${tried[0] as string}` };
  return { problem: `no source of the Application can take this image: ${tried.map((t, i) => `spec.sources[${i}]: ${t as string}`).join('; ')}` };
}

/** A stable key of where a write goes: updates with the same key are one write (one file, one commit). */
export function writeKey(c: SourceChoice): string {
  if (!c.git) return `source:${c.index ?? ''}`;
  const t = c.git.target;
  return JSON.stringify([c.git.repoURL, c.git.targetRevision ?? '', c.git.path, t.kind, 'path' in t ? t.path : '', c.kind === 'directory']);
}

/** What write-back `argocd` finds on the source now for an image (tag, or digest). */
export function currentOnSource(source: UpdatableSource, kind: SourceKind, spec: ImageSpec): string | undefined {
  return valueKey(kind === 'helm' ? helmTagIn(source.helm?.parameters ?? [], spec) : kustomizeTagIn(source.kustomize?.images ?? [], spec));
}

/** The source with write-back `argocd`'s parameter overrides (Helm parameters, Kustomize images) merged in. */
export function sourceWithOverrides(source: UpdatableSource, kind: SourceKind, updates: readonly { spec: ImageSpec; chosen: ChosenImage }[]): UpdatableSource {
  if (kind === 'helm')
    return {
      ...source,
      helm: {
        ...(source.helm ?? {}),
        parameters: mergeHelmParameters(
          source.helm?.parameters ?? [],
          updates.flatMap((u) => helmParametersFor(u.spec, u.chosen)),
        ),
      },
    };
  return {
    ...source,
    kustomize: {
      ...(source.kustomize ?? {}),
      images: mergeKustomizeImages(
        source.kustomize?.images ?? [],
        updates.map((u) => kustomizeImageFor(u.spec, u.chosen)),
      ),
    },
  };
}
