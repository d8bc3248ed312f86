// One long-lived workflow per Rollout (ID rollout/<namespace>/<name>). It observes
// the cluster, asks the strategy what to do, does it through activities and projects
// its state onto the Rollout's status, then sleeps until something changes or a
// durable timer (a timed pause, a scale-down delay) fires. Every step is an activity
// in the history; every command is an Update whose validator refuses clearly.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
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
  rolloutViewQuery,
  setImageUpdate,
  undoUpdate,
  type RolloutRef,
} from './definitions';
import { RolloutAnalysisError, startRolloutAnalysis, type RolloutAnalysisHandle } from './analysis/rollout-analysis';
import { isReconcileAction, type AnalysisRequest, type ReconcileAction, type RolloutAction } from './rollouts/actions';
import { decideRollout } from './rollouts/decide';
import { progressFromStatus, type RolloutProgress } from './rollouts/progress';
import type { RolloutSnapshot, RolloutStatus } from './rollouts/types';
import { CURRENT_GENERATION, hasChange } from './generation';

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
type Reconcile = Pick<RolloutActivities, 'observeRollout' | 'scaleReplicaSet' | 'setScaleDownDeadline' | 'setReplicaSetRevision' | 'switchServiceSelector' | 'setPodMetadata' | 'setTrafficWeight' | 'applyActions'>;

/** Safety net for a missed watch event; normally a nudge arrives within milliseconds. */
const RESYNC_MS = 60_000;
/**
 * A rollout at rest (Healthy, or Paused until someone promotes it) changes only through
 * its objects and commands, which nudge it; a busy safety net there would cost every idle
 * rollout a workflow task a minute, and a replay once it has left the cache. Argo
 * Rollouts resyncs every 15 minutes.
 */
const AT_REST_RESYNC_MS = 15 * 60_000;
const RESTART_POLL_MS = 2_000;
const MAX_ITERATIONS_PER_RUN = 300;

const PHASE_KEY = defineSearchAttributeKey('SluicePhase', SearchAttributeType.KEYWORD);
const REVISION_KEY = defineSearchAttributeKey('SluiceRevision', SearchAttributeType.KEYWORD);

export interface RolloutWorkflowInput extends RolloutRef {
  /** The code generation that started this run (see workflows/generation.ts); absent in older runs. */
  generation?: number;
  progress?: RolloutProgress;
  lastStatusJson?: string;
  /** Whether the Sluice search attributes exist in this Temporal namespace. */
  useSearchAttributes?: boolean;
}

export async function rolloutWorkflow(input: RolloutWorkflowInput): Promise<void> {
  const ref: RolloutRef = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  let progress: RolloutProgress | undefined = input.progress;
  let lastStatusJson = input.lastStatusJson ?? '';
  let summary = 'starting';
  let changed = true;
  let lastSnapshot: RolloutSnapshot | undefined;
  let indexed = '';
  let lastActionsJson = '';
  // Handles of the analyses this run started or re-attached to; not carried across
  // continueAsNew (the records in progress are), so they are re-attached by name.
  const analysisHandles = new Map<string, RolloutAnalysisHandle>();

  const observed = () => {
    if (!progress || !lastSnapshot) throw new Error(`rollout ${id} has not been observed yet`);
    return { p: progress, snap: lastSnapshot };
  };
  const updating = () => progress && progress.currentHash !== progress.stableHash;
  const done = (message: string) => {
    changed = true;
    return { message };
  };
  /** Spec edits go through the API server, so kubectl sees the same change the command made. */
  const patchSpec = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (err) {
      if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw ApplicationFailure.nonRetryable(err.cause.message, 'CommandFailed');
      throw err;
    }
    return done(`rollout ${id} ${what}`);
  };

  setHandler(nudgeSignal, () => {
    changed = true;
  });
  setHandler(rolloutViewQuery, () => ({ progress, summary }));

  setHandler(
    promoteUpdate,
    ({ full }) => {
      const { p } = observed();
      if (full) p.promoteFull = true;
      else p.pauseConditions = [];
      return done(full ? `rollout ${id} fully promoted` : `rollout ${id} promoted`);
    },
    {
      validator: ({ full }) => {
        const { p } = observed();
        if (p.aborted) throw new Error(`rollout ${id} is aborted; retry it first`);
        if (full) {
          if (!updating()) throw new Error(`rollout ${id} has no update in progress`);
          return;
        }
        if (p.pauseConditions.length === 0) throw new Error(`rollout ${id} is not paused`);
      },
    },
  );
  setHandler(
    abortUpdate,
    () => {
      const { p } = observed();
      p.aborted = true;
      p.abortedAt = new Date().toISOString();
      p.pauseConditions = [];
      return done(`rollout ${id} aborted`);
    },
    {
      validator: () => {
        const { p } = observed();
        if (!updating()) throw new Error(`rollout ${id} has no update in progress to abort`);
        if (p.aborted) throw new Error(`rollout ${id} is already aborted`);
      },
    },
  );
  setHandler(
    retryUpdate,
    () => {
      const { p } = observed();
      p.aborted = false;
      p.abortedAt = undefined;
      p.stepIndex = 0;
      p.pauseStartedAt = undefined;
      p.pauseConditions = [];
      return done(`rollout ${id} retried`);
    },
    {
      validator: () => {
        if (!observed().p.aborted) throw new Error(`rollout ${id} is not aborted`);
      },
    },
  );
  setHandler(pauseUpdate, () => patchSpec('paused', () => act.patchRolloutSpec(ref, { paused: true })), {
    validator: () => {
      if (observed().snap.spec.paused) throw new Error(`rollout ${id} is already paused`);
    },
  });
  setHandler(resumeUpdate, () => patchSpec('resumed', () => act.patchRolloutSpec(ref, { paused: null })), {
    validator: () => {
      if (!observed().snap.spec.paused) throw new Error(`rollout ${id} is not paused by a user (spec.paused is not set); use promote to continue a pause step`);
    },
  });
  setHandler(restartUpdate, () => patchSpec('restarting', () => act.patchRolloutSpec(ref, { restartAt: new Date().toISOString() })), {
    validator: () => {
      if (updating()) throw new Error(`rollout ${id} has an update in progress; restart it once it is Healthy`);
    },
  });
  setHandler(undoUpdate, ({ toRevision }) => patchSpec(toRevision ? `rolled back to revision ${toRevision}` : 'rolled back', () => act.undoRollout(ref, toRevision)), {
    validator: ({ toRevision }) => {
      const { snap } = observed();
      if (toRevision !== undefined && !snap.replicaSets.some((rs) => rs.revision === toRevision)) {
        throw new Error(`rollout ${id} has no revision ${toRevision} (revisions: ${snap.replicaSets.map((rs) => rs.revision).join(', ') || 'none'})`);
      }
      if (toRevision === undefined && snap.replicaSets.length < 2) throw new Error(`rollout ${id} has no previous revision`);
    },
  });
  setHandler(
    setImageUpdate,
    ({ container, image }) => patchSpec(`container ${container} set to ${image}`, () => act.setRolloutImage(ref, container, image)),
    {
      validator: ({ container, image }) => {
        const { snap } = observed();
        const names = ((snap.spec.template?.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((c) => c.name);
        if (!names.includes(container)) throw new Error(`rollout ${id} has no container "${container}" (containers: ${names.join(', ')})`);
        if (!image.trim()) throw new Error('the image must not be empty');
      },
    },
  );

  /** Starts requested analyses, stops finished ones, and follows every running one. */
  async function runAnalyses(snap: RolloutSnapshot, start: AnalysisRequest[], stop: string[]): Promise<void> {
    const p = progress!;
    p.analyses ??= [];
    const revision = String(snap.replicaSets.find((rs) => rs.podTemplateHash === p.currentHash)?.revision ?? '');
    const follow = (key: string, handle: RolloutAnalysisHandle) => {
      analysisHandles.set(key, handle);
      void handle.result().then((r) => {
        const rec = progress?.analyses?.find((a) => a.key === key);
        if (rec && rec.phase === 'Running') {
          rec.phase = r.phase;
          rec.message = r.message;
        }
        analysisHandles.delete(key);
        changed = true;
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

  // Runs recorded before local activities replay with ordinary ones and write their
  // status in line.
  const reconcileLocally = hasChange(input.generation, 'local-reconcile');
  const k: Reconcile = reconcileLocally ? local : act;
  // The status write leaves the critical path: the next pass (a ReplicaSet settling,
  // say) need not wait for the previous pass's status to land. Writes stay in order,
  // one at a time, the newest status replacing any not yet sent.
  let writing: Promise<void> | undefined;
  let unsent: RolloutStatus | undefined;
  let requestedStatusJson = lastStatusJson;
  let commandsUnread = false;
  const writeStatus = async (status: RolloutStatus, json: string) => {
    if (!reconcileLocally) {
      await act.writeRolloutStatus(ref, status);
      lastStatusJson = json;
      return;
    }
    requestedStatusJson = json;
    unsent = status;
    writing ??= (async () => {
      while (unsent) {
        const next = unsent;
        unsent = undefined;
        try {
          await act.writeRolloutStatus(ref, next);
          lastStatusJson = JSON.stringify(next);
        } catch (err) {
          // Refused (not retried): the next pass tries again.
          log.warn('status write refused', { rollout: id, error: String(err) });
          requestedStatusJson = lastStatusJson;
        }
      }
      writing = undefined;
      // A pass that ran while the write was in flight could not tell the user's status
      // edits from our own write still on its way; look again now that it has landed.
      if (commandsUnread) changed = true;
      commandsUnread = false;
    })();
  };
  let waitMs = 0;
  for (let iteration = 0; ; iteration++) {
    if (!changed) await condition(() => changed, waitMs);
    changed = false;

    const snap = await k.observeRollout(ref);
    if (!snap.exists) {
      log.info('rollout deleted; workflow ends', { rollout: id });
      return;
    }
    lastSnapshot = snap;
    progress ??= progressFromStatus(snap.status);
    // Commands written onto the status are told apart from our own writes by comparing
    // with the last status that landed; with a write in flight that comparison would
    // mistake our pending status for a user's edit, so it waits for the write.
    if (writing) commandsUnread = true;
    else if (lastStatusJson) applyStatusCommands(progress, JSON.parse(lastStatusJson) as RolloutStatus, snap.status);

    // Histories from before Argo's traffic-routed arithmetic replay with the old one.
    const decision = decideRollout(snap, progress, Date.now(), { argoCanaryScale: hasChange(input.generation, 'argo-canary-scale') });
    progress = decision.progress;
    summary = decision.summary;

    await runAnalyses(snap, decision.startAnalyses ?? [], decision.stopAnalyses ?? []);

    let status: RolloutStatus = decision.status;
    // A pass's patches go in one local activity; runs recorded before replay one by one.
    const outcome = await perform(ref, decision.actions, k, reconcileLocally && hasChange(input.generation, 'batched-reconcile'));
    if (outcome.failure) status = { ...status, phase: 'Degraded', message: `ReplicaSetError: ${outcome.failure}` };
    if (outcome.restartDone) {
      progress.restartedAt = snap.spec.restartAt;
      status = { ...status, restartedAt: progress.restartedAt };
    }

    const statusJson = JSON.stringify(status);
    if (statusJson !== (reconcileLocally ? requestedStatusJson : lastStatusJson)) await writeStatus(status, statusJson);
    setCurrentDetails(`**${id}**: ${summary}`);
    const revision = snap.replicaSets.find((rs) => rs.podTemplateHash === progress!.currentHash)?.revision;
    const index = `${status.phase}|${revision ?? ''}`;
    if (input.useSearchAttributes && index !== indexed) {
      upsertSearchAttributes([
        { key: PHASE_KEY, value: status.phase ?? 'Unknown' },
        { key: REVISION_KEY, value: String(revision ?? '') },
      ]);
      indexed = index;
    }
    const atRest = decision.actions.length === 0 && (status.phase === 'Healthy' || status.phase === 'Paused');
    waitMs = decision.wakeAt !== undefined ? Math.max(0, decision.wakeAt - Date.now()) : atRest ? AT_REST_RESYNC_MS : RESYNC_MS;
    // A pod still terminating after a restart's deletion changes no ReplicaSet, so no
    // event would wake us to delete the next one: look again shortly.
    if (outcome.restartDone === false) waitMs = Math.min(waitMs, RESTART_POLL_MS);
    // Some actions (Service selectors, traffic weights, pod metadata) produce no
    // ReplicaSet event for the watcher to nudge with: look again at once. A batch that
    // is the same as the last one does not loop, it waits for a real change.
    const actionsJson = JSON.stringify(decision.actions);
    if (hasChange(input.generation, 'reobserve-after-actions') && decision.actions.length > 0 && actionsJson !== lastActionsJson) changed = true;
    lastActionsJson = actionsJson;

    if (iteration >= MAX_ITERATIONS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(() => allHandlersFinished() && !writing);
      await continueAsNew<typeof rolloutWorkflow>({ ...ref, progress, lastStatusJson, useSearchAttributes: input.useSearchAttributes, generation: CURRENT_GENERATION });
    }
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
  if (kind === 'prePromotion' && bg?.prePromotionAnalysis) return { key, kind: 'PrePromotion', analysis: bg.prePromotionAnalysis as AnalysisRequest['analysis'] };
  if (kind === 'postPromotion' && bg?.postPromotionAnalysis) return { key, kind: 'PostPromotion', analysis: bg.postPromotionAnalysis as AnalysisRequest['analysis'] };
  return undefined;
}

/**
 * The commands Argo's kubectl plugin writes onto the status: a field the user changed
 * from what this workflow last wrote is the same command as the Update.
 */
function applyStatusCommands(p: RolloutProgress, written: RolloutStatus, seen: RolloutStatus): void {
  const hadPause = (written.pauseConditions?.length ?? 0) > 0;
  if (hadPause && !(seen.pauseConditions?.length ?? 0) && p.pauseConditions.length > 0) p.pauseConditions = [];
  if (!written.promoteFull && seen.promoteFull === true && p.currentHash !== p.stableHash) p.promoteFull = true;
  if (!written.abort && seen.abort === true && !p.aborted && p.currentHash !== p.stableHash) {
    p.aborted = true;
    p.abortedAt = new Date().toISOString();
    p.pauseConditions = [];
  }
  if (written.abort && seen.abort === false && p.aborted) {
    p.aborted = false;
    p.abortedAt = undefined;
    p.stepIndex = 0;
    p.pauseStartedAt = undefined;
  }
}

/** Runs the actions in order; a refusal from Kubernetes is reported, not retried forever. */
async function perform(ref: RolloutRef, actions: RolloutAction[], k: Reconcile, batched: boolean): Promise<{ failure?: string; restartDone?: boolean }> {
  let restartDone: boolean | undefined;
  let batch: ReconcileAction[] = [];
  for (const [i, action] of actions.entries()) {
    try {
      if (batched && isReconcileAction(action)) {
        batch.push(action);
        // Sent when the run of patches ends: order with the other actions is kept.
        if (i === actions.length - 1 || !isReconcileAction(actions[i + 1])) {
          const sending = batch;
          batch = [];
          await k.applyActions(ref, sending);
        }
        continue;
      }
      switch (action.kind) {
        case 'createReplicaSet':
          await act.createReplicaSet(ref, action);
          break;
        case 'scaleReplicaSet':
          await k.scaleReplicaSet(ref, action);
          break;
        case 'setScaleDownDeadline':
          await k.setScaleDownDeadline(ref, action);
          break;
        case 'setRevision':
          await k.setReplicaSetRevision(ref, action);
          break;
        case 'deleteReplicaSet':
          await act.deleteReplicaSet(ref, action);
          break;
        case 'setServiceSelector':
          await k.switchServiceSelector(ref, action);
          break;
        case 'setPodMetadata':
          await k.setPodMetadata(ref, action);
          break;
        case 'setTrafficWeight':
          await k.setTrafficWeight(ref, action);
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
