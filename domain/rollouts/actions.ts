// What a strategy asks the workflow to do in the cluster. Each action is idempotent:
// absolute counts, absolute selectors, deterministic names.
import type { RolloutProgress } from './progress';
import type { PodMetadata, RolloutStatus } from './types';

export type RolloutAction =
  | { kind: 'createReplicaSet'; hash: string; revision: number; replicas: number }
  | { kind: 'scaleReplicaSet'; name: string; replicas: number }
  | { kind: 'setScaleDownDeadline'; name: string; deadline: string | null }
  | { kind: 'setRevision'; name: string; revision: number }
  | { kind: 'deleteReplicaSet'; name: string }
  /** Point a Service at one pod template hash (null: remove the hash from its selector). */
  | { kind: 'setServiceSelector'; service: string; hash: string | null }
  /** Role metadata (canary/stable, active/preview) on a ReplicaSet's template and its running pods. */
  | { kind: 'setPodMetadata'; name: string; hash: string; metadata: PodMetadata | null; previous: PodMetadata | null }
  /** Send `weight` percent of traffic to the canary through the configured router. */
  | { kind: 'setTrafficWeight'; weight: number }
  /** Replace pods created before `before`, at most `max` at a time. */
  | { kind: 'restartPods'; replicaSet: string; before: string; max: number };

/** Actions that only patch existing objects: one pass runs them together, in order. */
const RECONCILE_KINDS = ['scaleReplicaSet', 'setScaleDownDeadline', 'setRevision', 'setServiceSelector', 'setPodMetadata', 'setTrafficWeight'] as const;
export type ReconcileAction = Extract<RolloutAction, { kind: (typeof RECONCILE_KINDS)[number] }>;

// Named, not "anything but create/delete/restart": a new kind of action is not batched
// until it is listed here and applyReconcileAction knows it.
export function isReconcileAction(a: RolloutAction): a is ReconcileAction {
  return (RECONCILE_KINDS as readonly string[]).includes(a.kind);
}

/** An analysis the workflow must start (the AnalysisRun and its child workflow). */
export interface AnalysisRequest {
  key: string;
  kind: 'Step' | 'Background' | 'PrePromotion' | 'PostPromotion';
  stepIndex?: number;
  analysis: RolloutAnalysisSpec;
}

export interface RolloutAnalysisSpec {
  templates: { templateName: string; clusterScope?: boolean }[];
  args?: { name: string; value?: string; valueFrom?: { podTemplateHashValue?: 'Stable' | 'Latest'; fieldRef?: { fieldPath: string } } }[];
  dryRun?: { metricName: string }[];
  measurementRetention?: { metricName: string; limit: number }[];
  startingStep?: number;
}

export interface Decision {
  /** Analyses to start, and running ones (by key) to stop. */
  startAnalyses?: AnalysisRequest[];
  stopAnalyses?: string[];
  progress: RolloutProgress;
  actions: RolloutAction[];
  status: RolloutStatus;
  /** Epoch ms at which the decision changes by itself (a timed pause ends, a delay expires). */
  wakeAt?: number;
  /** One line for Temporal UI: where the rollout stands. */
  summary: string;
}

export function earliest(...times: (number | undefined)[]): number | undefined {
  const defined = times.filter((t): t is number => t !== undefined && Number.isFinite(t));
  return defined.length ? Math.min(...defined) : undefined;
}

/**
 * Decisions that changed after rollouts were already running: a workflow run started
 * before a change (its history has no patch marker for it) decides as it did then, so
 * its history replays. Left out, everything decides the current way.
 */
export interface EarlierRules {
  /** Before 'canary-held-apart': a canary sized apart (setCanaryScale, an abort delay) held its traffic, and a retry kept the abort's scale-down deadline. */
  beforeCanaryHeldApart?: boolean;
}
