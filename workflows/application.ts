// One long-lived workflow per Application (ID application/<namespace>/<name>), a loop of
// wait → observe → decide → act → project: sleep until a nudge (the Application or a
// managed resource changed, a refresh), a request or the reconcile timer; compare Git with
// the cluster (one local activity); decide whether to sync; sync (a child workflow per
// operation, run inside this workflow); project the result onto status. Its state and transitions are ApplicationRun
// (application-run.ts). History is bounded with continueAsNew; what must survive it (sync
// counter, history, last automated sync) is carried.
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  executeChild,
  log,
  patched,
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
import { applicationSyncWorkflow, runSync } from './application-sync';
import { ApplicationRun, type ApplicationWorkflowInput, type PendingSync } from './application-run';
import type { ApplicationSpec, Comparison, SyncRequest, SyncResult, SyncWorkflowInput } from '../domain/applications/types';

export { DEFAULT_TIMINGS, type ApplicationTimings, type ApplicationWorkflowInput } from './application-run';

const act = proxyActivities<ApplicationActivities>({
  // A first render may build kustomize or helm; git fetches of a big repository take a while.
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
// A pass (read the Application, compare, decide, write status) as local activities runs in
// one workflow task instead of a server round trip and a task per step, which is what a
// burst of new Applications queues on. Each step is idempotent and only its result is
// kept; a worker lost mid-pass replays the pass from its start. Compare may fetch and
// render: the SDK keeps the workflow task alive while a local activity runs long.
const localAct = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s' },
});
const localQuick = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

interface PeriodicTimer {
  dueMs: number;
  fired: boolean;
  scope: CancellationScope;
}

const MAX_ITERATIONS_PER_RUN = 200;

export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<void> {
  const run = new ApplicationRun(input);
  const { ref, id } = run;
  handleRequests(run);
  const reconcileTimer = periodicTimer();
  // The runaway guard (domain/applications/self-heal-loop.ts) can skip a self-heal sync
  // and record an Event: runs started before it replay without it.
  run.guarded = patched('self-heal-loop-guard');
  // A sync runs inside this workflow rather than as a child workflow: a child costs Temporal
  // a second execution (its start, its tasks, its completion) and this workflow two more
  // tasks per sync, which a burst of new Applications queues on. Runs started before run children.
  run.inlineSync = patched('app-inline-sync');

  for (let iteration = 0; ; iteration++) {
    // wait
    if (!run.hasWork()) {
      const timer = reconcileTimer(run.waitMs);
      await condition(() => run.asked() || timer.fired);
      run.woke(timer.fired);
    }
    // observe
    const compared = run.startPass() ?? (await reconcile(run));
    if (!compared) return; // the Application is gone
    // decide
    let { next, retryInMs } = run.decide(compared);
    const loop = run.takeLoopEvent();
    if (loop) {
      log.warn('reconcile loop: self-heal stops until the revision or the Application changes', { application: id, message: loop.message });
      await act.recordApplicationEvent(ref, loop);
    }
    // AppProject syncWindows are checked when an operation would start, never while one runs.
    if (next)
      ({ next, retryInMs } = run.windowed(
        next,
        await localQuick.checkSyncWindows({ app: ref, spec: run.spec, manual: !next.initiatedBy.automated }),
        new Date().toISOString(),
      ));
    else run.nothingToSync();
    // act
    if (next) {
      await runOperation(run, next);
      // The status shows the cluster after the sync: the same one-step pass, reading the
      // cluster from the server, also writes it.
      if (!(await reconcile(run, { fromServer: true }))) return; // the Application is gone
      run.comparedAfterSync();
    }
    // project
    await writeStatus(run);
    run.passEnded(retryInMs);
    setCurrentDetails(`**${id}**: ${run.summary}`);

    if ((iteration >= (input.limits?.iterationsPerRun ?? MAX_ITERATIONS_PER_RUN) || workflowInfo().continueAsNewSuggested) && run.canContinueAsNew()) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof applicationWorkflow>(run.continueAsNewInput());
    }
  }
}

function handleRequests(run: ApplicationRun): void {
  const { ref, id } = run;
  const refuseWhileSyncing = () => {
    const refusal = run.refusal();
    if (refusal) throw new Error(refusal);
  };
  setHandler(applicationNudgeSignal, (n) => run.nudged(n, Date.now()));
  setHandler(appViewQuery, () => ({ summary: run.summary, syncing: run.syncing !== undefined }));
  setHandler(appHistoryQuery, () => run.carried.history);
  setHandler(
    appSyncUpdate,
    (request) => {
      run.syncAsked({ request, initiatedBy: { username: 'sluice-api' } });
      return { message: `sync of application ${id} requested` };
    },
    { validator: (_request: SyncRequest) => refuseWhileSyncing() },
  );
  setHandler(appRefreshUpdate, ({ hard, askedAt }) => {
    run.refreshAsked(hard, askedAt, Date.now());
    return { message: `${hard ? 'hard ' : ''}refresh of application ${id} requested` };
  });
  setHandler(
    appTerminateUpdate,
    () => {
      run.terminating = true;
      run.syncing?.cancel();
      return { message: `terminating the operation of application ${id}` };
    },
    {
      validator: () => {
        if (!run.syncing) throw new Error(`application ${id} has no operation in progress`);
      },
    },
  );
  setHandler(
    appRollbackUpdate,
    ({ id: historyId }) => {
      const entry = run.carried.history.find((h) => h.id === historyId)!;
      run.syncAsked({ request: { revision: entry.revision, prune: false }, initiatedBy: { username: 'sluice-api' }, rollbackTo: entry });
      return { message: `rollback of application ${id} to history ${historyId} (${entry.revision.slice(0, 7)}) requested` };
    },
    {
      validator: ({ id: historyId }) => {
        refuseWhileSyncing();
        if (run.spec.syncPolicy?.automated) throw new Error(`rollback cannot be initiated when auto-sync is enabled (application ${id})`);
        if (!run.carried.history.some((h) => h.id === historyId)) throw new Error(`application ${id} has no history entry ${historyId}`);
      },
    },
  );
  setHandler(appDiffUpdate, async () => ({
    diff: await act.diffApplication({ app: ref, instance: run.instance, spec: run.spec, kinds: run.carried.kinds, known: run.carried.known }),
  }));
}

/**
 * The timer of the next periodic reconcile, kept across the passes that nudges cause: a
 * nudged pass would otherwise cancel and start a timer (two events and a timer task each),
 * which at a thousand apps is a good part of the server's work. A reconcile a little
 * sooner than `waitMs` after a nudged pass is harmless; a shorter wait (a retry, a
 * self-heal backoff) replaces the timer.
 */
function periodicTimer(): (ms: number) => PeriodicTimer {
  let periodic: PeriodicTimer | undefined;
  return (ms) => {
    const dueMs = Date.now() + ms;
    if (periodic && !periodic.fired && periodic.dueMs <= dueMs) return periodic;
    periodic?.scope.cancel();
    const timer: PeriodicTimer = { dueMs, fired: false, scope: new CancellationScope() };
    timer.scope
      .run(() => sleep(ms))
      .then(
        () => void (timer.fired = true),
        () => undefined, // replaced by a sooner one
      );
    periodic = timer;
    return timer;
  };
}

/**
 * One reconcile pass as one local activity (read the Application, take its refresh or
 * operation, compare, and write the status it projects): a no-op pass is then one workflow
 * activation instead of four. The status is written again at the end of the iteration
 * only if the decisions change it. Undefined when the Application is gone.
 */
async function reconcile(run: ApplicationRun, opts: { fromServer?: boolean } = {}): Promise<Comparison | undefined> {
  const input = run.passInput(Date.now(), opts.fromServer);
  const result = await localAct.reconcileApplication(input);
  const compared = run.passed(result, input.reportReconcile);
  if (!compared) await applicationGone(run, result.obs);
  return compared;
}

async function writeStatus(run: ApplicationRun): Promise<void> {
  const write = run.statusToWrite(new Date().toISOString());
  if (!write) return;
  await localQuick.writeApplicationStatus(run.ref, write.status);
  run.statusWritten(write.key);
}

async function applicationGone(run: ApplicationRun, obs: ApplicationObservation): Promise<void> {
  if (obs.cascade) await deleteManagedResources(run, obs.spec);
  log.info('application deleted; workflow ends', { application: run.id });
}

/** Argo CD's cascading deletion: the managed objects go first, then the finalizer, then the Application. */
async function deleteManagedResources(run: ApplicationRun, appSpec: ApplicationSpec): Promise<void> {
  run.syncing?.cancel();
  run.summary = 'deleting the resources of a deleted Application';
  for (let attempt = 0; ; attempt++) {
    const { remaining } = await act.deleteApplicationResources({
      app: run.ref,
      instance: run.instance,
      spec: appSpec,
      kinds: run.carried.kinds,
      known: attempt === 0 ? run.carried.known : undefined,
    });
    if (remaining.length === 0) return;
    setCurrentDetails(`**${run.id}**: deleting ${remaining.length} resources: ${remaining.slice(0, 5).join(', ')}`);
    await sleep(Math.min(5000, 500 * 2 ** Math.min(attempt, 4)));
  }
}

/**
 * Runs one operation (in this workflow, or as a child workflow in runs started before
 * `app-inline-sync`), retried by the Application's retry policy; a terminate cancels it.
 */
async function runOperation(run: ApplicationRun, op: PendingSync): Promise<void> {
  const { ref, id } = run;
  const startedAt = op.startedAt ?? new Date().toISOString();
  const operationSpec = run.operationStarted(op, startedAt);
  await writeStatus(run);
  let result: SyncResult | undefined;
  for (let attempt = 1; ; attempt++) {
    const n = run.nextSyncNumber();
    try {
      run.syncing = new CancellationScope();
      const input: SyncWorkflowInput = {
        app: ref,
        instance: run.instance,
        spec: operationSpec,
        revision: op.request.revision ?? '',
        request: op.request,
        kinds: run.carried.kinds,
        known: run.carried.known,
        outOfSync: run.outOfSyncKeys(),
        hookTimeoutMs: run.timings.hookTimeoutMs,
        waveTimeoutMs: run.timings.waveTimeoutMs,
        startedAt,
      };
      result = await run.syncing.run(() =>
        run.inlineSync
          ? runSync(input, syncWorkflowId(ref, n), { oneStepWave: true })
          : executeChild(applicationSyncWorkflow, {
              workflowId: syncWorkflowId(ref, n),
              args: [input],
              staticSummary: `sync of Application ${id}${op.request.revision ? ` to ${op.request.revision.slice(0, 7)}` : ''}`,
            }),
      );
    } catch (err) {
      if (!run.terminating) throw err;
      result = { phase: 'Failed', message: 'Operation terminated', resources: [], revision: op.request.revision ?? '' };
    } finally {
      run.syncing = undefined;
    }
    const delay = run.retryDelay(op, result, attempt);
    if (delay === undefined) break;
    await writeStatus(run);
    await sleep(delay);
    run.retrying(attempt);
  }
  run.operationEnded(op, operationSpec, result, startedAt, new Date().toISOString(), Date.now());
  if (result.phase !== 'Succeeded') log.warn('sync did not succeed', { application: id, phase: result.phase, message: result.message });
}
