// One long-lived workflow per Application (ID application/<namespace>/<name>): compare Git
// with the cluster, project the result onto status, sync (a child workflow per operation)
// when asked or when automated sync says so, then sleep until a nudge (the Application or
// a managed resource changed, a refresh) or the reconcile timer. History is bounded with
// continueAsNew; what must survive it (sync counter, history, last automated sync) is carried.
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApplicationActivities, ApplicationObservation } from '../activities/application';
import {
  appDiffUpdate,
  appHistoryQuery,
  applicationNudgeSignal,
  appRefreshUpdate,
  appRollbackUpdate,
  appSyncUpdate,
  appTerminateUpdate,
  appViewQuery,
  syncWorkflowId,
} from './definitions';
import { applicationSyncWorkflow } from './application-sync';
import { CURRENT_GENERATION, hasChange } from './generation';
import { afterComparison, decideAutoSync, freshSince, historyEntry, refreshAskedWhen, projectStatus, statusKey, reconcileJitterMs, retryDelayMs, startedOperation, syncedSource, type LastAutoSync, type OperationState } from './applications/reconcile';
import { instanceName } from './applications/tracking';
import { isMultiSource } from './applications/sources';
import type { ApplicationRef, ApplicationSpec, Comparison, HistoryEntry, ObjectRef, SyncRequest, SyncResult } from './applications/types';

const act = proxyActivities<ApplicationActivities>({
  // A first render may build kustomize or helm; git fetches of a big repository take a while.
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
const quick = proxyActivities<ApplicationActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});
// A pass (read the Application, compare, decide, write status) as local activities runs in
// one workflow task instead of a server round trip and a task per step, which is what a
// burst of new Applications queues on. Each step is idempotent and only its result is
// kept; a worker lost mid-pass replays the pass from its start. Compare may fetch and
// render: the SDK keeps the workflow task alive while a local activity runs long.
const LOCAL_PASS = 'app-local-pass';
const localAct = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
const localQuick = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});
/** A pass as one local activity that also writes the status (see reconcileInOneStep). */
const ONE_STEP_PASS = 'app-one-step-pass';

export interface ApplicationTimings {
  reconcileMs: number;
  jitterMs: number;
  hookTimeoutMs: number;
  waveTimeoutMs: number;
}

export const DEFAULT_TIMINGS: ApplicationTimings = { reconcileMs: 120_000, jitterMs: 60_000, hookTimeoutMs: 600_000, waveTimeoutMs: 600_000 };

interface CarriedState {
  syncCount: number;
  kinds: string[];
  /** The tracked objects the last compare found; a new workflow lists them once. */
  known?: ObjectRef[];
  history: HistoryEntry[];
  lastAuto?: LastAutoSync;
  operationState?: OperationState;
  lastGood?: Comparison;
  errorSince?: string;
}

export interface ApplicationWorkflowInput extends ApplicationRef {
  /** The code generation that started this run (see workflows/generation.ts); absent in older runs. */
  generation?: number;
  timings?: Partial<ApplicationTimings>;
  state?: CarriedState;
}

interface PendingSync {
  request: SyncRequest;
  initiatedBy: { username?: string; automated?: boolean };
  /** A rollback's source (the one recorded in history). */
  rollbackTo?: HistoryEntry;
}

interface PeriodicTimer {
  dueMs: number;
  fired: boolean;
  scope: CancellationScope;
}

/** The periodic reconcile's timer outlives nudged passes (see reconcileTimer). */
const KEEP_RECONCILE_TIMER = 'app-keeps-reconcile-timer';
/** The compare after a sync is the one-step pass too, so it writes the status itself. */
const POST_SYNC_ONE_STEP = 'app-post-sync-one-step';
const MAX_ITERATIONS_PER_RUN = 200;
/** How soon a sync held by a sync window asks again (a window may open any minute). */
const SYNC_WINDOW_RECHECK_MS = 30_000;
const HISTORY_KEPT = 200;

export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<void> {
  const ref: ApplicationRef = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  const timings: ApplicationTimings = { ...DEFAULT_TIMINGS, ...input.timings };
  const instance = instanceName(ref);
  const state: CarriedState = input.state ?? { syncCount: 0, kinds: [], history: [] };
  const has = (change: string) => hasChange(input.generation, change);
  /** The pass's steps: local in workflows started (or continued) since LOCAL_PASS, ordinary in recorded ones. */
  const pass = (): { act: typeof act; quick: typeof quick } => (has(LOCAL_PASS) ? { act: localAct, quick: localQuick } : { act, quick });
  let dirty = true;
  let refresh: 'normal' | 'hard' | undefined;
  /** When the pending refresh was asked for: Git is read as of then. */
  let refreshAskedAt: number | undefined;
  const pending: PendingSync[] = [];
  let syncing: CancellationScope | undefined;
  let terminating = false;
  let spec: ApplicationSpec = {};
  let summary = 'starting';
  /** A manual sync (an Argo-style operation) a sync window holds back until it allows it. */
  let held: PendingSync | undefined;
  /** Shown as operationState while a sync window holds a sync back (Argo: Running, "Sync operation blocked by sync window"). */
  let blocked: OperationState | undefined;
  /**
   * Something other than a managed resource's change asked for a pass since the last full
   * one (the Application changed, a refresh): a compare of the cluster alone does not cover it.
   */
  let beyondCluster = false;

  setHandler(applicationNudgeSignal, (n) => {
    dirty = true;
    if (!n.managed || n.refresh) beyondCluster = true;
    if (n.refresh === 'hard' || (n.refresh && !refresh)) refresh = n.refresh;
    if (n.refresh) refreshAskedAt ??= refreshAskedWhen(Date.now(), n.askedAt);
  });
  setHandler(appViewQuery, () => ({ summary, syncing: syncing !== undefined }));
  setHandler(appHistoryQuery, () => state.history);
  setHandler(
    appSyncUpdate,
    (request) => {
      pending.push({ request, initiatedBy: { username: 'sluice-api' } });
      dirty = true;
      return { message: `sync of application ${id} requested` };
    },
    { validator: (_request: SyncRequest) => refuseWhileSyncing() },
  );
  setHandler(appRefreshUpdate, ({ hard, askedAt }) => {
    refresh = hard ? 'hard' : (refresh ?? 'normal');
    refreshAskedAt ??= refreshAskedWhen(Date.now(), askedAt);
    dirty = true;
    beyondCluster = true;
    return { message: `${hard ? 'hard ' : ''}refresh of application ${id} requested` };
  });
  setHandler(
    appTerminateUpdate,
    () => {
      terminating = true;
      syncing?.cancel();
      return { message: `terminating the operation of application ${id}` };
    },
    {
      validator: () => {
        if (!syncing) throw new Error(`application ${id} has no operation in progress`);
      },
    },
  );
  setHandler(
    appRollbackUpdate,
    ({ id: historyId }) => {
      const entry = state.history.find((h) => h.id === historyId)!;
      pending.push({ request: { revision: entry.revision, prune: false }, initiatedBy: { username: 'sluice-api' }, rollbackTo: entry });
      dirty = true;
      return { message: `rollback of application ${id} to history ${historyId} (${entry.revision.slice(0, 7)}) requested` };
    },
    {
      validator: ({ id: historyId }) => {
        refuseWhileSyncing();
        if (spec.syncPolicy?.automated) throw new Error(`rollback cannot be initiated when auto-sync is enabled (application ${id})`);
        if (!state.history.some((h) => h.id === historyId)) throw new Error(`application ${id} has no history entry ${historyId}`);
      },
    },
  );
  setHandler(appDiffUpdate, async () => ({ diff: await act.diffApplication({ app: ref, instance, spec, kinds: state.kinds, known: state.known }) }));

  function refuseWhileSyncing() {
    if (syncing) throw new Error(`another operation is already in progress on application ${id}`);
  }

  let lastStatusJson = '';
  let comparison: Comparison | undefined;
  const writeStatus = async () => {
    if (!comparison) return;
    const status = projectStatus({ spec, comparison, lastGood: state.lastGood, operationState: blocked ?? state.operationState, history: state.history, reconciledAt: new Date().toISOString(), errorSince: state.errorSince });
    const json = statusKey(status);
    if (json === lastStatusJson && !dirtyReconcile) return;
    await pass().quick.writeApplicationStatus(ref, status);
    lastStatusJson = json;
  };
  let dirtyReconcile = true;

  let waitMs = 0;
  let periodic: PeriodicTimer | undefined;
  /**
   * The timer of the next periodic reconcile, kept across the passes that nudges cause: a
   * nudged pass would otherwise cancel and start a timer (two events and a timer task each),
   * which at a thousand apps is a good part of the server's work. A reconcile a little
   * sooner than `waitMs` after a nudged pass is harmless; a shorter wait (a retry, a
   * self-heal backoff) replaces the timer.
   */
  function reconcileTimer(ms: number): PeriodicTimer {
    const dueMs = Date.now() + ms;
    if (periodic && !periodic.fired && periodic.dueMs <= dueMs) return periodic;
    periodic?.scope.cancel();
    const timer: PeriodicTimer = { dueMs, fired: false, scope: new CancellationScope() };
    timer.scope.run(() => sleep(ms)).then(
      () => void (timer.fired = true),
      () => undefined, // replaced by a sooner one
    );
    periodic = timer;
    return timer;
  }
  /** A sync just ended and its compare is fresh: decide again from it (unless something asked meanwhile). */
  let afterSync = false;
  for (let iteration = 0; ; iteration++) {
    if (!dirty && pending.length === 0 && !afterSync) {
      if (has(KEEP_RECONCILE_TIMER)) {
        const timer = reconcileTimer(waitMs);
        await condition(() => dirty || pending.length > 0 || timer.fired);
        dirtyReconcile = timer.fired; // the periodic reconcile refreshes reconciledAt even when nothing changed
      } else {
        const woke = await condition(() => dirty || pending.length > 0, waitMs);
        dirtyReconcile = !woke;
      }
    }
    const reuse = afterSync && !dirty && pending.length === 0;
    afterSync = false;
    dirty = false;
    const compared = reuse ? comparison : await observeAndCompare();
    if (!compared) return; // the Application is gone

    let next = pending.shift() ?? held;
    held = undefined;
    let retryInMs: number | undefined;
    if (!next) {
      const auto = decideAutoSync(spec, compared, state.lastAuto, Date.now());
      if (auto.sync) next = { request: { prune: !!spec.syncPolicy?.automated?.prune, revision: compared.revision }, initiatedBy: { automated: true } };
      else retryInMs = auto.retryInMs;
      summary = `${compared.error ? 'ComparisonError' : compared.syncStatus}, ${compared.health}; ${auto.reason}`;
    }
    // AppProject syncWindows are checked when an operation would start, never while one runs.
    if (next && has('sync-windows')) {
      const gate = await pass().quick.checkSyncWindows({ app: ref, spec, manual: !next.initiatedBy.automated });
      if (gate.allowed) blocked = undefined;
      else {
        const message = gate.message ?? 'Sync operation blocked by sync window';
        blocked = { ...startedOperation(next.request, next.initiatedBy, spec, blocked?.startedAt ?? new Date().toISOString()), message };
        if (!next.initiatedBy.automated) held = next; // automated syncs are decided afresh each time
        summary = message;
        next = undefined;
        retryInMs = SYNC_WINDOW_RECHECK_MS;
      }
    } else if (!next && blocked) blocked = undefined; // nothing wants to sync any more
    if (next) {
      await runOperation(next);
      // The managed resources the sync itself changed have nudged this workflow meanwhile;
      // the compare below reads the cluster after all of that, so those nudges need no pass
      // of their own. A change of the Application, a refresh or a later nudge still does.
      if (!beyondCluster && has('app-sync-covers-own-nudges')) dirty = false;
      // The status shows the cluster after the sync, and the loop decides again from there.
      if (has(POST_SYNC_ONE_STEP)) {
        // The same one-step pass, reading the cluster from the server, also writes the status.
        if (!(await reconcileInOneStep({ fromServer: true }))) return; // the Application is gone
      } else {
        comparison = await pass().act.compareApplication({ app: ref, instance, spec, kinds: state.kinds, known: state.known, fromServer: true });
        noteComparison(comparison);
      }
      // That compare has just run: the next pass decides from it, and reads and compares
      // again only if something asked meanwhile (a nudge, a request).
      if (has('app-decide-after-sync')) afterSync = true;
      else dirty = true;
    }
    await writeStatus();
    dirtyReconcile = false;
    setCurrentDetails(`**${id}**: ${summary}`);
    waitMs = retryInMs ?? timings.reconcileMs + reconcileJitterMs(id, timings.jitterMs);

    if ((iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) && pending.length === 0 && !held) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof applicationWorkflow>({ ...ref, timings: input.timings, state, generation: CURRENT_GENERATION });
    }
  }

  /** Reads the Application (ending the workflow if it is gone), takes what it asks for, and compares it with Git. */
  async function observeAndCompare(): Promise<Comparison | undefined> {
    beyondCluster = false;
    if (has(ONE_STEP_PASS)) return reconcileInOneStep();
    const obs: ApplicationObservation = await pass().quick.observeApplication(ref);
    if (!obs.exists) return applicationGone(obs);
    spec = obs.spec;
    const hard = refresh === 'hard' || obs.refresh === 'hard';
    // A refresh reads Git as of when it was asked; a new Application as of its creation.
    const freshSinceMs = freshSince({ refreshAskedAt, annotatedRefresh: !!obs.refresh, firstCompare: state.known === undefined, createdAt: obs.createdAt, nowMs: Date.now() });
    refreshAskedAt = undefined;
    // A refresh, like the periodic reconcile, is reported through reconciledAt even when nothing changed.
    if (refresh || obs.refresh) dirtyReconcile = true;
    if (obs.refresh || obs.operation) await pass().quick.acknowledgeApplicationRequest(ref, { refresh: !!obs.refresh, operation: !!obs.operation });
    takeOperation(obs);
    refresh = undefined;

    comparison = await pass().act.compareApplication({ app: ref, instance, spec, kinds: state.kinds, known: state.known, hard, freshSinceMs });
    noteComparison(comparison);
    return comparison;
  }

  /**
   * The same pass as one local activity, which also writes the status it projects: a
   * no-op pass is then one workflow activation for the step instead of four. The status is
   * written again at the end of the iteration only if the decisions change it.
   */
  async function reconcileInOneStep(opts: { fromServer?: boolean } = {}): Promise<Comparison | undefined> {
    const reportReconcile = dirtyReconcile || refresh !== undefined;
    const result = await localAct.reconcileApplication({
      app: ref,
      instance,
      kinds: state.kinds,
      known: state.known,
      hard: refresh === 'hard',
      refreshAskedAt,
      reportReconcile,
      status: { operationState: blocked ?? state.operationState, history: state.history, lastGood: state.lastGood, errorSince: state.errorSince, lastWritten: lastStatusJson },
      syncRequested: pending.length > 0 || held !== undefined,
      lastAuto: state.lastAuto,
      ...(opts.fromServer ? { fromServer: true } : {}),
    });
    refresh = undefined;
    refreshAskedAt = undefined;
    const { obs } = result;
    if (!obs.exists || !result.comparison) return applicationGone(obs);
    spec = obs.spec;
    takeOperation(obs);
    if (result.written !== undefined) {
      lastStatusJson = result.written;
      dirtyReconcile = false;
    } else if (reportReconcile || obs.refresh) dirtyReconcile = true; // not written: a sync is expected to write it
    comparison = result.comparison;
    noteComparison(comparison, result.errorSince);
    return comparison;
  }

  async function applicationGone(obs: ApplicationObservation): Promise<undefined> {
    if (obs.cascade) await deleteManagedResources(obs.spec);
    log.info('application deleted; workflow ends', { application: id });
    return undefined;
  }

  /** An Argo-style `operation` written on the Application becomes a pending sync. */
  function takeOperation(obs: ApplicationObservation): void {
    if (!obs.operation?.sync) return;
    const op = obs.operation.sync;
    pending.push({
      request: { revision: op.revision, prune: op.prune, dryRun: op.dryRun, resources: op.resources?.map((r) => `${r.group ?? ''}/${r.kind}/${r.namespace ?? ''}/${r.name}`) },
      initiatedBy: obs.operation.initiatedBy ?? { username: 'kubectl' },
    });
  }

  /** Argo CD's cascading deletion: the managed objects go first, then the finalizer, then the Application. */
  async function deleteManagedResources(appSpec: ApplicationSpec): Promise<void> {
    syncing?.cancel();
    summary = 'deleting the resources of a deleted Application';
    for (let attempt = 0; ; attempt++) {
      const { remaining } = await act.deleteApplicationResources({ app: ref, instance, spec: appSpec, kinds: state.kinds, known: attempt === 0 ? state.known : undefined });
      if (remaining.length === 0) return;
      setCurrentDetails(`**${id}**: deleting ${remaining.length} resources: ${remaining.slice(0, 5).join(', ')}`);
      await sleep(Math.min(5000, 500 * 2 ** Math.min(attempt, 4)));
    }
  }

  function outOfSyncKeys(): string[] | undefined {
    return comparison?.resources.filter((r) => r.status === 'OutOfSync').map((r) => `${r.group}/${r.kind}/${r.namespace}/${r.name}`);
  }

  /** `errorSeenAt`: when a new ComparisonError was first seen (the one-step pass says when it saw it). */
  function noteComparison(c: Comparison, errorSeenAt = new Date().toISOString()) {
    state.kinds = c.kinds;
    if (c.live) state.known = c.live;
    const after = afterComparison(c, state, errorSeenAt);
    state.lastGood = after.lastGood;
    state.errorSince = after.errorSince;
  }

  async function runOperation(op: PendingSync): Promise<void> {
    const startedAt = new Date().toISOString();
    const operationSpec: ApplicationSpec = op.rollbackTo ? (op.rollbackTo.sources ? { ...spec, sources: op.rollbackTo.sources } : { ...spec, source: op.rollbackTo.source }) : spec;
    state.operationState = startedOperation(op.request, op.initiatedBy, spec, startedAt);
    summary = `syncing${op.request.revision ? ` to ${op.request.revision.slice(0, 7)}` : ''}`;
    await writeStatus();
    let result: SyncResult | undefined;
    terminating = false;
    for (let attempt = 1; ; attempt++) {
      const n = ++state.syncCount;
      try {
        syncing = new CancellationScope();
        result = await syncing.run(() =>
          executeChild(applicationSyncWorkflow, {
            workflowId: syncWorkflowId(ref, n),
            args: [{ app: ref, instance, spec: operationSpec, revision: op.request.revision ?? '', request: op.request, kinds: state.kinds, known: state.known, outOfSync: outOfSyncKeys(), hookTimeoutMs: timings.hookTimeoutMs, waveTimeoutMs: timings.waveTimeoutMs, startedAt, generation: CURRENT_GENERATION }],
            staticSummary: `sync of Application ${id}${op.request.revision ? ` to ${op.request.revision.slice(0, 7)}` : ''}`,
          }),
        );
      } catch (err) {
        if (!terminating) throw err;
        result = { phase: 'Failed', message: 'Operation terminated', resources: [], revision: op.request.revision ?? '' };
      } finally {
        syncing = undefined;
      }
      if (result.phase === 'Succeeded' || terminating || op.request.dryRun) break;
      const delay = retryDelayMs(spec.syncPolicy?.retry, attempt);
      if (delay === undefined) break;
      state.operationState = { ...state.operationState, message: `${result.message} (retrying attempt #${attempt} in ${Math.round(delay / 1000)}s)`, retryCount: attempt };
      await writeStatus();
      await sleep(delay);
      state.operationState.retryCount = attempt;
    }
    const finishedAt = new Date().toISOString();
    state.operationState = {
      ...state.operationState,
      phase: result.phase,
      message: result.message,
      finishedAt,
      syncResult: { resources: result.resources, ...syncedSource(operationSpec, result.revision) },
    };
    if (op.initiatedBy.automated) state.lastAuto = { revision: result.revision || (op.request.revision ?? ''), atMs: Date.now(), phase: result.phase };
    const deployed = isMultiSource(operationSpec) ? operationSpec.sources : operationSpec.source;
    if (result.phase === 'Succeeded' && !op.request.dryRun && deployed) {
      state.history.push(historyEntry(state.history, result.revision, deployed, startedAt, finishedAt, op.initiatedBy));
      if (state.history.length > HISTORY_KEPT) state.history.splice(0, state.history.length - HISTORY_KEPT);
    }
    summary = `sync ${result.phase}: ${result.message}`;
    if (result.phase !== 'Succeeded') log.warn('sync did not succeed', { application: id, phase: result.phase, message: result.message });
  }
}
