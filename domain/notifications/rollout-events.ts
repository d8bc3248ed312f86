// Argo Rollouts sends a notification when its controller records an event on the Rollout
// (RolloutAborted, AnalysisRunFailed, ...), not when a condition holds. Sluice's rollout
// workflow does not record those events, so they are read off what it writes: each
// observation of the Rollout (status, its ReplicaSets' sizes, its AnalysisRuns' phases) is
// compared with the previous one, kept in the notifications workflow's state. The first
// observation is the baseline: subscribing to a Rollout reports what happens next, not
// its past. Several changes seen at once (a watch coalesces) each still count.

import type { SendStatus } from './firing';
import type { Destination, Subscriptions } from './subscriptions';
import type { TriggerCondition } from './config';
import { triggerForReason } from './rollout-catalog';

export interface RolloutObservation {
  /** status.currentPodHash: the revision being rolled out. */
  hash?: string;
  stableHash?: string;
  /** status.currentStepIndex */
  step?: number;
  paused: boolean;
  aborted: boolean;
  abortedAt?: string;
  /** Healthy, and the revision is the stable one. */
  completed: boolean;
  /** Desired replicas per ReplicaSet name. */
  replicaSets: Record<string, number>;
  /** Phase per AnalysisRun the Rollout owns. */
  analysisRuns: Record<string, string>;
}

interface ObservedRollout {
  metadata?: { uid?: string };
  spec?: { paused?: boolean };
  status?: {
    phase?: string;
    currentPodHash?: string;
    stableRS?: string;
    currentStepIndex?: number;
    pauseConditions?: unknown[] | null;
    abort?: boolean;
    abortedAt?: string | null;
  };
}

/** What the events are read from: the Rollout, its ReplicaSets and its AnalysisRuns. */
export function observeRollout(
  rollout: ObservedRollout,
  replicaSets: { name: string; replicas: number }[],
  analysisRuns: { name: string; phase?: string }[],
): RolloutObservation {
  const st = rollout.status ?? {};
  return {
    ...(st.currentPodHash ? { hash: st.currentPodHash } : {}),
    ...(st.stableRS ? { stableHash: st.stableRS } : {}),
    ...(typeof st.currentStepIndex === 'number' ? { step: st.currentStepIndex } : {}),
    paused: (st.pauseConditions ?? []).length > 0 || rollout.spec?.paused === true,
    aborted: st.abort === true,
    ...(st.abortedAt ? { abortedAt: st.abortedAt } : {}),
    completed: st.phase === 'Healthy' && !!st.currentPodHash && st.currentPodHash === st.stableRS,
    replicaSets: Object.fromEntries(replicaSets.map((rs) => [rs.name, rs.replicas])),
    analysisRuns: Object.fromEntries(analysisRuns.filter((r) => r.phase).map((r) => [r.name, r.phase!])),
  };
}

export interface RolloutEvent {
  /** Argo Rollouts' event reason: RolloutAborted, AnalysisRunFailed, ... */
  reason: string;
  /** What it is about: a revision, a step, a ReplicaSet, an AnalysisRun. */
  detail: string;
}

/** The events between two observations, in the order Argo's controller records them. */
export function rolloutEvents(prev: RolloutObservation | undefined, cur: RolloutObservation): RolloutEvent[] {
  if (!prev) return [];
  const out: RolloutEvent[] = [];
  if (cur.hash && cur.hash !== prev.hash) out.push({ reason: 'RolloutUpdated', detail: cur.hash });
  for (const [name, replicas] of Object.entries(cur.replicaSets).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if ((prev.replicaSets[name] ?? 0) !== replicas) out.push({ reason: 'ScalingReplicaSet', detail: `${name}=${replicas}` });
  }
  if (cur.hash === prev.hash && cur.step !== undefined && prev.step !== undefined) {
    for (let s = prev.step; s < cur.step; s++) out.push({ reason: 'RolloutStepCompleted', detail: `${cur.hash}/${s}` });
  }
  for (const [name, phase] of Object.entries(cur.analysisRuns).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (prev.analysisRuns[name] === phase) continue;
    if (phase === 'Running' || phase === 'Failed' || phase === 'Error') out.push({ reason: `AnalysisRun${phase}`, detail: name });
  }
  if (cur.paused && !prev.paused) out.push({ reason: 'RolloutPaused', detail: `${cur.hash ?? ''}/${cur.step ?? ''}` });
  if (cur.aborted && (!prev.aborted || cur.abortedAt !== prev.abortedAt))
    out.push({ reason: 'RolloutAborted', detail: `${cur.hash ?? ''}@${cur.abortedAt ?? ''}` });
  if (cur.completed && !prev.completed) out.push({ reason: 'RolloutCompleted', detail: cur.hash ?? '' });
  return out;
}

export interface RolloutNotificationState {
  observed?: RolloutObservation;
  /** Events decided so far: part of each firing's key, so a repeat of the same event is a new firing. */
  seq: number;
  sends: Record<string, SendStatus>;
}

export const emptyRolloutNotificationState = (): RolloutNotificationState => ({ seq: 0, sends: {} });

export interface RolloutFiring {
  key: string;
  trigger: string;
  event: RolloutEvent;
  templates: string[];
  destination: Destination;
}

const KEEP_SENDS = 200;

/**
 * The sends for the events since the last observation: one per event × subscribed
 * destination of its trigger, when the trigger is defined (Argo sends its first
 * condition's templates). The returned state holds the new observation.
 */
export function decideRolloutNotifications(
  observation: RolloutObservation,
  subscriptions: Subscriptions,
  triggers: Record<string, TriggerCondition[]>,
  previous: RolloutNotificationState,
): { firings: RolloutFiring[]; state: RolloutNotificationState; problems: string[] } {
  const state: RolloutNotificationState = { observed: observation, seq: previous.seq, sends: { ...previous.sends } };
  const firings: RolloutFiring[] = [];
  const problems: string[] = [];
  for (const event of rolloutEvents(previous.observed, observation)) {
    const seq = ++state.seq;
    const trigger = triggerForReason(event.reason);
    const destinations = subscriptions[trigger] ?? [];
    if (destinations.length === 0) continue;
    const conditions = triggers[trigger];
    if (!conditions?.[0]) {
      problems.push(`trigger ${trigger} is not defined`);
      continue;
    }
    for (const d of destinations) {
      const key = `${trigger}|${event.detail}#${seq}|${d.service}:${d.recipient}`;
      firings.push({ key, trigger, event, templates: conditions[0].send, destination: d });
    }
  }
  // Finished sends are kept only as history; pending ones always stay.
  const keys = Object.keys(state.sends);
  for (const k of keys.slice(0, Math.max(0, keys.length - KEEP_SENDS))) if (state.sends[k] !== 'pending') delete state.sends[k];
  return { firings, state, problems };
}
