// The canary strategy, with or without a traffic router: what to do next, given one
// observation of the cluster and the workflow's progress. Pure: the workflow runs
// the actions it returns through activities and writes the status it returns.
import {
  abortRouterWeight,
  abortStepDownWeight,
  atDesiredCanaryCounts,
  atTrafficRoutedCounts,
  nextCanaryScale,
  stableCanTake,
  trafficRoutedCanaryCounts,
  type CanaryScale,
  type CanaryScaleInput,
  type TrafficRoutedScaleInput,
} from './canary-replicas';
import { canaryScaleAt, canaryScaleLabel, setWeightAt } from './canary-scale';
import { conditionsFor, mergeConditions, phaseOf, type PhaseFacts } from './conditions';
import { parseDuration } from '../argo/duration';
import { rolloutBudgets } from '../argo/int-or-percent';
import { startRevision, type RolloutProgress } from './progress';
import { earliest, type AnalysisRequest, type Decision, type EarlierRules, type RolloutAction, type RolloutAnalysisSpec } from './actions';
import type { AnalysisRecord } from './progress';
import { exactCounts, imageOf, nextRevision, replicasOf, selectedHash, selectorString, serviceNamed } from './observed';
import { configuredRouters } from './traffic/routers';
import type { CanaryStep, ReplicaSetState, RolloutSnapshot, RolloutStatus } from './types';

export function stepLabel(step: CanaryStep | undefined): string {
  if (!step) return 'done';
  if (step.setWeight !== undefined) return `setWeight ${step.setWeight}`;
  if (step.pause !== undefined) return step.pause?.duration !== undefined ? `pause ${step.pause.duration}` : 'pause (until promoted)';
  if (step.setCanaryScale !== undefined) return canaryScaleLabel(step.setCanaryScale);
  return Object.keys(step)[0] ?? 'empty step';
}

const currentSetWeight = setWeightAt;

/**
 * Traffic-routed replica arithmetic as Argo's (setCanaryScale, minPodsPerReplicaSet,
 * dynamicStableScale and its abort), with steps judged on the ReplicaSets' exact
 * available counts.
 */
export function decideCanary(snap: RolloutSnapshot, progressIn: RolloutProgress, nowMs: number, earlier: EarlierRules = {}): Decision {
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
  const counts = exactCounts;
  const routed = configuredRouters(canarySpec).length > 0;
  const dynamic = !!canarySpec.dynamicStableScale;
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

  // Traffic-routed sizing (Argo's GetCanaryReplicasOrWeight): a setCanaryScale in force
  // sizes the canary apart from the traffic; an abort with dynamicStableScale steps the
  // canary down through the setWeights as the stable side comes back.
  const routerNow = p.trafficWeight ?? routerWeightFromStatus(snap, p.currentHash);
  const setWeights = steps.filter((s) => s.setWeight !== undefined).map((s) => s.setWeight!);
  const abortDelay = canarySpec.abortScaleDownDelaySeconds;
  const keptCanaryScale = canaryScaleAt(steps, p.stepIndex);
  const stepDownWeight = (canaryRS: ReplicaSetState, stableRS: ReplicaSetState) =>
    abortStepDownWeight({
      replicas,
      setWeights,
      stableAvailable: stableRS.availableReplicas,
      canaryAvailable: canaryRS.availableReplicas,
      canaryHeldApart: (abortDelay !== undefined && abortDelay !== 0) || (abortDelay === 0 && keptCanaryScale !== undefined && !earlier.beforeCanaryHeldApart),
      minPodsPerReplicaSet: canarySpec.minPodsPerReplicaSet,
    });
  const routedScale = (index: number, routerCanaryWeight: number | undefined = routerNow): TrafficRoutedScaleInput => {
    const base = { replicas, minPodsPerReplicaSet: canarySpec.minPodsPerReplicaSet, dynamicStableScale: dynamic, aborted: p.aborted, routerCanaryWeight };
    if (p.promoteFull || !p.stableHash || rolledToStable()) return { ...base, weight: 100 };
    // An abort drops the setCanaryScale unless abortScaleDownDelaySeconds: 0 keeps the canary up.
    const scs = p.aborted && abortDelay !== 0 ? undefined : canaryScaleAt(steps, index);
    if (scs?.replicas !== undefined) return { ...base, weight: 0, fixedCanaryReplicas: scs.replicas };
    const stepWeight = p.aborted ? 0 : index >= steps.length ? 100 : currentSetWeight(steps, index);
    if (scs?.weight !== undefined)
      return { ...base, weight: scs.weight, canaryScaleWeight: true, trafficWeight: earlier.beforeCanaryHeldApart ? undefined : stepWeight };
    if (p.aborted && dynamic && canaryRS && stableRS) return { ...base, weight: stepDownWeight(canaryRS, stableRS) };
    return { ...base, weight: stepWeight };
  };
  const atRouted = (index: number, routerCanaryWeight?: number) =>
    atTrafficRoutedCounts(routedScale(index, routerCanaryWeight), counts(canaryRS), counts(stableRS));
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
    p.analyses = (p.analyses ?? []).map((a) => (a.key === rec.key ? { ...a, abortedRollout: true } : a));
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
      if (!canaryRS || !(routed ? atRouted(p.stepIndex, routerNow) : atDesiredCanaryCounts(scaleInput(step.setWeight)))) break;
      // The router gets the weight first, unless the canary has no pods (a setCanaryScale sized
      // it so): the router sends none to no pods, and the step completes, as in Argo.
      if (routed && p.trafficWeight !== step.setWeight && !(routed && canaryRS.availableReplicas === 0)) break;
      p.stepIndex++;
      continue;
    }
    if (step.setCanaryScale !== undefined && routed) {
      // Done once the canary is at its count and available; the traffic weight stays.
      if (!canaryRS || !atRouted(p.stepIndex, routerNow)) break;
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
  const routedNow = routedScale(p.stepIndex);
  const target: CanaryScale = routed ? trafficRoutedCanaryCounts(routedNow) : nextCanaryScale(input);
  // An abort behind a router keeps the canary up for abortScaleDownDelaySeconds, except
  // with dynamicStableScale and no explicit delay, where it shrinks with its traffic.
  const delayAbortScaleDown = routed ? p.aborted && !!stableRS && abortDelay !== 0 && !(dynamic && abortDelay === undefined) : routed && p.aborted;

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
  // Without a router, older ReplicaSets (a superseded canary may hold every pod) go down as
  // Argo's scaleDownOldReplicaSetsForCanary takes them: their unavailable pods at once, the
  // rest only as far as availability stays at replicas - maxUnavailable.
  let spareAvailable = snap.replicaSets.reduce((n, rs) => n + rs.availableReplicas, 0) - (replicas - budgets.maxUnavailable);
  for (const rs of [...others].sort((a, b) => a.revision - b.revision)) {
    if (routed) {
      scaleDownAfter(rs, canarySpec.scaleDownDelaySeconds ?? 30);
      continue;
    }
    if (rs.specReplicas === 0) continue;
    const unavailable = Math.max(0, rs.specReplicas - rs.availableReplicas);
    const cut = Math.min(rs.specReplicas, unavailable + Math.max(0, spareAvailable));
    spareAvailable -= cut - unavailable;
    if (cut > 0) actions.push({ kind: 'scaleReplicaSet', name: rs.name, replicas: rs.specReplicas - cut });
  }
  if (delayAbortScaleDown && canaryRS && canaryRS.specReplicas > 0) {
    // Traffic leaves the canary at once; its pods go after abortScaleDownDelaySeconds,
    // counted (as Argo does) from when the stable side can take all the traffic again.
    const i = actions.findIndex((a) => a.kind === 'scaleReplicaSet' && a.name === canaryRS.name);
    if (i >= 0) actions.splice(i, 1);
    const stableBack = !routed || canaryRS.scaleDownDeadline !== undefined || (stableRS?.availableReplicas ?? 0) >= replicas;
    if (stableBack) scaleDownAfter(canaryRS, canarySpec.abortScaleDownDelaySeconds ?? 30);
  } else if (canaryRS?.scaleDownDeadline && !p.aborted && !earlier.beforeCanaryHeldApart) {
    // A retry after an abort: the old deadline would take the canary's pods at the next abort
    // while traffic still goes to them (Argo removes it from the new ReplicaSet too).
    actions.push({ kind: 'setScaleDownDeadline', name: canaryRS.name, deadline: null });
  }

  /** The router's weight with Argo's rules (trafficrouting.go), once this pass's promotion is known. */
  function routedTraffic(): number {
    const prev = p.trafficWeight ?? 0;
    let want: number;
    if (p.aborted) {
      want =
        dynamic && canaryRS && stableRS
          ? // Argo's GetDesiredCanaryWeight: the setWeights walked back, never a setCanaryScale kept up by abortScaleDownDelaySeconds 0.
            abortRouterWeight({
              replicas,
              stepDownWeight: stepDownWeight(canaryRS, stableRS),
              stableAvailable: stableRS.availableReplicas,
              currentCanaryWeight: routerNow,
            })
          : 0;
    } else if (rolledToStable()) return 0;
    else if (!canaryRS || canaryRS.availableReplicas === 0)
      want = 0; // never weight towards no pods
    else if (p.promoteFull) want = dynamic ? Math.min(100, Math.floor((100 * canaryRS.availableReplicas) / replicas)) : atRouted(p.stepIndex) ? 100 : prev;
    else if (atRouted(p.stepIndex)) want = p.stepIndex >= steps.length ? 100 : currentSetWeight(steps, p.stepIndex);
    else {
      // The canary is not ready for this step: at most the step before's weight, and never
      // back up to it once the router moved away (no pods took it to 0); traffic going down
      // (a lower setWeight) needs no canary and goes at once.
      const stepWeight = p.stepIndex >= steps.length ? 100 : currentSetWeight(steps, p.stepIndex);
      want = stepWeight <= prev ? stepWeight : Math.min(prev, p.stepIndex > 0 ? currentSetWeight(steps, p.stepIndex - 1) : 0);
    }
    // Argo's checkReplicasAvailable: move only as far as the stable side can carry.
    if (stableRS && !stableCanTake(replicas, want, stableRS.availableReplicas)) return prev;
    return want;
  }

  // Fully promoted: the canary becomes the stable ReplicaSet (before the Services are
  // pointed, so the stable Service follows in the same pass).
  const canaryFull = !!canaryRS && canaryRS.specReplicas === replicas && canaryRS.availableReplicas >= replicas && canaryRS.observed;
  let promotedFully = false;
  if (!p.aborted && weight === 100 && canaryFull && p.stableHash !== p.currentHash && (!routed || p.trafficWeight === 100)) {
    p.stableHash = p.currentHash;
    promotedFully = p.promoteFull;
    p.promoteFull = false;
  }

  // canaryService / stableService: each selects its side by pod template hash; after an
  // abort both select stable.
  const point = (svcName: string | undefined, hash: string | undefined) => {
    const svc = serviceNamed(snap, svcName);
    if (svc && hash && selectedHash(svc) !== hash && (hash === p.stableHash || canaryRS)) actions.push({ kind: 'setServiceSelector', service: svc.name, hash });
  };
  point(canarySpec.stableService, p.stableHash);
  // An abort with dynamicStableScale moves the canary Service back only once its traffic is 0.
  const canaryBackToStable = p.aborted && (!routed || !dynamic || routedTraffic() === 0);
  point(canarySpec.canaryService, canaryBackToStable ? p.stableHash : p.aborted ? undefined : p.currentHash);

  if (routed) {
    // The router's weight follows the pods: raised only once the canary can carry it,
    // dropped to 0 at once on abort, and back to 0 once the stable Service selects the
    // new pods.
    let traffic: number;
    if (routed) traffic = routedTraffic();
    else {
      const carried = !!canaryRS && atDesiredCanaryCounts(scaleInput(weight));
      traffic = p.aborted || rolledToStable() ? 0 : carried ? weight : (p.trafficWeight ?? 0);
    }
    if (traffic !== (p.trafficWeight ?? 0) || p.trafficWeight === undefined) {
      actions.push({ kind: 'setTrafficWeight', weight: traffic });
      p.trafficWeight = traffic;
    }
  }

  const allRS = snap.replicaSets;
  const sum = (f: (rs: ReplicaSetState) => number) => allRS.reduce((n, rs) => n + f(rs), 0);
  const available = sum((rs) => rs.availableReplicas);
  // A ReplicaSet waiting out its scale-down delay is on its way out: no longer progress.
  const othersDrained = snap.replicaSets.every(
    (rs) => rs === canaryRS || (rs.specReplicas === 0 && rs.replicas === 0) || (routed && rs.scaleDownDeadline !== undefined),
  );
  const completed = rolledToStable() && canaryFull && othersDrained && actions.length === 0;
  const facts: PhaseFacts = {
    aborted: p.aborted,
    abortMessage: p.abortMessage ?? `Rollout aborted update to revision ${canaryRS?.revision ?? ''}`.trim(),
    pausedByUser: !!snap.spec.paused,
    pauseReason: p.pauseConditions[0]?.reason,
    completed,
    available: available >= replicas - budgets.maxUnavailable,
    progressMessage:
      !canaryFull && rolledToStable()
        ? 'updated replicas are still becoming available'
        : !othersDrained
          ? 'old replicas are pending termination'
          : 'more replicas need to be updated',
  };
  const { phase, message } = phaseOf(facts);
  const canaryWeight = rolledToStable() ? 100 : weight;
  // Behind a router, status.canary.weights is what the router sends (as in Argo), which a
  // setCanaryScale step leaves apart from the replica sizes; it is also what an adopted or
  // restarted workflow reads back as the router's weight.
  const statusWeight = routed && !rolledToStable() ? (p.trafficWeight ?? 0) : rolledToStable() ? 0 : canaryWeight;
  if (promotedFully) p.stepIndex = steps.length;
  const status: RolloutStatus = {
    phase,
    message,
    observedGeneration: String(snap.generation),
    currentPodHash: p.currentHash,
    stableRS: p.stableHash,
    // As Argo: a full promotion counts every step as done, from the moment it is asked for.
    currentStepIndex: steps.length > 0 ? (p.promoteFull ? steps.length : p.stepIndex) : undefined,
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
        canary: { weight: statusWeight, podTemplateHash: p.currentHash! },
        stable: { weight: 100 - statusWeight, podTemplateHash: p.stableHash! },
      },
    },
    conditions: mergeConditions(snap.status.conditions, conditionsFor(facts), nowIso),
  };
  const where = rolledToStable()
    ? completed
      ? 'healthy'
      : 'promoting'
    : p.aborted
      ? 'aborted'
      : `step ${Math.min(p.stepIndex + 1, steps.length)}/${steps.length}: ${stepLabel(steps[p.stepIndex])}`;
  const scaleNote =
    routed && !rolledToStable() && !p.aborted && target.canary !== replicasForTraffic(replicas, statusWeight) ? `, canary replicas ${target.canary}` : '';
  const summary = `canary ${where}, weight ${routed ? statusWeight : canaryWeight}${scaleNote}, image ${imageOf(snap)}`;
  // Runs that no longer matter: other revisions', and this one's once it is over.
  const over = p.aborted || rolledToStable();
  const stopAnalyses = (p.analyses ?? []).filter((a) => a.phase === 'Running' && (over || !a.key.startsWith(`${p.currentHash}/`))).map((a) => a.key);
  const running = (p.analyses ?? []).filter((a) => a.phase === 'Running' && a.key.startsWith(`${p.currentHash}/`));
  const analysisNote = running.length > 0 ? `, analysis ${running.map((a) => a.runName ?? a.key).join(', ')} running` : '';
  return { progress: p, actions, status, wakeAt: earliest(...wakes), summary: summary + analysisNote, startAnalyses, stopAnalyses };
}

const replicasForTraffic = (replicas: number, weight: number) => Math.ceil((replicas * weight) / 100);

/** The router's canary weight as last written to status, for the revision in progress. */
function routerWeightFromStatus(snap: RolloutSnapshot, currentHash: string | undefined): number | undefined {
  const w = snap.status.canary?.weights;
  return w && currentHash && w.canary.podTemplateHash === currentHash ? w.canary.weight : undefined;
}
