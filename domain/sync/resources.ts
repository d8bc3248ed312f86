// Kubernetes manifests as a sync reads them, and the Argo CD annotations that steer a sync:
// sync waves, resource hooks, hook delete policies and per-resource sync options.
// Pure and deterministic, so sync workflows can import it.
//
// Two readings of the annotations:
// - strict (the default) for manifests from Git: a value Argo CD would silently ignore
//   (a non-integer wave, an unknown hook type or delete policy) is refused with a
//   SyncAnnotationError naming the resource, so the user learns about the typo;
// - lenient, for objects read back from the cluster, which are Argo CD's reading exactly
//   (bad values fall back or are dropped) so that a stale live object never blocks a sync.

import type { ObjectMeta } from '../objects';
import { HOOK_ANNOTATION, HOOK_DELETE_POLICY_ANNOTATION, SYNC_OPTIONS_ANNOTATION, SYNC_WAVE_ANNOTATION } from '../argo/names';
export type { ObjectMeta } from '../objects';

export interface ManifestResource {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

const HELM_HOOK_ANNOTATION = 'helm.sh/hook';
const HELM_HOOK_WEIGHT_ANNOTATION = 'helm.sh/hook-weight';
const HELM_HOOK_DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';

/** The phases a sync runs through; SyncFail runs only when the sync fails. */
export type SyncPhase = 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
/** PreDelete and PostDelete hooks belong to Application deletion, not to a sync. */
export type HookType = SyncPhase | 'PreDelete' | 'PostDelete' | 'Skip';
export type HookDeletePolicy = 'HookSucceeded' | 'HookFailed' | 'BeforeHookCreation';

export const HOOK_TYPES: readonly HookType[] = ['PreSync', 'Sync', 'PostSync', 'SyncFail', 'PreDelete', 'PostDelete', 'Skip'];
export const HOOK_DELETE_POLICIES: readonly HookDeletePolicy[] = ['HookSucceeded', 'HookFailed', 'BeforeHookCreation'];
const SYNC_PHASES: readonly SyncPhase[] = ['PreSync', 'Sync', 'PostSync', 'SyncFail'];

// Helm hooks Argo CD honours; the rest (test, pre-rollback, …) make a resource a hook that never runs.
const HELM_HOOK_TYPES: Record<string, HookType> = {
  'pre-install': 'PreSync',
  'pre-upgrade': 'PreSync',
  'post-install': 'PostSync',
  'post-upgrade': 'PostSync',
  'pre-delete': 'PreDelete',
  'post-delete': 'PostDelete',
};
const HELM_DELETE_POLICIES: Record<string, HookDeletePolicy> = {
  'before-hook-creation': 'BeforeHookCreation',
  'hook-succeeded': 'HookSucceeded',
  'hook-failed': 'HookFailed',
};

/** Strict refuses values Argo CD would silently drop; lenient reads exactly as Argo CD does. */
export interface AnnotationReading {
  strict: boolean;
}
const STRICT: AnnotationReading = { strict: true };

export class SyncAnnotationError extends Error {
  constructor(
    readonly resource: string,
    readonly annotation: string,
    readonly value: string,
    expected: string,
  ) {
    super(`${resource}: annotation ${annotation} is ${JSON.stringify(value)}; expected ${expected}`);
    this.name = 'SyncAnnotationError';
  }
}

/** The API group of an apiVersion: "apps/v1" → "apps", "v1" → "" (the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Argo CD's resource key, "group/Kind/namespace/name", e.g. "apps/Deployment/shop/web" or "/Namespace//shop". */
export function resourceKey(r: ManifestResource): string {
  return `${groupOf(r.apiVersion)}/${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`;
}

/** "Kind/name", or "Kind/name in namespace ns", for messages a user reads. */
export function describeResource(r: ManifestResource): string {
  const name = r.metadata.name || `${r.metadata.generateName ?? ''}*`;
  return r.metadata.namespace ? `${r.kind}/${name} in namespace ${r.metadata.namespace}` : `${r.kind}/${name}`;
}

function annotation(r: ManifestResource, key: string): string | undefined {
  const value = r.metadata.annotations?.[key];
  // YAML may hand us `sync-wave: 3` as a number; Kubernetes would store its text.
  return value === undefined || value === null ? undefined : String(value);
}

/** The de-duplicated, trimmed items of a comma-separated annotation, in written order. */
export function annotationList(r: ManifestResource, key: string): string[] {
  const items: string[] = [];
  for (const part of (annotation(r, key) ?? '').split(',')) {
    const item = part.trim();
    if (item !== '' && !items.includes(item)) items.push(item);
  }
  return items;
}

// Go's strconv.Atoi: an optional sign and decimal digits, nothing else (no spaces, no "1.0").
function parseGoInt(text: string): number | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The sync wave: the sync-wave annotation, else Helm's hook-weight, else 0.
 * Strict reading refuses a sync-wave that is not an integer.
 */
export function waveOf(r: ManifestResource, reading: AnnotationReading = STRICT): number {
  const text = annotation(r, SYNC_WAVE_ANNOTATION);
  if (text !== undefined) {
    const wave = parseGoInt(text);
    if (wave !== undefined) return wave;
    if (reading.strict) throw new SyncAnnotationError(describeResource(r), SYNC_WAVE_ANNOTATION, text, 'an integer such as "-1" or "3"');
  }
  // Helm itself treats an unparsable weight as 0, and so does Argo CD.
  const weight = annotation(r, HELM_HOOK_WEIGHT_ANNOTATION);
  return (weight !== undefined ? parseGoInt(weight) : undefined) ?? 0;
}

function argoHookTypes(r: ManifestResource, reading: AnnotationReading): HookType[] {
  const raw = annotation(r, HOOK_ANNOTATION);
  const items = annotationList(r, HOOK_ANNOTATION);
  if (reading.strict && raw !== undefined && items.length === 0) {
    throw new SyncAnnotationError(describeResource(r), HOOK_ANNOTATION, raw, `one or more of ${HOOK_TYPES.join(', ')}`);
  }
  const types: HookType[] = [];
  for (const item of items) {
    if ((HOOK_TYPES as readonly string[]).includes(item)) types.push(item as HookType);
    else if (reading.strict) throw new SyncAnnotationError(describeResource(r), HOOK_ANNOTATION, item, `one of ${HOOK_TYPES.join(', ')}`);
  }
  return types;
}

function helmHookTypes(r: ManifestResource): HookType[] {
  const types: HookType[] = [];
  for (const item of annotationList(r, HELM_HOOK_ANNOTATION)) {
    const type = HELM_HOOK_TYPES[item];
    if (type && !types.includes(type)) types.push(type);
  }
  return types;
}

const isDeletionHookType = (t: HookType) => t === 'PreDelete' || t === 'PostDelete';

/**
 * Every hook type the resource declares. Helm's hook annotation counts only when the Argo
 * annotation names no sync-time type, as in Argo CD; the deletion hooks (PreDelete,
 * PostDelete) are read from both, as Argo CD's controller does.
 */
export function hookTypesOf(r: ManifestResource, reading: AnnotationReading = STRICT): HookType[] {
  const argo = argoHookTypes(r, reading);
  const helm = helmHookTypes(r);
  const types = argo.some((t) => !isDeletionHookType(t)) ? [...argo] : [...argo, ...helm];
  for (const t of helm) if (isDeletionHookType(t) && !types.includes(t)) types.push(t);
  return types;
}

// The types gitops-engine itself knows; deletion hooks are the Application controller's business.
function engineHookTypes(r: ManifestResource, reading: AnnotationReading): HookType[] {
  const argo = argoHookTypes(r, reading).filter((t) => !isDeletionHookType(t));
  return argo.length > 0 ? argo : helmHookTypes(r).filter((t) => !isDeletionHookType(t));
}

/** Skip, and only Skip: the resource is left out of syncs altogether. */
export function isSkipped(r: ManifestResource, reading: AnnotationReading = STRICT): boolean {
  const types = engineHookTypes(r, reading);
  return types.length === 1 && types[0] === 'Skip';
}

/** A hook is created by the sync in its phase rather than applied as a managed resource. */
export function isHook(r: ManifestResource, reading: AnnotationReading = STRICT): boolean {
  if (annotation(r, HOOK_ANNOTATION) !== undefined) return !isSkipped(r, reading);
  // Helm marks CRDs with hook "crd-install"; they are ordinary resources.
  const helm = annotation(r, HELM_HOOK_ANNOTATION);
  return helm !== undefined && helm !== 'crd-install';
}

/**
 * The sync phases a resource takes part in: ["Sync"] for an ordinary resource, each phase a
 * hook names (a hook may name several), [] for Skip and for hooks that run in no sync phase
 * (deletion hooks, Helm test hooks).
 */
export function phasesOf(r: ManifestResource, reading: AnnotationReading = STRICT): SyncPhase[] {
  if (isSkipped(r, reading)) return [];
  if (!isHook(r, reading)) return ['Sync'];
  const types = engineHookTypes(r, reading);
  return SYNC_PHASES.filter((p) => types.includes(p));
}

/** The deletion hooks (PreDelete, PostDelete) a resource declares. */
export function deletionHookTypesOf(r: ManifestResource, reading: AnnotationReading = STRICT): ('PreDelete' | 'PostDelete')[] {
  return hookTypesOf(r, reading).filter(isDeletionHookType) as ('PreDelete' | 'PostDelete')[];
}

/**
 * When a hook is deleted: the Argo and Helm delete policies together, BeforeHookCreation
 * when neither names one. Meaningful for hooks only.
 */
export function deletePoliciesOf(r: ManifestResource, reading: AnnotationReading = STRICT): HookDeletePolicy[] {
  const policies: HookDeletePolicy[] = [];
  for (const item of annotationList(r, HOOK_DELETE_POLICY_ANNOTATION)) {
    if ((HOOK_DELETE_POLICIES as readonly string[]).includes(item)) {
      if (!policies.includes(item as HookDeletePolicy)) policies.push(item as HookDeletePolicy);
    } else if (reading.strict) {
      throw new SyncAnnotationError(describeResource(r), HOOK_DELETE_POLICY_ANNOTATION, item, `one of ${HOOK_DELETE_POLICIES.join(', ')}`);
    }
  }
  for (const item of annotationList(r, HELM_HOOK_DELETE_POLICY_ANNOTATION)) {
    const policy = HELM_DELETE_POLICIES[item];
    if (policy && !policies.includes(policy)) policies.push(policy);
  }
  return policies.length > 0 ? policies : ['BeforeHookCreation'];
}

/**
 * The per-resource sync options. Argo CD matches options by their exact text
 * ("PruneLast=true"), so do we; unknown options are kept in `raw` and otherwise ignored,
 * as Argo CD ignores them. Plain data, so a plan can travel through Temporal payloads.
 */
export interface SyncOptions {
  /** Every option as written, trimmed and de-duplicated. */
  raw: string[];
  /** The value of Prune=…: "false" (never prune), "confirm" (wait for confirmation), "true". */
  prune?: string;
  /** The value of Delete=…: "false" keeps the resource when the Application is deleted, "confirm". */
  delete?: string;
  pruneLast: boolean;
  /** Replace=true / Replace=false; undefined when not set here (the Application decides). */
  replace?: boolean;
  force: boolean;
  /** ServerSideApply=true / =false; undefined when not set here. */
  serverSideApply?: boolean;
  /** False with Validate=false. */
  validate: boolean;
  skipDryRunOnMissingResource: boolean;
  /** The Application's ApplyOutOfSyncOnly=true: apply only what the last compare found out of sync. */
  applyOutOfSyncOnly: boolean;
  /** The Application's CreateNamespace=true: create the destination namespace if absent. */
  createNamespace: boolean;
  /** The Application's PrunePropagationPolicy=foreground|background|orphan, as Kubernetes spells it; Foreground by default. */
  prunePropagationPolicy: PropagationPolicy;
}

export type PropagationPolicy = 'Foreground' | 'Background' | 'Orphan';
const PROPAGATION_POLICIES: Record<string, PropagationPolicy> = { foreground: 'Foreground', background: 'Background', orphan: 'Orphan' };

function optionValue(raw: string[], key: string): string | undefined {
  const item = raw.find((o) => o.startsWith(`${key}=`));
  return item === undefined ? undefined : item.slice(key.length + 1);
}

function optionFlag(raw: string[], key: string): boolean | undefined {
  if (raw.includes(`${key}=true`)) return true;
  if (raw.includes(`${key}=false`)) return false;
  return undefined;
}

/** Reads a comma-separated list of sync options, from an annotation or an Application's syncOptions. */
export function parseSyncOptions(raw: readonly string[]): SyncOptions {
  const items: string[] = [];
  for (const part of raw.flatMap((r) => r.split(','))) {
    const item = part.trim();
    if (item !== '' && !items.includes(item)) items.push(item);
  }
  const options: SyncOptions = {
    raw: items,
    pruneLast: items.includes('PruneLast=true'),
    force: items.includes('Force=true'),
    validate: !items.includes('Validate=false'),
    skipDryRunOnMissingResource: items.includes('SkipDryRunOnMissingResource=true'),
    applyOutOfSyncOnly: items.includes('ApplyOutOfSyncOnly=true'),
    createNamespace: items.includes('CreateNamespace=true'),
    prunePropagationPolicy: PROPAGATION_POLICIES[optionValue(items, 'PrunePropagationPolicy') ?? ''] ?? 'Foreground',
  };
  const prune = optionValue(items, 'Prune');
  if (prune !== undefined) options.prune = prune;
  const del = optionValue(items, 'Delete');
  if (del !== undefined) options.delete = del;
  const replace = optionFlag(items, 'Replace');
  if (replace !== undefined) options.replace = replace;
  const serverSideApply = optionFlag(items, 'ServerSideApply');
  if (serverSideApply !== undefined) options.serverSideApply = serverSideApply;
  return options;
}

export function syncOptionsOf(r: ManifestResource): SyncOptions {
  return parseSyncOptions(annotationList(r, SYNC_OPTIONS_ANNOTATION));
}

/**
 * Checks every sync annotation of a manifest from Git at once, so a typo fails the plan
 * before anything is applied. Throws SyncAnnotationError.
 */
export function validateSyncAnnotations(r: ManifestResource): void {
  waveOf(r, STRICT);
  hookTypesOf(r, STRICT);
  deletePoliciesOf(r, STRICT);
}
