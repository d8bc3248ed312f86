// Image Updater's annotation form on an Application (prefix argocd-image-updater.argoproj.io/):
// `image-list` and the per-alias options, plus the app-level write-back settings. A bad
// option of one image is a problem naming that alias and leaves that image out; the other
// images keep working (Image Updater falls back to semver on an unknown strategy, which
// writes versions nobody asked for, so we refuse instead).

import { parseGoDuration } from '../argo/duration';
import { ConstraintError, parseConstraint, type Constraint } from '../argo/semver';
import { ImageReferenceError, parseImageReference, type ImageReference } from './reference';
import { compileTagRegexp } from './tag-regexp';

export const IMAGE_UPDATER_PREFIX = 'argocd-image-updater.argoproj.io/';
export const IMAGE_LIST_ANNOTATION = `${IMAGE_UPDATER_PREFIX}image-list`;

export type UpdateStrategyName = 'semver' | 'newest-build' | 'alphabetical' | 'digest';

/** Current names and the names Image Updater 0.x used. */
const STRATEGY_NAMES: Record<string, UpdateStrategyName> = {
  semver: 'semver',
  'newest-build': 'newest-build',
  latest: 'newest-build',
  alphabetical: 'alphabetical',
  name: 'alphabetical',
  digest: 'digest',
};

export type PullSecretRef =
  | { kind: 'pullsecret'; namespace: string; name: string }
  | { kind: 'secret'; namespace: string; name: string; key: string }
  /** `user:password` in an environment variable of the Sluice worker (only those the operator lists, see envCredentialAllowed). */
  | { kind: 'env'; variable: string };

export interface ImageSpec {
  alias: string;
  image: ImageReference;
  /** The text after the last ':' of the entry: a semver constraint, or the tag to follow for digest. */
  constraint?: string;
  semverConstraint?: Constraint;
  strategy: UpdateStrategyName;
  /** Source of a Go regexp that tags must match (allow-tags: regexp:…). */
  allowTags?: string;
  /** Globs (Go's filepath.Match) of tags never considered. */
  ignoreTags: string[];
  /** os/arch[/variant]; a tag is taken only if it has an image for one of them. */
  platforms: string[];
  pullSecret?: PullSecretRef;
  forceUpdate: boolean;
  helm?: { imageName?: string; imageTag?: string; imageSpec?: string };
  kustomizeImageName?: string;
  /** Only tags built at least this long ago (ms); beyond Image Updater. */
  minAgeMs?: number;
}

export type GitCredentials = { kind: 'repocreds' } | { kind: 'secret'; namespace: string; name: string };

export type WriteBackTarget = { kind: 'argocd-source' } | { kind: 'kustomization'; path: string } | { kind: 'helmvalues'; path: string };

export type WriteBack =
  | { method: 'argocd' }
  | {
      method: 'git';
      credentials: GitCredentials;
      /** Branch the checkout starts from; undefined = the Application's targetRevision. */
      baseBranch?: string;
      /** Branch pushed to; undefined = the base branch. */
      targetBranch?: string;
      /** Branch pushed to, rendered from the changes (write-branch.ts); instead of targetBranch. */
      targetBranchTemplate?: string;
      target: WriteBackTarget;
      /** `git-repository`: the repository written to instead of the source's (a chart from a Helm repository, say). */
      repository?: string;
    };

export interface ImageProblem {
  /** The alias (or image-list entry) concerned; undefined for app-level settings. */
  alias?: string;
  message: string;
}

export interface ImageUpdateConfig {
  images: ImageSpec[];
  writeBack: WriteBack;
  problems: ImageProblem[];
}

/** Default platform: Image Updater takes the one it runs on; Sluice's workers run on linux/amd64. */
export const DEFAULT_PLATFORMS = ['linux/amd64'];

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

export function parsePullSecret(v: string): PullSecretRef {
  const ps = /^pullsecret:([^/\s]+)\/([^/\s]+)$/.exec(v);
  if (ps) return { kind: 'pullsecret', namespace: ps[1]!, name: ps[2]! };
  const s = /^secret:([^/\s]+)\/([^#\s]+)#(\S+)$/.exec(v);
  if (s) return { kind: 'secret', namespace: s[1]!, name: s[2]!, key: s[3]! };
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(v);
  if (env) return { kind: 'env', variable: env[1]! };
  // Image Updater runs the named executable (any absolute path, no arguments) and reads user:password from its output.
  if (/^ext:/.test(v))
    throw new Error(
      `credential reference ${JSON.stringify(v)} is refused: ext: runs a program named by an annotation or ConfigMap, which lets whoever can write them run code on the worker (use secret:, pullsecret: or env:)`,
    );
  throw new Error(`unsupported credential reference ${JSON.stringify(v)} (pullsecret:<ns>/<name>, secret:<ns>/<name>#<key> or env:<VARIABLE>)`);
}

/**
 * env:<VARIABLE> credentials: the variable must be listed in the worker's
 * SLUICE_IMAGE_CREDENTIAL_ENV (comma separated). Without that list anyone who may annotate
 * an Application could send any of the worker's environment (API tokens, cloud keys) as a
 * password to a registry of their choosing.
 */
export function envCredentialAllowed(variable: string, allowList: string | undefined): boolean {
  return list(allowList).includes(variable);
}

export function parseWriteBack(annotations: Record<string, string>, problems: ImageProblem[]): WriteBack {
  const method = (annotations[`${IMAGE_UPDATER_PREFIX}write-back-method`] ?? 'argocd').trim();
  if (method === 'argocd') return { method: 'argocd' };
  let credentials: GitCredentials;
  if (method === 'git' || method === 'git:repocreds') credentials = { kind: 'repocreds' };
  else {
    const m = /^git:secret:([^/\s]+)\/(\S+)$/.exec(method);
    if (!m) {
      problems.push({ message: `unknown write-back-method ${JSON.stringify(method)} (argocd, git, git:secret:<ns>/<name>, git:repocreds)` });
      return { method: 'argocd' };
    }
    credentials = { kind: 'secret', namespace: m[1]!, name: m[2]! };
  }
  const branch = (annotations[`${IMAGE_UPDATER_PREFIX}git-branch`] ?? '').trim();
  let baseBranch: string | undefined;
  let targetBranch: string | undefined;
  let targetBranchTemplate: string | undefined;
  if (branch !== '') {
    const colon = branch.indexOf(':');
    baseBranch = (colon < 0 ? branch : branch.slice(0, colon)) || undefined;
    const target = colon < 0 ? '' : branch.slice(colon + 1);
    // A template (write-branch.ts) is checked once rendered, when the changes are known.
    if (target.includes('{{')) targetBranchTemplate = target;
    else targetBranch = target || undefined;
    for (const b of [baseBranch, targetBranch])
      if (b !== undefined && !safeBranch(b)) problems.push({ message: `invalid git-branch ${JSON.stringify(branch)}` });
  }
  const targetText = (annotations[`${IMAGE_UPDATER_PREFIX}write-back-target`] ?? '').trim();
  let target: WriteBackTarget = { kind: 'argocd-source' };
  if (targetText.startsWith('kustomization')) {
    const path = targetText.slice('kustomization'.length).replace(/^:/, '') || '.';
    target = { kind: 'kustomization', path };
  } else if (targetText.startsWith('helmvalues')) {
    const path = targetText.slice('helmvalues'.length).replace(/^:/, '') || 'values.yaml';
    target = { kind: 'helmvalues', path };
  } else if (targetText !== '') problems.push({ message: `unknown write-back-target ${JSON.stringify(targetText)} (kustomization[:path], helmvalues:path)` });
  const repository = (annotations[`${IMAGE_UPDATER_PREFIX}git-repository`] ?? '').trim();
  if (repository !== '' && (/\s/.test(repository) || repository.startsWith('-')))
    problems.push({ message: `invalid git-repository ${JSON.stringify(repository)}` });
  return {
    method: 'git',
    credentials,
    target,
    ...(baseBranch ? { baseBranch } : {}),
    ...(targetBranch ? { targetBranch } : {}),
    ...(targetBranchTemplate ? { targetBranchTemplate } : {}),
    ...(repository ? { repository } : {}),
  };
}

/** A branch name git accepts and that cannot be read as an option. */
export function safeBranch(b: string): boolean {
  return /^[A-Za-z0-9._/-]+$/.test(b) && !b.startsWith('-') && !b.includes('..') && !b.endsWith('.lock') && !b.endsWith('/');
}

function parseImage(entry: string, annotations: Record<string, string>, problems: ImageProblem[]): ImageSpec | undefined {
  const eq = entry.indexOf('=');
  const alias = eq >= 0 ? entry.slice(0, eq).trim() : '';
  const imageText = eq >= 0 ? entry.slice(eq + 1).trim() : entry;
  const who = alias || imageText;
  let image: ImageReference;
  try {
    image = parseImageReference(imageText);
  } catch (err) {
    problems.push({ alias: who, message: err instanceof ImageReferenceError ? err.message : String(err) });
    return undefined;
  }
  // Options are keyed by the alias, with '/' as '_' (Image Updater's normalizedSymbolicName).
  const opt = (name: string): string | undefined => annotations[`${IMAGE_UPDATER_PREFIX}${alias.replaceAll('/', '_')}.${name}`];
  const strategyText = (opt('update-strategy') ?? 'semver').trim().toLowerCase();
  const strategy = STRATEGY_NAMES[strategyText];
  if (!strategy) {
    problems.push({ alias: who, message: `unknown update-strategy ${JSON.stringify(strategyText)} (semver, newest-build, alphabetical, digest)` });
    return undefined;
  }
  const constraint = image.tag;
  const spec: ImageSpec = {
    alias,
    image: { ...image, tag: undefined },
    strategy,
    ignoreTags: list(opt('ignore-tags')),
    platforms: list(opt('platforms')),
    forceUpdate: (opt('force-update') ?? '').trim() === 'true',
  };
  delete spec.image.tag;
  if (constraint !== undefined) spec.constraint = constraint;
  if (strategy === 'semver' && constraint !== undefined) {
    try {
      spec.semverConstraint = parseConstraint(constraint);
    } catch (err) {
      problems.push({
        alias: who,
        message: `invalid semver constraint ${JSON.stringify(constraint)}: ${err instanceof ConstraintError ? err.message : String(err)}`,
      });
      return undefined;
    }
  }
  if (strategy === 'digest' && constraint === undefined) {
    problems.push({ alias: who, message: 'update-strategy digest needs the tag to follow in image-list (alias=image:tag)' });
    return undefined;
  }
  const allow = (opt('allow-tags') ?? opt('tag-match'))?.trim();
  if (allow !== undefined && allow.toLowerCase() !== 'any') {
    const m = /^regexp:(.*)$/is.exec(allow);
    if (!m) {
      problems.push({ alias: who, message: `invalid allow-tags ${JSON.stringify(allow)} (regexp:<expression> or any)` });
      return undefined;
    }
    try {
      compileTagRegexp(m[1]!);
    } catch (err) {
      problems.push({ alias: who, message: `invalid allow-tags regexp ${JSON.stringify(m[1])}: ${(err as Error).message}` });
      return undefined;
    }
    spec.allowTags = m[1]!;
  }
  const pull = opt('pull-secret')?.trim();
  if (pull) {
    try {
      spec.pullSecret = parsePullSecret(pull);
    } catch (err) {
      problems.push({ alias: who, message: (err as Error).message });
      return undefined;
    }
  }
  for (const p of spec.platforms)
    if (!/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(p)) {
      problems.push({ alias: who, message: `invalid platform ${JSON.stringify(p)} (os/arch[/variant])` });
      return undefined;
    }
  const helm = { imageName: opt('helm.image-name')?.trim(), imageTag: opt('helm.image-tag')?.trim(), imageSpec: opt('helm.image-spec')?.trim() };
  if (helm.imageName || helm.imageTag || helm.imageSpec) spec.helm = Object.fromEntries(Object.entries(helm).filter(([, v]) => v)) as ImageSpec['helm'];
  const kustomizeName = opt('kustomize.image-name')?.trim();
  if (kustomizeName) spec.kustomizeImageName = kustomizeName;
  const minAge = opt('min-age')?.trim();
  if (minAge) {
    const ms = parseGoDuration(minAge);
    if (ms === undefined || ms < 0) {
      problems.push({ alias: who, message: `invalid min-age ${JSON.stringify(minAge)} (a duration such as 10m)` });
      return undefined;
    }
    spec.minAgeMs = ms;
  }
  return spec;
}

/** The whole configuration from an Application's annotations; undefined without image-list. */
export function imageUpdateConfig(annotations: Record<string, string> | null | undefined): ImageUpdateConfig | undefined {
  const a = annotations ?? {};
  const listText = a[IMAGE_LIST_ANNOTATION];
  if (listText === undefined) return undefined;
  const problems: ImageProblem[] = [];
  const images: ImageSpec[] = [];
  const seen = new Set<string>();
  for (const entry of list(listText)) {
    const spec = parseImage(entry, a, problems);
    if (!spec) continue;
    const key = spec.alias || spec.image.name;
    if (seen.has(key)) {
      problems.push({ alias: key, message: `alias ${JSON.stringify(key)} appears twice in image-list` });
      continue;
    }
    seen.add(key);
    images.push(spec);
  }
  return { images, writeBack: parseWriteBack(a, problems), problems };
}
