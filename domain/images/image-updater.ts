// Image Updater's ImageUpdater resource (argocd-image-updater.argoproj.io/v1alpha1): which
// Applications of its namespace it selects (applicationRefs: a name glob and label
// selectors, first matching entry wins) and, for each, the image settings it gives. The
// settings are translated into the annotation form (domain/images/annotations.ts), so both
// forms share one parser, one set of problems and one workflow per Application. Settings
// merge per field: spec, then the applicationRef, then the image.

import { goPathMatch } from '../applicationsets/globs';
import { selectorMatches, type LabelSelector } from '../applicationsets/selector';
import { IMAGE_LIST_ANNOTATION, IMAGE_UPDATER_PREFIX } from './annotations';

export const IMAGE_UPDATER_API_VERSION = 'argocd-image-updater.argoproj.io/v1alpha1';

export interface CommonUpdateSettings {
  updateStrategy?: string;
  forceUpdate?: boolean;
  allowTags?: string;
  ignoreTags?: string[];
  pullSecret?: string;
  platforms?: string[];
}

export interface WriteBackConfig {
  method?: string;
  gitConfig?: { repository?: string; branch?: string; writeBackTarget?: string };
}

export interface ImageConfig {
  alias: string;
  imageName: string;
  commonUpdateSettings?: CommonUpdateSettings;
  manifestTargets?: { helm?: { name?: string; tag?: string; spec?: string }; kustomize?: { name?: string } };
}

export interface ApplicationRefRule {
  namePattern: string;
  labelSelectors?: LabelSelector;
  useAnnotations?: boolean;
  commonUpdateSettings?: CommonUpdateSettings;
  writeBackConfig?: WriteBackConfig;
  images?: ImageConfig[];
}

export interface ImageUpdaterSpec {
  commonUpdateSettings?: CommonUpdateSettings;
  writeBackConfig?: WriteBackConfig;
  applicationRefs?: ApplicationRefRule[];
}

export interface AppMeta {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The first applicationRef selecting the Application; an invalid selector selects nothing. */
export function matchingRef(spec: ImageUpdaterSpec | undefined, app: AppMeta): ApplicationRefRule | undefined {
  for (const ref of spec?.applicationRefs ?? []) {
    if (typeof ref?.namePattern !== 'string') continue;
    try {
      if (goPathMatch(ref.namePattern, app.name) && selectorMatches(ref.labelSelectors, app.labels ?? {})) return ref;
    } catch {
      continue;
    }
  }
  return undefined;
}

const merged = (...layers: (CommonUpdateSettings | undefined)[]): CommonUpdateSettings => Object.assign({}, ...layers.map((l) => l ?? {}));

/**
 * The Image Updater annotations the ImageUpdater means for this Application (undefined when
 * it does not select it). useAnnotations: the Application's own annotations.
 */
export function annotationsFor(spec: ImageUpdaterSpec | undefined, app: AppMeta): Record<string, string> | undefined {
  const ref = matchingRef(spec, app);
  if (!ref) return undefined;
  if (ref.useAnnotations) return Object.fromEntries(Object.entries(app.annotations ?? {}).filter(([k]) => k.startsWith(IMAGE_UPDATER_PREFIX)));
  const out: Record<string, string> = {};
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') out[`${IMAGE_UPDATER_PREFIX}${k}`] = v;
  };
  const images = ref.images ?? [];
  out[IMAGE_LIST_ANNOTATION] = images.map((i) => `${i.alias}=${i.imageName}`).join(', ');
  for (const img of images) {
    const s = merged(spec?.commonUpdateSettings, ref.commonUpdateSettings, img.commonUpdateSettings);
    const a = img.alias;
    set(`${a}.update-strategy`, s.updateStrategy);
    if (s.forceUpdate !== undefined) set(`${a}.force-update`, String(s.forceUpdate));
    // The resource's allowTags is the same text as the annotation's (regexp:… or any); a bare expression is taken as a regexp.
    if (s.allowTags !== undefined) set(`${a}.allow-tags`, /^(regexp:|any$)/i.test(s.allowTags) ? s.allowTags : `regexp:${s.allowTags}`);
    if (s.ignoreTags?.length) set(`${a}.ignore-tags`, s.ignoreTags.join(', '));
    set(`${a}.pull-secret`, s.pullSecret);
    if (s.platforms?.length) set(`${a}.platforms`, s.platforms.join(', '));
    const helm = img.manifestTargets?.helm;
    set(`${a}.helm.image-name`, helm?.name);
    set(`${a}.helm.image-tag`, helm?.tag);
    set(`${a}.helm.image-spec`, helm?.spec);
    set(`${a}.kustomize.image-name`, img.manifestTargets?.kustomize?.name);
  }
  const wb = { ...(spec?.writeBackConfig ?? {}), ...(ref.writeBackConfig ?? {}) };
  const git = { ...(spec?.writeBackConfig?.gitConfig ?? {}), ...(ref.writeBackConfig?.gitConfig ?? {}) };
  set('write-back-method', wb.method);
  set('git-repository', git.repository);
  set('git-branch', git.branch);
  set('write-back-target', git.writeBackTarget);
  return out;
}

/** The one ImageUpdater (first by name) that selects the Application, and the annotations it means for it. */
export function imageUpdaterFor(
  updaters: readonly { name: string; spec?: ImageUpdaterSpec }[],
  app: AppMeta,
): { name: string; annotations: Record<string, string> } | undefined {
  for (const u of [...updaters].sort((a, b) => a.name.localeCompare(b.name))) {
    const annotations = annotationsFor(u.spec, app);
    if (annotations) return { name: u.name, annotations };
  }
  return undefined;
}

export interface RecentUpdate {
  alias: string;
  image: string;
  newVersion: string;
  applicationsUpdated: number;
  updatedAt: string;
  message?: string;
}

const MAX_RECENT_UPDATES = 20;

/** recentUpdates with the new ones first (one entry per alias, image and version, counting the Applications), at most 20. */
export function withRecentUpdates(previous: readonly RecentUpdate[] | undefined, updates: readonly RecentUpdate[]): RecentUpdate[] {
  const out = [...(previous ?? [])];
  for (const u of updates) {
    const i = out.findIndex((r) => r.alias === u.alias && r.image === u.image && r.newVersion === u.newVersion);
    if (i >= 0) {
      const [old] = out.splice(i, 1);
      out.unshift({ ...u, applicationsUpdated: old!.applicationsUpdated + u.applicationsUpdated });
    } else out.unshift(u);
  }
  return out.slice(0, MAX_RECENT_UPDATES);
}
