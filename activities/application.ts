// Kubernetes, git and rendering I/O for Application workflows: read the Application,
// compare Git with the cluster, hand a sync its manifests, write status. Git and render
// failures are not retried here: they come back as the comparison's error, which the
// workflow shows as a ComparisonError condition (and tries again next reconcile).
// The reconcile pass is here; the compare is in application-compare.ts, the operations'
// steps in application-operations.ts.
import { ApplicationFailure } from '@temporalio/activity';
import { isNotFound, KubeApiError, Resources, type KubeClient } from '../k8s/kube-client';
import { JqPaths } from './jq';
import type { ApplicationRef, ApplicationSpec, Comparison, ObjectRef } from '../domain/applications/types';
import {
  freshSince,
  passStatus,
  syncExpected,
  type LastAutoSync,
  type OperationState,
  type PassStatusInput,
  type SelfHealOptions,
} from '../domain/applications/reconcile';
import { ClusterClients } from '../k8s/clusters';
import { whileHeartbeating } from './heartbeats';
import { GitRepositories } from './git';
import { cachedApplication, type ApplicationCache } from './application-cache';
import { keepImageCondition, type Condition } from '../domain/images/condition';

import { createComparer } from './application-compare';
import { createApplicationOperations } from './application-operations';
import { REFRESH_ANNOTATION, RESOURCES_FINALIZER } from '../domain/argo/names';

export { FETCH_REUSE_MS, type CompareInput } from './application-compare';
export { isDeletionConfirmed } from './application-operations';

/**
 * An Argo-style multi-source operation names `revisions` (with optional 1-based
 * `sourcePositions`); Sluice carries one revision per source joined with ',' in `revision`,
 * an empty place meaning that source's targetRevision.
 */
export function withJoinedRevisions(operation: ApplicationObservation['operation'], spec: ApplicationSpec): ApplicationObservation['operation'] {
  const sync = operation?.sync as (NonNullable<ApplicationObservation['operation']>['sync'] & { revisions?: string[]; sourcePositions?: number[] }) | undefined;
  const count = spec.sources?.length ?? 0;
  if (!operation || !sync || sync.revision || !sync.revisions?.length || count === 0) return operation;
  const places: string[] = new Array(count).fill('');
  sync.revisions.forEach((r, i) => {
    const at = sync.sourcePositions?.[i] !== undefined ? sync.sourcePositions[i]! - 1 : i;
    if (at >= 0 && at < count) places[at] = r;
  });
  return { ...operation, sync: { ...sync, revision: places.join(',') } };
}

export interface ApplicationObservation {
  exists: boolean;
  generation: number;
  spec: ApplicationSpec;
  /** An Argo-style `operation` written on the Application: start a sync. */
  operation?: {
    sync?: { revision?: string; prune?: boolean; dryRun?: boolean; resources?: { group?: string; kind: string; name: string; namespace?: string }[] };
    initiatedBy?: { username?: string; automated?: boolean };
  };
  /**
   * status.operationState while it says Running: an operation this workflow may not know of,
   * because the task that started it was lost with its worker (its local activities' writes
   * happened, its history did not). Argo CD resumes an operation in progress from it too.
   */
  operationInProgress?: OperationState;
  /** The value of argocd.argoproj.io/refresh ("normal" or "hard"), if set. */
  refresh?: string;
  createdAt?: string;
  /** Being deleted with Argo CD's resources finalizer: delete what it manages first. */
  cascade?: boolean;
}

function operationInProgress(app: { status?: { operationState?: OperationState } }): { operationInProgress?: OperationState } {
  const state = app.status?.operationState;
  return state?.phase === 'Running' && state.operation?.sync ? { operationInProgress: state } : {};
}

/** One reconcile pass (see reconcileApplication): what the workflow knows that the pass needs. */
export interface ReconcileInput {
  app: ApplicationRef;
  instance: string;
  kinds: string[];
  known?: ObjectRef[];
  /** The workflow holds a hard refresh (a signal or an update asked for one). */
  hard: boolean;
  /** When the refresh the workflow holds was asked for. */
  refreshAskedAt?: number;
  /** The pass must write reconciledAt even if nothing else changed (the periodic reconcile, a refresh). */
  reportReconcile: boolean;
  /** What the status projects besides the comparison, and the key of the status last written. */
  status: PassStatusInput;
  /** A sync is already asked for (the API, a held operation): its first write shows the status. */
  syncRequested?: boolean;
  /** The last automated sync, to tell whether one is due now. */
  lastAuto?: LastAutoSync;
  /** Self-heal's backoff and the runaway guard's stop, as the workflow decides with them. */
  selfHeal?: SelfHealOptions;
  /** The workflow's time for this pass: its decision after the pass is taken as of then too. */
  nowMs: number;
  /** Read the live objects from the API server (the pass right after a sync). */
  fromServer?: boolean;
}

export interface ReconcileResult {
  obs: ApplicationObservation;
  comparison?: Comparison;
  errorSince?: string;
  /** The statusKey of the status this pass wrote, if it wrote one. */
  written?: string;
  /** With fromServer: when (epoch ms, this worker's clock) the pass began reading the cluster. A change seen before then is in what it read. */
  readSinceMs?: number;
}

export function createApplicationActivities(
  kube: KubeClient,
  repos = new GitRepositories(),
  jq = new JqPaths(),
  clusters = new ClusterClients(kube),
  cache?: ApplicationCache,
) {
  const comparer = createComparer(kube, repos, jq, clusters, cache);
  const { compare } = comparer;

  /** The Application as a pass needs it: from the watcher's copy when there is one. */
  async function observe(ref: ApplicationRef): Promise<ApplicationObservation> {
    const app = cachedApplication(cache, ref.namespace, ref.name) ?? (await kube.find(Resources.application, ref.namespace, ref.name));
    if (!app) return { exists: false, generation: 0, spec: {} };
    if (app.metadata.deletionTimestamp) {
      const finalizers = (app.metadata.finalizers as string[] | undefined) ?? [];
      return { exists: false, generation: 0, spec: (app.spec ?? {}) as ApplicationSpec, cascade: finalizers.some((f) => f.startsWith(RESOURCES_FINALIZER)) };
    }
    return {
      exists: true,
      generation: app.metadata.generation ?? 0,
      spec: (app.spec ?? {}) as ApplicationSpec,
      operation: withJoinedRevisions((app as { operation?: ApplicationObservation['operation'] }).operation, (app.spec ?? {}) as ApplicationSpec),
      ...operationInProgress(app as { status?: { operationState?: OperationState } }),
      refresh: app.metadata.annotations?.[REFRESH_ANNOTATION],
      createdAt: app.metadata.creationTimestamp,
    };
  }

  /** Clears what asked for work once the work is taken: the refresh annotation, the operation field. */
  async function acknowledge(ref: ApplicationRef, what: { refresh?: boolean; operation?: boolean }): Promise<void> {
    const body: Record<string, unknown> = {};
    if (what.refresh) body.metadata = { annotations: { [REFRESH_ANNOTATION]: null } };
    if (what.operation) body.operation = null;
    if (Object.keys(body).length > 0) await patchApplication(ref, body);
  }

  async function patchApplication(ref: ApplicationRef, body: unknown, subresource?: string): Promise<void> {
    const status = (body as { status?: { conditions?: Condition[] | null } }).status;
    if (subresource === 'status' && status && 'conditions' in status) {
      // The image-update workflow owns ImageUpdateError; a status written here keeps it.
      const live = cachedApplication(cache, ref.namespace, ref.name) ?? (await kube.find(Resources.application, ref.namespace, ref.name));
      const liveConditions = (live as unknown as { status?: { conditions?: Condition[] } } | undefined)?.status?.conditions;
      body = { ...(body as object), status: { ...status, conditions: keepImageCondition(status.conditions ?? null, liveConditions) } };
    }
    try {
      // The copy takes our own write at once: a pass right after an acknowledged refresh
      // must not see the refresh annotation again.
      const written = await kube.patch(Resources.application, ref.namespace, ref.name, body, { type: 'merge', subresource });
      if (cache?.applications.covers(ref.namespace)) cache.applications.upsert(written);
    } catch (err) {
      if (isNotFound(err)) return; // deleted meanwhile: the next observation ends the workflow
      if (err instanceof KubeApiError && [400, 422].includes(err.statusCode))
        throw ApplicationFailure.nonRetryable(`Application ${ref.namespace}/${ref.name}: ${err.message}`, err.reason);
      throw err;
    }
  }

  return {
    /**
     * A whole reconcile pass in one step, so that a pass costs one workflow activation
     * rather than one per step: read the Application, take its refresh or operation,
     * compare, and write the status it projects unless an operation is about to start
     * (which writes its own). Whether one is about to start is the workflow's decision
     * (syncExpected, as of the workflow's `nowMs`), applied here to what the pass saw so
     * the status is written in the same step. The workflow writes again only if its
     * decisions change the projection. Idempotent: a retried pass reads, compares and writes again.
     */
    async reconcileApplication(input: ReconcileInput): Promise<ReconcileResult> {
      const obs = await observe(input.app);
      if (!obs.exists) return { obs };
      const startedMs = Date.now();
      const freshSinceMs = freshSince({
        refreshAskedAt: input.refreshAskedAt,
        annotatedRefresh: !!obs.refresh,
        firstCompare: input.known === undefined,
        createdAt: obs.createdAt,
        nowMs: startedMs,
      });
      if (obs.refresh || obs.operation) await acknowledge(input.app, { refresh: !!obs.refresh, operation: !!obs.operation });
      const { comparison } = await whileHeartbeating(() =>
        compare(
          {
            app: input.app,
            instance: input.instance,
            spec: obs.spec,
            kinds: input.kinds,
            known: input.known,
            hard: input.hard || obs.refresh === 'hard',
            freshSinceMs,
            fromServer: input.fromServer,
          },
          false,
        ),
      );
      const pass = passStatus({
        spec: obs.spec,
        comparison,
        status: input.status,
        nowIso: new Date().toISOString(),
        reportReconcile: input.reportReconcile || !!obs.refresh,
      });
      const syncing = syncExpected({
        spec: obs.spec,
        comparison,
        lastAuto: input.lastAuto,
        nowMs: input.nowMs,
        requested: input.syncRequested || !!obs.operation?.sync,
        selfHeal: input.selfHeal,
      });
      const readSince = input.fromServer ? { readSinceMs: startedMs } : {};
      if (syncing || !pass.write) return { obs, comparison, errorSince: pass.errorSince, ...readSince };
      await patchApplication(input.app, { status: pass.status }, 'status');
      return { obs, comparison, errorSince: pass.errorSince, written: pass.key, ...readSince };
    },

    async writeApplicationStatus(ref: ApplicationRef, status: Record<string, unknown>): Promise<void> {
      await patchApplication(ref, { status }, 'status');
    },

    ...createApplicationOperations(kube, comparer, patchApplication),
  };
}

export type ApplicationActivities = ReturnType<typeof createApplicationActivities>;
