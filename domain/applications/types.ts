// The Argo CD Application as Sluice reads it (argoproj.io/v1alpha1, Argo's field names),
// and the shapes the Application and sync workflows exchange with their activities.
import type { HealthStatusCode } from '../health/types';
import type { ManifestResource } from '../sync/resources';

export interface ApplicationRef {
  namespace: string;
  name: string;
}

export interface KustomizeOptions {
  images?: string[];
  namePrefix?: string;
  nameSuffix?: string;
  commonLabels?: Record<string, string>;
  commonAnnotations?: Record<string, string>;
  replicas?: { name: string; count: number | string }[];
}

export interface HelmOptions {
  valueFiles?: string[];
  values?: string;
  valuesObject?: Record<string, unknown>;
  parameters?: { name: string; value: string; forceString?: boolean }[];
  releaseName?: string;
  /** `--set-file name=path`, the path relative to the chart like valueFiles. */
  fileParameters?: { name: string; path: string }[];
  /** A value file that does not exist is skipped instead of failing the render. */
  ignoreMissingValueFiles?: boolean;
  /** Send a Helm repository's credentials to chart URLs on other hosts too. */
  passCredentials?: boolean;
  skipCrds?: boolean;
  skipSchemaValidation?: boolean;
  skipTests?: boolean;
  /** The release namespace, instead of the destination's. */
  namespace?: string;
  kubeVersion?: string;
  apiVersions?: string[];
  /** Helm's major version: only v3. */
  version?: string;
}

export interface ApplicationSource {
  repoURL: string;
  /** In `spec.sources[]`: a name other sources' Helm valueFiles use as `$<ref>/<path>`. */
  ref?: string;
  targetRevision?: string;
  path?: string;
  chart?: string;
  directory?: { recurse?: boolean; include?: string; exclude?: string };
  kustomize?: KustomizeOptions;
  helm?: HelmOptions;
}

export interface RetryStrategy {
  limit?: number;
  backoff?: { duration?: string; factor?: number; maxDuration?: string };
}

export interface SyncPolicy {
  automated?: { prune?: boolean; selfHeal?: boolean; allowEmpty?: boolean };
  syncOptions?: string[];
  retry?: RetryStrategy;
}

export interface IgnoreDifference {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
  jsonPointers?: string[];
  /** jq path expressions (gojq), each removed as `del(<expression>)`, e.g. `.spec.template.spec.containers[] | select(.name == "app") | .image`. */
  jqPathExpressions?: string[];
  /** Fields owned (per metadata.managedFields) by these managers are ignored, e.g. an HPA's replicas. */
  managedFieldsManagers?: string[];
}

/** Where an Application deploys, and (in an AppProject's destinations) where it may. */
export interface ApplicationDestination {
  server?: string;
  name?: string;
  namespace?: string;
}

export interface ApplicationSpec {
  project?: string;
  source?: ApplicationSource;
  /** Multiple sources (Argo CD 2.6+): each rendered, manifests combined; takes precedence over `source`. */
  sources?: ApplicationSource[];
  /** Argo CD's source hydrator: only checked against the project (Sluice does not hydrate). */
  sourceHydrator?: { drySource?: { repoURL?: string }; syncSource?: { targetBranch?: string } };
  destination?: ApplicationDestination;
  syncPolicy?: SyncPolicy;
  ignoreDifferences?: IgnoreDifference[];
  revisionHistoryLimit?: number;
}

export type SyncStatusCode = 'Synced' | 'OutOfSync' | 'Unknown';

/** One managed resource as status.resources lists it. */
export interface ResourceStatus {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: SyncStatusCode;
  health?: { status: HealthStatusCode; message?: string };
  requiresPruning?: boolean;
}

/** Where one object is: enough to read it again. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** What a compare found: the revision, every resource's sync and health state, or why it could not compare. */
export interface Comparison {
  /** The commit compared; with spec.sources, every source's commit joined with ','. */
  revision?: string;
  /** With spec.sources: one commit per source, in order. */
  revisions?: string[];
  resources: ResourceStatus[];
  syncStatus: SyncStatusCode;
  health: HealthStatusCode;
  /** ComparisonError message: git, rendering or refusal. */
  error?: string;
  /** group/Kind pairs seen, so the next compare also lists kinds removed from Git. */
  kinds: string[];
  /** Helm, Kustomize or Directory: how the source was rendered. */
  sourceType?: string;
  /** With spec.sources: each source's type, in order. */
  sourceTypes?: string[];
  /** The live objects tracked by the app, so the next compare reads just these. */
  live?: ObjectRef[];
  /** Warning conditions found by the compare (OrphanedResourceWarning). */
  warnings?: { type: string; message: string }[];
}

/** The manifests a sync applies, with tracking annotations and namespaces already set. */
export interface SyncSource {
  revision: string;
  manifests: ManifestResource[];
  liveOnly: ManifestResource[];
}

export interface ResourceResult {
  group: string;
  version: string;
  kind: string;
  namespace: string;
  name: string;
  status: 'Synced' | 'SyncFailed' | 'Pruned' | 'PruneSkipped';
  message: string;
  hookType?: string;
  hookPhase?: 'Running' | 'Succeeded' | 'Failed';
  syncPhase: string;
}

export type OperationPhase = 'Running' | 'Succeeded' | 'Failed' | 'Error' | 'Terminating';

export interface SyncRequest {
  prune?: boolean;
  dryRun?: boolean;
  revision?: string;
  /** Only these resources ("group/Kind/namespace/name"); hooks are skipped then, as Argo CD does. */
  resources?: string[];
}

export interface SyncWorkflowInput {
  app: ApplicationRef;
  /** The instance name in tracking ids. */
  instance: string;
  spec: ApplicationSpec;
  revision: string;
  request: SyncRequest;
  hookTimeoutMs: number;
  waveTimeoutMs: number;
  startedAt: string;
  kinds?: string[];
  /** ApplyOutOfSyncOnly=true: the keys ("group/Kind/namespace/name") the last compare found out of sync. */
  outOfSync?: string[];
  /** The app's tracked objects as last compared (the prune candidates); undefined lists them. */
  known?: ObjectRef[];
}

export interface SyncResult {
  phase: OperationPhase;
  message: string;
  resources: ResourceResult[];
  revision: string;
}

export interface HistoryEntry {
  id: number;
  revision: string;
  /** Absent for a multi-source app, which records `sources` and `revisions` instead. */
  source?: ApplicationSource;
  sources?: ApplicationSource[];
  revisions?: string[];
  deployedAt: string;
  deployStartedAt: string;
  initiatedBy: { username?: string; automated?: boolean };
}
