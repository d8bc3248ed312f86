// The one entry point a rollout workflow calls: validate, run the strategy, then the
// policies common to both strategies (progress deadline, revision history, restarts).
import { earliest, type Decision, type EarlierRules, type RolloutAction } from './actions';
import { decideBlueGreen } from './bluegreen';
import { decideCanary } from './canary';
import { mergeConditions } from './conditions';
import { replicasOf } from './observed';
import type { RolloutProgress } from './progress';
import { rolloutBudgets } from '../argo/int-or-percent';
import { validateRolloutSpec, validateServices } from './spec-validation';
import type { PodMetadata, RolloutCondition, RolloutSnapshot } from './types';

const DEFAULT_PROGRESS_DEADLINE_S = 600;
const DEFAULT_REVISION_HISTORY_LIMIT = 10;

export function decideRollout(snap: RolloutSnapshot, progress: RolloutProgress, nowMs: number, earlier: EarlierRules = {}): Decision {
  const nowIso = new Date(nowMs).toISOString();
  const problems = validateRolloutSpec(snap.spec);
  if (problems.length === 0) problems.push(...validateServices(snap.spec, snap.services));
  if (problems.length > 0) return invalidDecision(snap, progress, problems.map((p) => `${p.field}: ${p.message}`).join('; '), nowIso);

  // An abort after promote --full cancels the full promotion: the later command wins, and a
  // full promotion kept alongside an abort would size the canary up and down by turns.
  if (progress.aborted && progress.promoteFull) progress = { ...progress, promoteFull: false };
  // Retried (no longer aborted): the verdicts that aborted it are dropped, so those analyses run again.
  if (!progress.aborted && progress.analyses?.some((a) => a.abortedRollout)) {
    progress = { ...progress, analyses: progress.analyses.filter((a) => !a.abortedRollout) };
  }
  const decision = snap.spec.strategy!.blueGreen ? decideBlueGreen(snap, progress, nowMs) : decideCanary(snap, progress, nowMs, earlier);
  bumpReusedRevision(snap, decision);
  applyRoleMetadata(snap, decision);
  applyProgressDeadline(snap, decision, nowMs);
  cleanRevisionHistory(snap, decision);
  planRestart(snap, decision);
  return decision;
}

/**
 * canaryMetadata/stableMetadata and previewMetadata/activeMetadata: each ReplicaSet's
 * pods carry the labels of the role it plays now, and lose them when the role ends.
 */
function applyRoleMetadata(snap: RolloutSnapshot, d: Decision): void {
  const p = d.progress;
  const canary = snap.spec.strategy?.canary;
  const bg = snap.spec.strategy?.blueGreen;
  const updating = p.currentHash !== p.stableHash && !p.aborted;
  for (const rs of snap.replicaSets) {
    let want: PodMetadata | undefined;
    if (canary)
      want = rs.podTemplateHash === p.stableHash ? canary.stableMetadata : updating && rs.podTemplateHash === p.currentHash ? canary.canaryMetadata : undefined;
    if (bg) want = rs.podTemplateHash === p.stableHash ? bg.activeMetadata : updating && rs.podTemplateHash === p.currentHash ? bg.previewMetadata : undefined;
    const previous = rs.ephemeralMetadata ? (JSON.parse(rs.ephemeralMetadata) as PodMetadata) : null;
    const wanted = want && (Object.keys(want.labels ?? {}).length || Object.keys(want.annotations ?? {}).length) ? want : null;
    if (JSON.stringify(previous) !== JSON.stringify(wanted))
      d.actions.push({ kind: 'setPodMetadata', name: rs.name, hash: rs.podTemplateHash, metadata: wanted, previous });
  }
}

/** A template that returns (undo) reuses its ReplicaSet, which becomes the newest revision again. */
function bumpReusedRevision(snap: RolloutSnapshot, d: Decision): void {
  const p = d.progress;
  if (p.currentHash === p.stableHash) return;
  const current = snap.replicaSets.find((rs) => rs.podTemplateHash === p.currentHash);
  const newest = Math.max(0, ...snap.replicaSets.map((rs) => rs.revision));
  if (current && current.revision < newest) d.actions.push({ kind: 'setRevision', name: current.name, revision: newest + 1 });
}

/** Fingerprint of what moving forward looks like: counts and steps, not timestamps. */
function progressSignature(snap: RolloutSnapshot, d: Decision): string {
  return JSON.stringify([
    d.progress.currentHash,
    d.progress.stepIndex,
    d.progress.stableHash,
    snap.replicaSets.map((rs) => [rs.name, rs.specReplicas, rs.readyReplicas, rs.availableReplicas]),
  ]);
}

/**
 * progressDeadlineSeconds: a rollout that makes no progress for that long is Degraded
 * (and aborted with progressDeadlineAbort). Time spent paused does not count.
 */
function applyProgressDeadline(snap: RolloutSnapshot, d: Decision, nowMs: number): void {
  const p = d.progress;
  const signature = progressSignature(snap, d);
  const waiting = d.status.phase === 'Paused' || d.status.phase === 'Healthy' || p.aborted;
  if (waiting || p.progressSignature !== signature || !p.lastProgressAt) {
    p.progressSignature = signature;
    p.lastProgressAt = new Date(nowMs).toISOString();
    if (waiting) return;
  }
  if (d.status.phase !== 'Progressing') return;
  const deadlineMs = (snap.spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_S) * 1000;
  const expiresAt = Date.parse(p.lastProgressAt) + deadlineMs;
  if (nowMs < expiresAt) {
    d.wakeAt = earliest(d.wakeAt, expiresAt);
    return;
  }
  const message = `ReplicaSet "${snap.name}-${p.currentHash}" has timed out progressing.`;
  d.status.phase = 'Degraded';
  d.status.message = `ProgressDeadlineExceeded: ${message}`;
  const nowIso = new Date(nowMs).toISOString();
  const others = (d.status.conditions ?? []).filter((c) => c.type !== 'Progressing');
  const old = snap.status.conditions?.find((c) => c.type === 'Progressing');
  const cond: RolloutCondition = mergeConditions(
    old ? [old] : [],
    [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message }],
    nowIso,
  )[0];
  d.status.conditions = [...others, cond];
  if (snap.spec.progressDeadlineAbort && p.currentHash !== p.stableHash && !p.aborted) {
    p.aborted = true;
    p.abortedAt = nowIso;
  }
}

/** revisionHistoryLimit: old ReplicaSets scaled to zero beyond the limit are deleted, oldest first. */
function cleanRevisionHistory(snap: RolloutSnapshot, d: Decision): void {
  const limit = snap.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const keep = new Set([d.progress.currentHash, d.progress.stableHash]);
  const scaling = new Set(d.actions.filter((a): a is Extract<RolloutAction, { kind: 'scaleReplicaSet' }> => a.kind === 'scaleReplicaSet').map((a) => a.name));
  const idle = snap.replicaSets
    .filter((rs) => !keep.has(rs.podTemplateHash) && rs.specReplicas === 0 && rs.replicas === 0 && !scaling.has(rs.name))
    .sort((a, b) => b.revision - a.revision);
  for (const rs of idle.slice(limit)) d.actions.push({ kind: 'deleteReplicaSet', name: rs.name });
}

/** spec.restartAt: replace pods older than it, one ReplicaSet and maxUnavailable pods at a time. */
function planRestart(snap: RolloutSnapshot, d: Decision): void {
  const restartAt = snap.spec.restartAt;
  const p = d.progress;
  if (!restartAt || p.restartedAt === restartAt || d.actions.length > 0 || d.status.phase !== 'Healthy') {
    if (p.restartedAt) d.status.restartedAt = p.restartedAt;
    return;
  }
  const stable = snap.replicaSets.find((rs) => rs.podTemplateHash === p.stableHash);
  if (!stable) return;
  const { maxUnavailable } = rolloutBudgets(replicasOf(snap), snap.spec.strategy?.canary?.maxUnavailable, snap.spec.strategy?.canary?.maxUnavailable);
  d.actions.push({ kind: 'restartPods', replicaSet: stable.name, before: restartAt, max: Math.max(1, maxUnavailable) });
  d.summary = `${d.summary}; restarting pods`;
}

function invalidDecision(snap: RolloutSnapshot, p: RolloutProgress, message: string, nowIso: string): Decision {
  return {
    progress: p,
    actions: [],
    status: {
      phase: 'Degraded',
      message: `InvalidSpec: ${message}`,
      observedGeneration: String(snap.generation),
      conditions: mergeConditions(snap.status.conditions, [{ type: 'InvalidSpec', status: 'True', reason: 'InvalidSpec', message }], nowIso),
    },
    summary: `invalid spec: ${message}`,
  };
}
