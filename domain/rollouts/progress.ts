// What a rollout workflow remembers between observations. It is carried across
// continueAsNew and can be rebuilt from an Argo-shaped status when Sluice adopts a
// Rollout that another controller (or an earlier Sluice) was driving.
import type { PauseCondition, RolloutStatus } from './types';

export interface RolloutProgress {
  /** Pod template hash of the ReplicaSet that serves as stable. */
  stableHash?: string;
  /** Pod template hash the current steps are for. */
  currentHash?: string;
  stepIndex: number;
  /** When the current pause step began (ISO). */
  pauseStartedAt?: string;
  pauseConditions: PauseCondition[];
  aborted: boolean;
  abortedAt?: string;
  promoteFull: boolean;
  /** Analyses of the current revision: steps, background, pre/post promotion. */
  analyses?: AnalysisRecord[];
  /** Why the rollout was aborted, when an analysis decided it. */
  abortMessage?: string;
  /** Canary weight last set on the traffic router. */
  trafficWeight?: number;
  /** Blue-green: the hash the active Service was switched to while its post-promotion analysis runs. */
  switchedTo?: string;
  /**
   * Blue-green with previewReplicaCount: Argo's scaleUpPreviewCheckPoint, a one-way trip-wire
   * set when the pause is over and the preview grows to full size; it holds that size until
   * the switch, and resets with a new revision or once the revision is stable.
   */
  scaleUpPreviewCheckPoint?: boolean;
  /** Last spec.restartAt whose pods have all been replaced. */
  restartedAt?: string;
  /** When the rollout last moved (progressDeadlineSeconds), and what it looked like then. */
  lastProgressAt?: string;
  progressSignature?: string;
}

export type AnalysisPhase = 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';

export interface AnalysisRecord {
  /** `<pod hash>/step/<index>`, `<pod hash>/background`, `<pod hash>/prePromotion`, `<pod hash>/postPromotion`. */
  key: string;
  runName?: string;
  phase: AnalysisPhase;
  message?: string;
  /** This verdict aborted the rollout: once it is retried, the analysis runs again (a new AnalysisRun), as in Argo. */
  abortedRollout?: boolean;
}

export function progressFromStatus(status: RolloutStatus | undefined): RolloutProgress {
  const pauses = status?.pauseConditions ?? [];
  return {
    stableHash: status?.stableRS || undefined,
    currentHash: status?.currentPodHash || undefined,
    stepIndex: status?.currentStepIndex ?? 0,
    pauseStartedAt: pauses.find((p) => p.reason === 'CanaryPauseStep' || p.reason === 'BlueGreenPause')?.startTime,
    pauseConditions: pauses,
    aborted: status?.abort ?? false,
    abortedAt: status?.abortedAt ?? undefined,
    promoteFull: status?.promoteFull ?? false,
    restartedAt: status?.restartedAt,
    scaleUpPreviewCheckPoint: status?.blueGreen?.scaleUpPreviewCheckPoint || undefined,
  };
}

/** A new pod template resets the per-revision state. */
export function startRevision(p: RolloutProgress, hash: string, stepCount: number): RolloutProgress {
  const next: RolloutProgress = {
    ...p,
    currentHash: hash,
    pauseConditions: [],
    pauseStartedAt: undefined,
    aborted: false,
    abortedAt: undefined,
    abortMessage: undefined,
    switchedTo: undefined,
    scaleUpPreviewCheckPoint: undefined,
    promoteFull: false,
    // Runs for other revisions are kept only while running, so the workflow can stop them.
    analyses: (p.analyses ?? []).filter((a) => a.phase === 'Running'),
  };
  if (!p.stableHash) {
    // The first revision has nothing to be compared with: it becomes stable directly.
    next.stableHash = hash;
    next.stepIndex = stepCount;
  } else if (hash === p.stableHash) {
    // Back to the stable template mid-rollout: a fast-track rollback, no steps.
    next.stepIndex = stepCount;
  } else {
    next.stepIndex = 0;
  }
  return next;
}
