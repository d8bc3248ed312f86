// The canary strategy without a traffic router: what to do next, given one
// observation of the cluster and the workflow's progress. Pure: the workflow runs
// the actions it returns through activities and writes the status it returns.
import { atDesiredCanaryCounts, nextCanaryScale, type CanaryScaleInput } from './canary-replicas';
import { conditionsFor, mergeConditions, phaseOf, type PhaseFacts } from './conditions';
import { parseDuration } from './duration';
import { rolloutBudgets } from './int-or-percent';
import { startRevision, type RolloutProgress } from './progress';
import { earliest, type AnalysisRequest, type Decision, type RolloutAction, type RolloutAnalysisSpec } from './actions';
import type { AnalysisRecord } from './progress';
import { counts, imageOf, nextRevision, replicasOf, selectedHash, selectorString, serviceNamed } from './observed';
import type { CanaryStep, ReplicaSetState, RolloutSnapshot, RolloutStatus } from './types';

export function stepLabel(step: CanaryStep | undefined): string {
  if (!step) return 'done';
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}`;
  if (step.pause !== undefined) return step.pause?.duration !== undefined ? `pause ${step.pause.duration}` : 'pause (until promoted)';
  return Object.keys(step)[0] ?? 'empty step';
}

function currentSetWeight(steps: CanaryStep[], index: number): number {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    if (steps[i].setWeight !== undefined) return steps[i].setWeight!;
  }
  return 0;
}

export function decideCanary(snap: RolloutSnapshot, progressIn: RolloutProgress, nowMs: number): Decision {
  const nowIso = new Date(nowMs).toISOString();
  const canarySpec = snap.spec.strategy!.canary!;
  const steps = canarySpec.steps ?? [];
  const replicas = replicasOf(snap);
  const budgets = rolloutBudgets(replicas, canarySpec.maxSurge, canarySpec.maxUnavailable);

  let p: RolloutProgress = { ...progressIn, pauseConditions: [...progressIn.pauseConditions] };
  if (p.currentHash !== snap.podTemplateHash) p = startRevision(p, snap.podTemplateHash, steps.length);

  const byHash = new Map(snap.replicaSets.map((rs) => [rs.podTemplateHash, rs]));
  const canaryRS = byHash.get(p.currentHash!);
  const stableRS = p.stableHash !== p.currentHash ? byHash.get(p.stableHash ?? '') : undefined;
  const others = snap.replicaSets.filter((rs) => rs !== canaryRS && rs !== stableRS);

  // A traffic router sets the split; replicas only have to carry it, and the stable
  // side stays at full size unless dynamicStableScale shrinks it with its weight.
  const routed = !!canarySpec.trafficRouting?.nginx;
  const scaleInput = (weight: number): CanaryScaleInput => ({
    replicas,
    weight,
    trafficRouted: routed && !canarySpec.dynamicStableScale,
    maxSurge: budgets.maxSurge,
    maxUnavailable: budgets.maxUnavailable,
    canary: counts(canaryRS) ?? { specReplicas: 0, availableReplicas: 0 },
    stable: counts(stableRS),
    others: others.map((rs) => counts(rs)!),
  });

  const rolledToStable = () => p.currentHash === p.stableHash;
  if (p.promoteFull || p.aborted) {
    // Skipping (or abandoning) the remaining steps ends any pause they were in.
    p.pauseConditions = [];
    p.pauseStartedAt = undefined;
  }
  let wakeAt: number | undefined;
  const startAnalyses: AnalysisRequest[] = [];
  const record = (key: string) => (p.analyses ?? []).find((a) => a.key === key);
  /** A failed or errored analysis aborts: all traffic back to stable at once. */
  const abortFor = (rec: AnalysisRecord) => {
    p.aborted = true;
    p.abortedAt = nowIso;
    p.abortMessage = `AnalysisRun ${rec.runName ?? ''} ${rec.phase}: ${rec.message ?? ''}`.replace(/\s+/g, ' ').trim();
    p.pauseConditions = [];
    p.pauseStartedAt = undefined;
  };
  /** Inconclusive pauses the rollout; promote continues past it, abort aborts. */
  const inconclusive = (): 'continue' | 'wait' => {
    if (p.pauseStartedAt && p.pauseConditions.length === 0) {
      p.pauseStartedAt = undefined;
      return 'continue';
    }
    if (!p.pauseStartedAt) {
      p.pauseStartedAt = nowIso;
      p.pauseConditions = [{ reason: 'InconclusiveAnalysisRun', startTime: nowIso }];
    }
    return 'wait';
  };

  // Advance through every step whose condition already holds.
  while (!p.aborted && !p.promoteFull && !rolledToStable() && !snap.spec.paused && p.stepIndex < steps.length) {
    const step = steps[p.stepIndex];
    if (step.setWeight !== undefined) {
      if (!canaryRS || !atDesiredCanaryCounts(scaleInput(step.setWeight))) break;
      if (routed && p.trafficWeight !== step.setWeight) break; // the router gets the weight first
      p.stepIndex++;
      continue;
    }
    if (step.pause !== undefined) {
      if (!p.pauseStartedAt) {
        p.pauseStartedAt = nowIso;
        p.pauseConditions = [{ reason: 'CanaryPauseStep', startTime: nowIso }];
      }
      const promoted = p.pauseConditions.length === 0;
      const duration = step.pause?.duration;
      const endsAt = duration !== undefined ? Date.parse(p.pauseStartedAt) + parseDuration(duration) : undefined;
      if (promoted || (endsAt !== undefined && nowMs >= endsAt)) {
        p.pauseStartedAt = undefined;
        p.pauseConditions = [];
        p.stepIndex++;
        continue;
      }
      wakeAt = endsAt;
      break;
    }
    if (step.analysis !== undefined) {
      const key = `${p.currentHash}/step/${p.stepIndex}`;
      const rec = record(key);
      if (!rec) {
        startAnalyses.push({ key, kind: 'Step', stepIndex: p.stepIndex, analysis: step.analysis as RolloutAnalysisSpec });
        break;
      }
      if (rec.phase === 'Running') break;
      if (rec.phase === 'Successful' || (rec.phase === 'Inconclusive' && inconclusive() === 'continue')) {
        p.stepIndex++;
        continue;
      }
      if (rec.phase === 'Failed' || rec.phase === 'Error') abortFor(rec);
      break;
    }
    break; // validation admits no other kind
  }

  // Background analysis runs beside the steps from startingStep until the rollout ends.
  const background = canarySpec.analysis as RolloutAnalysisSpec | undefined;
  if (background && !p.aborted && !rolledToStable()) {
    const key = `${p.currentHash}/background`;
    const rec = record(key);
    if (!rec && p.stepIndex >= (background.startingStep ?? 0)) startAnalyses.push({ key, kind: 'Background', analysis: background });
    else if (rec && (rec.phase === 'Failed' || rec.phase === 'Error')) abortFor(rec);
    else if (rec && rec.phase === 'Inconclusive') inconclusive();
  }

  const stepsDone = p.stepIndex >= steps.length;
  const weight = p.aborted ? 0 : p.promoteFull || rolledToStable() || stepsDone ? 100 : currentSetWeight(steps, p.stepIndex);
  const input = scaleInput(weight);
  const target = nextCanaryScale(input);

  const actions: RolloutAction[] = [];
  if (!canaryRS) {
    actions.push({ kind: 'createReplicaSet', hash: p.currentHash!, revision: nextRevision(snap), replicas: target.canary });
  } else if (canaryRS.specReplicas !== target.canary) {
    actions.push({ kind: 'scaleReplicaSet', name: canaryRS.name, replicas: target.canary });
  }
  if (stableRS && stableRS.specReplicas !== target.stable) actions.push({ kind: 'scaleReplicaSet', name: stableRS.name, replicas: target.stable });
  const wakes: (number | undefined)[] = [wakeAt];
  /** With a router, a ReplicaSet leaving service waits out a delay (in-flight requests). */
  const scaleDownAfter = (rs: ReplicaSetState, delaySeconds: number) => {
    if (rs.specReplicas === 0) return;
    if (!rs.scaleDownDeadline) {
      actions.push({ kind: 'setScaleDownDeadline', name: rs.name, deadline: new Date(nowMs + delaySeconds * 1000).toISOString() });
      wakes.push(nowMs + delaySeconds * 1000);
    } else if (nowMs >= Date.parse(rs.scaleDownDeadline)) actions.push({ kind: 'scaleReplicaSet', name: rs.name, replicas: 0 });
    else wakes.push(Date.parse(rs.scaleDownDeadline));
  };
  for (const rs of others) {
    if (routed) scaleDownAfter(rs, canarySpec.scaleDownDelaySeconds ?? 30);
    else if (rs.specReplicas > 0) actions.push({ kind: 'scaleReplicaSet', name: rs.name, replicas: 0 });
  }
  if (routed && p.aborted && canaryRS && canaryRS.specReplicas > 0) {
    // Traffic leaves the canary at once; its pods go after abortScaleDownDelaySeconds.
    const i = actions.findIndex((a) => a.kind === 'scaleReplicaSet' && a.name === canaryRS.name);
    if (i >= 0) actions.splice(i, 1);
    scaleDownAfter(canaryRS, canarySpec.abortScaleDownDelaySeconds ?? 30);
  }

  // canaryService / stableService: each selects its side by pod template hash; after an
  // abort both select stable.
  const point = (svcName: string | undefined, hash: string | undefined) => {
    const svc = serviceNamed(snap, svcName);
    if (svc && hash && selectedHash(svc) !== hash && (hash === p.stableHash || canaryRS)) actions.push({ kind: 'setServiceSelector', service: svc.name, hash });
  };
  point(canarySpec.stableService, p.stableHash);
  point(canarySpec.canaryService, p.aborted ? p.stableHash : p.currentHash);

  // Fully promoted: the canary becomes the stable ReplicaSet.
  const canaryFull = !!canaryRS && canaryRS.specReplicas === replicas && canaryRS.availableReplicas >= replicas && canaryRS.observed;
  if (!p.aborted && weight === 100 && canaryFull && p.stableHash !== p.currentHash && (!routed || p.trafficWeight === 100)) {
    p.stableHash = p.currentHash;
    p.promoteFull = false;
  }

  if (routed) {
    // The router's weight follows the pods: raised only once the canary can carry it,
    // dropped to 0 at once on abort, and back to 0 once the stable Service selects the
    // new pods.
    const carried = !!canaryRS && atDesiredCanaryCounts(scaleInput(weight));
    const traffic = p.aborted || rolledToStable() ? 0 : carried ? weight : (p.trafficWeight ?? 0);
    if (traffic !== (p.trafficWeight ?? 0) || p.trafficWeight === undefined) {
      actions.push({ kind: 'setTrafficWeight', weight: traffic });
      p.trafficWeight = traffic;
    }
  }

  const allRS = snap.replicaSets;
  const sum = (f: (rs: ReplicaSetState) => number) => allRS.reduce((n, rs) => n + f(rs), 0);
  const available = sum((rs) => rs.availableReplicas);
  // A ReplicaSet waiting out its scale-down delay is on its way out: no longer progress.
  const othersDrained = snap.replicaSets.every((rs) => rs === canaryRS || (rs.specReplicas === 0 && rs.replicas === 0) || (routed && rs.scaleDownDeadline !== undefined));
  const completed = rolledToStable() && canaryFull && othersDrained && actions.length === 0;
  const facts: PhaseFacts = {
    aborted: p.aborted,
    abortMessage: p.abortMessage ?? `Rollout aborted update to revision ${canaryRS?.revision ?? ''}`.trim(),
    pausedByUser: !!snap.spec.paused,
    pauseReason: p.pauseConditions[0]?.reason,
    completed,
    available: available >= replicas - budgets.maxUnavailable,
    progressMessage: !canaryFull && rolledToStable() ? 'updated replicas are still becoming available' : !othersDrained ? 'old replicas are pending termination' : 'more replicas need to be updated',
  };
  const { phase, message } = phaseOf(facts);
  const canaryWeight = rolledToStable() ? 100 : weight;
  const status: RolloutStatus = {
    phase,
    message,
    observedGeneration: String(snap.generation),
    currentPodHash: p.currentHash,
    stableRS: p.stableHash,
    currentStepIndex: steps.length > 0 ? p.stepIndex : undefined,
    pauseConditions: p.pauseConditions.length > 0 ? p.pauseConditions : null,
    controllerPause: p.pauseConditions.length > 0,
    abort: p.aborted,
    abortedAt: p.abortedAt ?? null,
    promoteFull: p.promoteFull,
    replicas: sum((rs) => rs.replicas),
    updatedReplicas: canaryRS?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.readyReplicas),
    availableReplicas: available,
    selector: selectorString(snap),
    canary: {
      weights: {
        canary: { weight: rolledToStable() ? 0 : canaryWeight, podTemplateHash: p.currentHash! },
        stable: { weight: rolledToStable() ? 100 : 100 - canaryWeight, podTemplateHash: p.stableHash! },
      },
    },
    conditions: mergeConditions(snap.status.conditions, conditionsFor(facts), nowIso),
  };
  const where = rolledToStable() ? (completed ? 'healthy' : 'promoting') : p.aborted ? 'aborted' : `step ${Math.min(p.stepIndex + 1, steps.length)}/${steps.length}: ${stepLabel(steps[p.stepIndex])}`;
  const summary = `canary ${where}, weight ${canaryWeight}, image ${imageOf(snap)}`;
  // Runs that no longer matter: other revisions', and this one's once it is over.
  const over = p.aborted || rolledToStable();
  const stopAnalyses = (p.analyses ?? []).filter((a) => a.phase === 'Running' && (over || !a.key.startsWith(`${p.currentHash}/`))).map((a) => a.key);
  const running = (p.analyses ?? []).filter((a) => a.phase === 'Running' && a.key.startsWith(`${p.currentHash}/`));
  const analysisNote = running.length > 0 ? `, analysis ${running.map((a) => a.runName ?? a.key).join(', ')} running` : '';
  return { progress: p, actions, status, wakeAt: earliest(...wakes), summary: summary + analysisNote, startAnalyses, stopAnalyses };
}
