// One long-lived workflow per Rollout (ID rollout/<namespace>/<name>), a loop of
// wait → observe → decide → act → project: sleep until something changes or a durable
// timer (a timed pause, a scale-down delay) fires, observe the cluster, ask the strategy
// what to do, do it through activities and project its state onto the Rollout's status.
// Every step is an activity in the history; every command is an Update whose validator
// refuses clearly. Its state and transitions are RolloutRun (rollout-run.ts).
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { RolloutActivities } from '../activities/rollout';
import {
  abortUpdate,
  nudgeSignal,
  pauseUpdate,
  promoteUpdate,
  restartUpdate,
  resumeUpdate,
  retryUpdate,
  rolloutRevisionsQuery,
  rolloutViewQuery,
  setImageUpdate,
  undoUpdate,
  type RolloutRef,
} from './definitions';
import { RolloutAnalysisError, startRolloutAnalysis, type RolloutAnalysisHandle } from './rollout-analysis';
import { DEFERRED_STATUS_BACKSTOP_MS, RolloutRun, type RolloutWorkflowInput } from './rollout-run';
import { Alarm } from './alarm';
import { isReconcileAction, type AnalysisRequest, type ReconcileAction, type RolloutAction } from '../domain/rollouts/actions';
import { decideRollout } from '../domain/rollouts/decide';
import type { RolloutSnapshot, RolloutStatus } from '../domain/rollouts/types';

export type { RolloutWorkflowInput } from './rollout-run';

const activityOptions = {
  // Kubernetes calls take milliseconds; a short timeout bounds how long a call that
  // died with its worker holds the rollout up before it is retried elsewhere.
  startToCloseTimeout: '10s',
  // Kubernetes being unreachable is retried for as long as it takes; activities are
  // idempotent, so a retry after a lost response is harmless.
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
} as const;
const act = proxyActivities<RolloutActivities>(activityOptions);
// The calls of every reconcile pass (observe, scale, annotate) run as local
// activities: one workflow task does the pass instead of one server round trip per
// call, which was most of a step's latency. They stay in the history as markers, and a
// worker that dies mid-pass repeats the pass from a fresh observation, which is safe:
// each call is idempotent and nothing is remembered from it but what it observed.
// The status write stays an ordinary activity: it is scheduled only once the pass is
// in the history, so a phase users can see (Paused, say) is one a command's validator
// also sees after any restart. Creating and deleting ReplicaSets stay ordinary too,
// the rare, heavy events worth their own line in the history.
const local = proxyLocalActivities<RolloutActivities>(activityOptions);

const MAX_ITERATIONS_PER_RUN = 300;

const PHASE_KEY = defineSearchAttributeKey('SluicePhase', SearchAttributeType.KEYWORD);
const REVISION_KEY = defineSearchAttributeKey('SluiceRevision', SearchAttributeType.KEYWORD);

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<void> {
  const run = new RolloutRun(input);
  const { ref, id } = run;
  handleCommands(run);
  // The runaway guard (domain/rollouts/runaway.ts) adds calls to the history: runs
  // started before it replay without it.
  const guarded = patched('runaway-guard');
  // Statuses whose decisions the history already has are written by local activities
  // (no workflow task of their own): runs started before replay with ordinary writes.
  const localWrites = patched('local-status-writes');
  // Canary decisions fixed after release (domain/rollouts/actions.ts EarlierRules).
  const earlier = { beforeCanaryHeldApart: !patched('canary-held-apart') };
  // Timers kept across passes instead of one started and cancelled per wait, the deferred
  // status's bound on a timer of its own, and its write in the observation's local
  // activity: runs started before replay with the timer per wait.
  const steady = localWrites && patched('steady-wait');
  const wake = () => {
    run.changed = true;
    run.newTask();
  };
  const resync = new Alarm(wake);
  const backstop = new Alarm(wake);

  for (let iteration = 0; ; iteration++) {
    // wait
    if (steady) {
      if (!run.changed) {
        resync.within(run.waitMs);
        if (run.deferring()) backstop.once(DEFERRED_STATUS_BACKSTOP_MS);
        else backstop.disarm();
        await condition(() => run.changed);
      }
    } else if (!run.changed && !(await condition(() => run.changed, run.waitFor()))) run.newTask();
    run.changed = false;
    // A status deferred by an earlier task goes first, so this pass reads the commands after it.
    let snap: RolloutSnapshot;
    if (steady && run.deferredDue()) {
      snap = await writeThenObserve(run);
    } else {
      if (localWrites && run.deferredDue()) await project(run);
      // observe
      snap = await local.observeRollout(ref);
    }
    if (!snap.exists) {
      log.info('rollout deleted; workflow ends', { rollout: id });
      return;
    }
    const progress = run.seen(snap, new Date().toISOString());
    if (guarded && run.holding(snap)) {
      // Stopped by the guard: commands are still served, nothing is written but the
      // status that says why (once: the same status is not queued twice).
      if (run.queueStatus(run.held())) {
        if (localWrites) await project(run);
        else void writeStatuses(run);
      }
      setCurrentDetails(`**${id}**: ${run.summary}`);
    } else {
      // decide
      const decision = decideRollout(snap, progress, Date.now(), earlier);
      run.decided(decision, snap, new Date().toISOString());
      // act
      await runAnalyses(run, snap, decision.startAnalyses ?? [], decision.stopAnalyses ?? []);
      const outcome = await perform(ref, decision.actions);
      let status = run.acted(snap, decision.status, outcome);
      const stopped = guarded ? run.wrote(snap, decision, status, Date.now()) : undefined;
      if (stopped) {
        log.warn('reconcile loop: the rollout stops acting until its spec changes', { rollout: id, message: stopped.event.message });
        status = stopped.status;
        await act.recordEvent(ref, stopped.event);
      }
      // project
      // The status write leaves the critical path: the next pass (a ReplicaSet settling,
      // say) need not wait for the previous pass's status to land.
      // A pass that scales ReplicaSets defers a status that decides something new to the
      // next workflow task, which their events bring within a second: written there by a
      // local activity, it needs no task of its own.
      const defer = localWrites && decision.actions.some((a) => a.kind === 'scaleReplicaSet');
      if (run.queueStatus(status, defer)) {
        if (localWrites) await project(run);
        else void writeStatuses(run);
      }
      setCurrentDetails(`**${id}**: ${run.summary}`);
      const index = run.searchIndex(status, snap.replicaSets.find((rs) => rs.podTemplateHash === run.progress!.currentHash)?.revision);
      if (index) {
        upsertSearchAttributes([
          { key: PHASE_KEY, value: index.phase },
          { key: REVISION_KEY, value: index.revision },
        ]);
      }
      run.passEnded(decision, status, outcome, Date.now());
    }

    if (iteration >= (run.iterationsPerRun ?? MAX_ITERATIONS_PER_RUN) || workflowInfo().continueAsNewSuggested) {
      if (localWrites && run.deferredDue(true)) await project(run);
      await condition(() => allHandlersFinished() && !run.isWriting());
      await continueAsNew<typeof rolloutWorkflow>(run.continueAsNewInput());
    }
  }
}

/**
 * The deferred status and the pass's observation in one local activity (one marker and one
 * activation instead of two): the status was decided in an earlier task, so the history has
 * what it decides, and the observation reads it back as it landed.
 */
async function writeThenObserve(run: RolloutRun): Promise<RolloutSnapshot> {
  const next = run.nextToSend();
  if (!next?.locally) {
    if (next) await send(run, next);
    return local.observeRollout(run.ref);
  }
  const { snapshot, refused } = await local.writeStatusThenObserve(run.ref, next.status);
  if (refused) {
    log.warn('status write refused', { rollout: run.id, error: refused });
    run.statusRefused();
  } else run.statusLanded(next.status);
  // Nothing was queued meanwhile (the loop was here): this closes the writer.
  run.nextToSend();
  return snapshot;
}

/** Sends the queued statuses in order, one at a time, the newest replacing any not yet sent (runs started before local-status-writes). */
async function writeStatuses(run: RolloutRun): Promise<void> {
  for (let next = run.nextToSend(); next; next = run.nextToSend()) {
    try {
      await act.writeRolloutStatus(run.ref, next.status);
      run.statusLanded(next.status);
    } catch (err) {
      // Refused (not retried): the next pass tries again.
      log.warn('status write refused', { rollout: run.id, error: String(err) });
      run.statusRefused();
    }
  }
}

/**
 * Sends the queued status, called from the loop once a writer is due. One whose decisions
 * the history already has (new only in its counts, or queued in an earlier task) is a local
 * activity, awaited here: no task of its own, and never two local activities at once (their
 * results would replay in another order than they came). One that decides something new is
 * an ordinary activity, scheduled once this task is in the history; a status queued while it
 * is on its way goes back to the loop, which writes it locally.
 */
async function project(run: RolloutRun): Promise<void> {
  const next = run.nextToSend();
  if (next) await send(run, next);
}

async function send(run: RolloutRun, next: { status: RolloutStatus; locally: boolean }): Promise<void> {
  if (next.locally) {
    try {
      await local.writeRolloutStatus(run.ref, next.status);
      run.statusLanded(next.status);
    } catch (err) {
      log.warn('status write refused', { rollout: run.id, error: String(err) });
      run.statusRefused();
    }
    // Nothing was queued meanwhile (the loop was here): this closes the writer.
    run.nextToSend();
    return;
  }
  void (async () => {
    try {
      await act.writeRolloutStatus(run.ref, next.status);
      run.statusLanded(next.status, true);
    } catch (err) {
      log.warn('status write refused', { rollout: run.id, error: String(err) });
      run.statusRefused();
    }
    run.ordinaryWriteEnded();
  })();
}

function handleCommands(run: RolloutRun): void {
  const { ref, id } = run;
  /** Spec edits go through the API server, so kubectl sees the same change the command made. */
  const patchSpec = async (what: string, patch: () => Promise<unknown>) => {
    try {
      await patch();
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw ApplicationFailure.nonRetryable(err.cause.message, 'CommandFailed');
      throw err;
    }
    return run.commanded(`rollout ${id} ${what}`);
  };

  setHandler(nudgeSignal, () => {
    run.changed = true;
    run.newTask();
  });
  setHandler(rolloutViewQuery, () => ({ progress: run.progress, summary: run.summary }));
  setHandler(rolloutRevisionsQuery, () => run.revisions);
  setHandler(promoteUpdate, ({ full }) => run.promote(full), { validator: ({ full }) => run.checkPromote(full) });
  setHandler(abortUpdate, () => run.abort(new Date().toISOString()), { validator: () => run.checkAbort() });
  setHandler(retryUpdate, () => run.retry(), { validator: () => run.checkRetry() });
  setHandler(pauseUpdate, () => patchSpec('paused', () => act.patchRolloutSpec(ref, { paused: true })), {
    validator: () => {
      if (run.observed().snap.spec.paused) throw new Error(`rollout ${id} is already paused`);
    },
  });
  setHandler(resumeUpdate, () => patchSpec('resumed', () => act.patchRolloutSpec(ref, { paused: null })), {
    validator: () => {
      if (!run.observed().snap.spec.paused)
        throw new Error(`rollout ${id} is not paused by a user (spec.paused is not set); use promote to continue a pause step`);
    },
  });
  setHandler(restartUpdate, () => patchSpec('restarting', () => act.patchRolloutSpec(ref, { restartAt: new Date().toISOString() })), {
    validator: () => {
      if (run.updating()) throw new Error(`rollout ${id} has an update in progress; restart it once it is Healthy`);
    },
  });
  setHandler(
    undoUpdate,
    ({ toRevision }) => patchSpec(toRevision ? `rolled back to revision ${toRevision}` : 'rolled back', () => act.undoRollout(ref, toRevision)),
    {
      validator: ({ toRevision }) => {
        const { snap } = run.observed();
        if (toRevision !== undefined && !snap.replicaSets.some((rs) => rs.revision === toRevision)) {
          throw new Error(`rollout ${id} has no revision ${toRevision} (revisions: ${snap.replicaSets.map((rs) => rs.revision).join(', ') || 'none'})`);
        }
        if (toRevision === undefined && snap.replicaSets.length < 2) throw new Error(`rollout ${id} has no previous revision`);
      },
    },
  );
  setHandler(setImageUpdate, ({ container, image }) => patchSpec(`container ${container} set to ${image}`, () => act.setRolloutImage(ref, container, image)), {
    validator: ({ container, image }) => {
      const { snap } = run.observed();
      const names = ((snap.spec.template?.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name);
      if (!names.includes(container)) throw new Error(`rollout ${id} has no container "${container}" (containers: ${names.join(', ')})`);
      if (!image.trim()) throw new Error('the image must not be empty');
    },
  });
}

/** Starts requested analyses, stops finished ones, and follows every running one. */
async function runAnalyses(run: RolloutRun, snap: RolloutSnapshot, start: AnalysisRequest[], stop: string[]): Promise<void> {
  const { ref, analysisHandles } = run;
  const p = run.progress!;
  p.analyses ??= [];
  const revision = String(snap.replicaSets.find((rs) => rs.podTemplateHash === p.currentHash)?.revision ?? '');
  const follow = (key: string, handle: RolloutAnalysisHandle) => {
    analysisHandles.set(key, handle);
    void handle.result().then((r) => {
      const rec = run.progress?.analyses?.find((a) => a.key === key);
      if (rec && rec.phase === 'Running') {
        rec.phase = r.phase;
        rec.message = r.message;
      }
      analysisHandles.delete(key);
      run.changed = true;
    });
  };
  const begin = async (req: AnalysisRequest, hash: string, reattachTo?: string) => {
    try {
      return await startRolloutAnalysis({
        rollout: { namespace: ref.namespace, name: ref.name, uid: snap.uid },
        analysis: req.analysis,
        kind: req.kind,
        stepIndex: req.stepIndex,
        revision,
        podHashes: { stable: p.stableHash, latest: hash },
        reattachTo,
      });
    } catch (err) {
      if (err instanceof RolloutAnalysisError) return err;
      throw err;
    }
  };
  for (const req of start) {
    const started = await begin(req, p.currentHash!);
    if (started instanceof RolloutAnalysisError) {
      p.analyses.push({ key: req.key, phase: 'Error', message: started.message });
      continue;
    }
    p.analyses.push({ key: req.key, runName: started.runName, phase: 'Running' });
    follow(req.key, started);
  }
  for (const key of stop) {
    const rec = p.analyses.find((a) => a.key === key);
    await analysisHandles.get(key)?.terminate();
    if (rec && rec.phase === 'Running' && !analysisHandles.has(key)) rec.phase = 'Error';
    if (!key.startsWith(`${p.currentHash}/`)) p.analyses = p.analyses.filter((a) => a.key !== key);
  }
  // After continueAsNew: follow running analyses again (the same call finds the same run).
  for (const rec of p.analyses.filter((a) => a.phase === 'Running' && !analysisHandles.has(a.key) && a.key.startsWith(`${p.currentHash}/`))) {
    const req = reattachRequest(snap, rec.key);
    if (!req) continue;
    // reattachTo: a run that finished meanwhile is followed, not started again as `.1`.
    const again = await begin(req, p.currentHash!, rec.runName);
    if (!(again instanceof RolloutAnalysisError)) follow(rec.key, again);
  }
}

/** The request that started an analysis, rebuilt from its key and the spec. */
function reattachRequest(snap: RolloutSnapshot, key: string): AnalysisRequest | undefined {
  const [, kind, index] = key.split('/');
  const canary = snap.spec.strategy?.canary;
  if (kind === 'step') {
    const stepIndex = Number(index);
    const analysis = canary?.steps?.[stepIndex]?.analysis;
    return analysis ? { key, kind: 'Step', stepIndex, analysis: analysis as AnalysisRequest['analysis'] } : undefined;
  }
  if (kind === 'background' && canary?.analysis) return { key, kind: 'Background', analysis: canary.analysis as AnalysisRequest['analysis'] };
  const bg = snap.spec.strategy?.blueGreen;
  if (kind === 'prePromotion' && bg?.prePromotionAnalysis)
    return { key, kind: 'PrePromotion', analysis: bg.prePromotionAnalysis as AnalysisRequest['analysis'] };
  if (kind === 'postPromotion' && bg?.postPromotionAnalysis)
    return { key, kind: 'PostPromotion', analysis: bg.postPromotionAnalysis as AnalysisRequest['analysis'] };
  return undefined;
}

/** Runs the actions in order, each run of patches as one local activity; a refusal from Kubernetes is reported, not retried forever. */
async function perform(ref: RolloutRef, actions: RolloutAction[]): Promise<{ failure?: string; restartDone?: boolean }> {
  let restartDone: boolean | undefined;
  let batch: ReconcileAction[] = [];
  for (const [i, action] of actions.entries()) {
    try {
      if (isReconcileAction(action)) {
        batch.push(action);
        // Sent when the run of patches ends: order with the other actions is kept.
        if (i === actions.length - 1 || !isReconcileAction(actions[i + 1])) {
          const sending = batch;
          batch = [];
          await local.applyActions(ref, sending);
        }
        continue;
      }
      switch (action.kind) {
        case 'createReplicaSet':
          await act.createReplicaSet(ref, action);
          break;
        case 'deleteReplicaSet':
          await act.deleteReplicaSet(ref, action);
          break;
        case 'restartPods':
          restartDone = (await act.restartPods(ref, action)).remaining === 0;
          break;
      }
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable) return { failure: err.cause.message };
      throw err;
    }
  }
  return { restartDone };
}
