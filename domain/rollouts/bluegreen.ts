// Blue-green: the new ReplicaSet comes up beside the active one, the preview Service
// selects it, and only promotion switches the active Service. The old ReplicaSet stays
// up for scaleDownDelaySeconds as a rollback window. Pure, like the canary module.
import { earliest, type AnalysisRequest, type Decision, type RolloutAction, type RolloutAnalysisSpec } from './actions';
import { conditionsFor, mergeConditions, phaseOf, type PhaseFacts } from './conditions';
import { fullyAvailable, imageOf, nextRevision, replicaTotals, replicasOf, selectedHash, selectorString, serviceNamed } from './observed';
import { startRevision, type RolloutProgress } from './progress';
import type { ReplicaSetState, RolloutSnapshot, RolloutStatus } from './types';

const DEFAULT_SCALE_DOWN_DELAY_S = 30;
const DEFAULT_ABORT_SCALE_DOWN_DELAY_S = 30;

export function decideBlueGreen(snap: RolloutSnapshot, progressIn: RolloutProgress, nowMs: number): Decision {
  const bg = snap.spec.strategy!.blueGreen!;
  const nowIso = new Date(nowMs).toISOString();
  const replicas = replicasOf(snap);
  let p: RolloutProgress = { ...progressIn, pauseConditions: [...progressIn.pauseConditions] };
  if (p.currentHash !== snap.podTemplateHash) p = startRevision(p, snap.podTemplateHash, 0);

  const byHash = new Map(snap.replicaSets.map((rs) => [rs.podTemplateHash, rs]));
  const newRS = byHash.get(p.currentHash!);
  const activeRS = p.stableHash !== p.currentHash ? byHash.get(p.stableHash ?? '') : undefined;
  const others = snap.replicaSets.filter((rs) => rs !== newRS && rs !== activeRS);
  const activeSvc = serviceNamed(snap, bg.activeService);
  const actions: RolloutAction[] = [];
  const wakes: (number | undefined)[] = [];

  const scaleTo = (rs: ReplicaSetState, n: number) => {
    if (rs.specReplicas !== n) actions.push({ kind: 'scaleReplicaSet', name: rs.name, replicas: n });
  };
  const pointService = (svcName: string | undefined, hash: string | undefined) => {
    const svc = serviceNamed(snap, svcName);
    if (svc && hash && selectedHash(svc) !== hash) actions.push({ kind: 'setServiceSelector', service: svc.name, hash });
  };
  /** Keep an old ReplicaSet up until its deadline, then scale it to zero. */
  const scaleDownAfter = (rs: ReplicaSetState, delaySeconds: number) => {
    if (rs.specReplicas === 0) return;
    if (!rs.scaleDownDeadline) {
      actions.push({ kind: 'setScaleDownDeadline', name: rs.name, deadline: new Date(nowMs + delaySeconds * 1000).toISOString() });
      wakes.push(nowMs + delaySeconds * 1000);
      return;
    }
    const deadline = Date.parse(rs.scaleDownDeadline);
    if (nowMs >= deadline) scaleTo(rs, 0);
    else wakes.push(deadline);
  };

  const startAnalyses: AnalysisRequest[] = [];
  /** A pre- or post-promotion analysis: its verdict, starting it when needed. */
  const gate = (kind: 'PrePromotion' | 'PostPromotion', spec: unknown): 'pass' | 'wait' | 'fail' => {
    if (!spec) return 'pass';
    const key = `${p.currentHash}/${kind === 'PrePromotion' ? 'prePromotion' : 'postPromotion'}`;
    const rec = (p.analyses ?? []).find((a) => a.key === key);
    if (!rec) {
      startAnalyses.push({ key, kind, analysis: spec as RolloutAnalysisSpec });
      return 'wait';
    }
    if (rec.phase === 'Successful') return 'pass';
    if (rec.phase === 'Running') return 'wait';
    if (rec.phase === 'Inconclusive') {
      // Paused with InconclusiveAnalysisRun until promote (pass) or abort.
      if (p.pauseStartedAt && p.pauseConditions.length === 0) return 'pass';
      if (!p.pauseStartedAt || p.pauseConditions[0]?.reason !== 'InconclusiveAnalysisRun') {
        p.pauseStartedAt = nowIso;
        p.pauseConditions = [{ reason: 'InconclusiveAnalysisRun', startTime: nowIso }];
      }
      return 'wait';
    }
    p.analyses = (p.analyses ?? []).map((a) => (a.key === rec.key ? { ...a, abortedRollout: true } : a));
    p.aborted = true;
    p.abortedAt = nowIso;
    p.abortMessage = `AnalysisRun ${rec.runName ?? ''} ${rec.phase}: ${rec.message ?? ''}`.replace(/\s+/g, ' ').trim();
    p.pauseConditions = [];
    p.pauseStartedAt = undefined;
    return 'fail';
  };

  // With postPromotionAnalysis the active Service switches first and the new
  // ReplicaSet becomes stable only when that analysis passes; until then the old
  // one stays up so a failure can switch back.
  if (p.switchedTo === p.currentHash && !p.aborted && p.currentHash !== p.stableHash) {
    const verdict = gate('PostPromotion', bg.postPromotionAnalysis);
    if (verdict === 'pass') {
      p.stableHash = p.currentHash;
      p.switchedTo = undefined;
    }
  }
  let promoted = p.currentHash === p.stableHash;
  if (promoted) p.scaleUpPreviewCheckPoint = undefined;
  const promoteRequested = p.promoteFull || p.scaleUpPreviewCheckPoint || (p.pauseStartedAt !== undefined && p.pauseConditions.length === 0);
  // Switched (a post-promotion analysis running): the new ReplicaSet serves production at full size.
  const switched = p.switchedTo === p.currentHash;
  const newTarget = promoted || promoteRequested || switched ? replicas : (bg.previewReplicaCount ?? replicas);

  const rollBack = () => {
    // Production never left the active ReplicaSet; the preview goes back to it too.
    if (activeRS) scaleTo(activeRS, replicas);
    pointService(bg.previewService, p.stableHash);
    pointService(bg.activeService, p.stableHash);
    if (newRS) scaleDownAfter(newRS, bg.abortScaleDownDelaySeconds ?? DEFAULT_ABORT_SCALE_DOWN_DELAY_S);
  };
  if (p.aborted) {
    rollBack();
  } else if (!newRS) {
    actions.push({ kind: 'createReplicaSet', hash: p.currentHash!, revision: nextRevision(snap), replicas: newTarget });
  } else {
    scaleTo(newRS, newTarget);
    if (newRS.scaleDownDeadline) actions.push({ kind: 'setScaleDownDeadline', name: newRS.name, deadline: null });
    if (activeRS) scaleTo(activeRS, replicas);
    const newReady = fullyAvailable(newRS, newTarget);

    if (!promoted && newReady && !snap.spec.paused) {
      pointService(bg.previewService, p.currentHash);
      const autoPromotion = bg.autoPromotionEnabled ?? true;
      // autoPromotionSeconds counts only when automatic promotion is on.
      const holds = !autoPromotion || !!bg.autoPromotionSeconds;
      // Past the checkpoint the pause is over, also for a workflow that adopted the rollout then.
      let release = p.promoteFull || !holds || !!p.scaleUpPreviewCheckPoint;
      const pre = p.switchedTo === p.currentHash ? 'pass' : gate('PrePromotion', bg.prePromotionAnalysis);
      if (!release) {
        if (!p.pauseStartedAt) {
          p.pauseStartedAt = nowIso;
          p.pauseConditions = [{ reason: 'BlueGreenPause', startTime: nowIso }];
        } else if (p.pauseConditions.length === 0) {
          release = true; // promoted
        }
        if (!release && autoPromotion && bg.autoPromotionSeconds) {
          const at = Date.parse(p.pauseStartedAt) + bg.autoPromotionSeconds * 1000;
          if (nowMs >= at) release = true;
          else wakes.push(at);
        }
      }
      if (pre !== 'pass') release = false;
      if (p.aborted) {
        // the pre-promotion analysis failed: nothing switches
      } else if (p.switchedTo === p.currentHash) {
        pointService(bg.activeService, p.currentHash);
      } else if (release && newTarget < replicas) {
        // previewReplicaCount: grow to full size before the switch. The pause is over for
        // good: without the checkpoint the next pass would see the preview size again.
        p.scaleUpPreviewCheckPoint = true;
        p.pauseConditions = [];
        scaleTo(newRS, replicas);
      } else if (release) {
        // The switch: the active Service selects the new ReplicaSet, which becomes stable
        // (after the post-promotion analysis, when there is one).
        pointService(bg.activeService, p.currentHash);
        p.pauseConditions = [];
        p.pauseStartedAt = undefined;
        p.promoteFull = false;
        if (bg.postPromotionAnalysis) {
          p.switchedTo = p.currentHash;
          gate('PostPromotion', bg.postPromotionAnalysis);
        } else {
          p.stableHash = p.currentHash;
          p.scaleUpPreviewCheckPoint = undefined;
          promoted = true;
        }
      }
    }
    if (promoted && newReady) {
      pointService(bg.activeService, p.currentHash);
      pointService(bg.previewService, p.currentHash);
    }
    if (p.aborted) {
      // The pre-promotion analysis failed in this pass: what was planned towards the new
      // revision is dropped and the rollback starts now, not at the next observation.
      actions.length = 0;
      wakes.length = 0;
      rollBack();
    }
  }

  // Old ReplicaSets: the newest `scaleDownDelayRevisionLimit` wait out the delay, older ones go now.
  const limit = bg.scaleDownDelayRevisionLimit;
  // The ReplicaSet the active Service still selects serves production (a revision switched
  // to, its post-promotion analysis cut short by a newer one): it stays until the next switch.
  const serving = selectedHash(activeSvc);
  const oldUp = [...others, ...(promoted && activeRS ? [activeRS] : [])]
    .filter((rs) => rs.specReplicas > 0 && rs.podTemplateHash !== serving)
    .sort((a, b) => b.revision - a.revision);
  oldUp.forEach((rs, i) => {
    if (limit !== undefined && i >= limit) scaleTo(rs, 0);
    else scaleDownAfter(rs, bg.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_S);
  });

  const activeHash = selectedHash(activeSvc);
  /** Where a Service points once this decision's actions are done. */
  const selectorAfter = (svcName: string | undefined) => {
    const planned = actions.find((a): a is Extract<RolloutAction, { kind: 'setServiceSelector' }> => a.kind === 'setServiceSelector' && a.service === svcName);
    return planned ? (planned.hash ?? undefined) : selectedHash(serviceNamed(snap, svcName));
  };
  const available = fullyAvailable(newRS, replicas) || (!promoted && fullyAvailable(activeRS, replicas));
  const completed = promoted && fullyAvailable(newRS, replicas) && activeHash === p.currentHash && actions.length === 0;
  const facts: PhaseFacts = {
    aborted: p.aborted,
    abortMessage: p.abortMessage ?? `Rollout aborted update to revision ${newRS?.revision ?? ''}`.trim(),
    pausedByUser: !!snap.spec.paused,
    pauseReason: p.pauseConditions[0]?.reason,
    completed,
    available,
    progressMessage: !newRS || !fullyAvailable(newRS, newTarget) ? 'updated replicas are still becoming available' : 'waiting for the active Service to switch',
  };
  const { phase, message } = phaseOf(facts);
  const status: RolloutStatus = {
    phase,
    message,
    observedGeneration: String(snap.generation),
    currentPodHash: p.currentHash,
    stableRS: p.stableHash,
    pauseConditions: p.pauseConditions.length > 0 ? p.pauseConditions : null,
    controllerPause: p.pauseConditions.length > 0,
    abort: p.aborted,
    abortedAt: p.abortedAt ?? null,
    promoteFull: p.promoteFull,
    ...replicaTotals(snap, newRS),
    selector: selectorString(snap),
    blueGreen: {
      activeSelector: selectorAfter(bg.activeService) ?? p.stableHash,
      previewSelector: selectorAfter(bg.previewService),
      // Written as false too: the status is merge-patched, so an omitted true would stay.
      ...(bg.previewReplicaCount !== undefined ? { scaleUpPreviewCheckPoint: !!p.scaleUpPreviewCheckPoint } : {}),
    },
    conditions: mergeConditions(snap.status.conditions, conditionsFor(facts), nowIso),
  };
  const where = p.aborted
    ? 'aborted'
    : completed
      ? 'healthy'
      : p.pauseConditions.length > 0
        ? 'preview ready, waiting for promotion'
        : promoted
          ? 'switched, settling'
          : 'bringing up the new revision';
  const over = p.aborted || promoted;
  const stopAnalyses = (p.analyses ?? [])
    .filter((a) => a.phase === 'Running' && ((over && a.key.endsWith('/prePromotion')) || p.aborted || !a.key.startsWith(`${p.currentHash}/`)))
    .map((a) => a.key);
  return { progress: p, actions, status, wakeAt: earliest(...wakes), summary: `blue-green ${where}, image ${imageOf(snap)}`, startAnalyses, stopAnalyses };
}
