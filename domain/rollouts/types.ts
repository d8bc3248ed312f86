// The Rollout as Sluice reads it (argoproj.io/v1alpha1, Argo Rollouts' field names)
// and the cluster state a rollout workflow observes. Shared by workflows and activities.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export type IntOrString = number | string;

export interface PodMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface CanaryStep {
  setWeight?: number;
  pause?: { duration?: IntOrString };
  setCanaryScale?: { weight?: number; replicas?: number; matchTrafficWeight?: boolean };
  analysis?: unknown;
  experiment?: unknown;
  setHeaderRoute?: unknown;
  setMirrorRoute?: unknown;
  plugin?: unknown;
  [unknownKind: string]: unknown;
}

export interface CanaryStrategy {
  steps?: CanaryStep[];
  maxSurge?: IntOrString;
  maxUnavailable?: IntOrString;
  canaryService?: string;
  stableService?: string;
  canaryMetadata?: PodMetadata;
  stableMetadata?: PodMetadata;
  minPodsPerReplicaSet?: number;
  scaleDownDelaySeconds?: number;
  abortScaleDownDelaySeconds?: number;
  dynamicStableScale?: boolean;
  trafficRouting?: Record<string, unknown>;
  analysis?: unknown;
  [field: string]: unknown;
}

export interface BlueGreenStrategy {
  activeMetadata?: PodMetadata;
  previewMetadata?: PodMetadata;
  activeService?: string;
  previewService?: string;
  previewReplicaCount?: number;
  autoPromotionEnabled?: boolean;
  autoPromotionSeconds?: number;
  scaleDownDelaySeconds?: number;
  scaleDownDelayRevisionLimit?: number;
  abortScaleDownDelaySeconds?: number;
  [field: string]: unknown;
}

export interface RolloutSpec {
  replicas?: number;
  selector?: LabelSelector;
  template?: PodTemplate;
  workloadRef?: unknown;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
  progressDeadlineAbort?: boolean;
  restartAt?: string;
  strategy?: { canary?: CanaryStrategy; blueGreen?: BlueGreenStrategy };
}

export interface PauseCondition {
  reason: 'CanaryPauseStep' | 'BlueGreenPause' | 'InconclusiveAnalysisRun' | 'InconclusiveExperiment' | 'PausedByUser';
  startTime: string;
}

export interface RolloutCondition {
  type: 'Available' | 'Progressing' | 'Paused' | 'Healthy' | 'Completed' | 'InvalidSpec' | 'ReplicaFailure';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  lastUpdateTime: string;
}

export type RolloutPhase = 'Healthy' | 'Progressing' | 'Paused' | 'Degraded';

/** The status Sluice writes, shaped as Argo Rollouts shapes it. */
export interface RolloutStatus {
  phase?: RolloutPhase;
  message?: string;
  observedGeneration?: string;
  currentPodHash?: string;
  stableRS?: string;
  currentStepIndex?: number;
  pauseConditions?: PauseCondition[] | null;
  controllerPause?: boolean;
  abort?: boolean;
  abortedAt?: string | null;
  promoteFull?: boolean;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  selector?: string;
  canary?: { weights?: { canary: { weight: number; podTemplateHash: string }; stable: { weight: number; podTemplateHash: string } } };
  blueGreen?: { activeSelector?: string; previewSelector?: string; scaleUpPreviewCheckPoint?: boolean };
  conditions?: RolloutCondition[];
  restartedAt?: string;
}

/** What the workflow needs to know of one ReplicaSet the rollout owns. */
export interface ReplicaSetState {
  name: string;
  podTemplateHash: string;
  revision: number;
  specReplicas: number;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** The ReplicaSet controller has seen the latest spec (status counts are current). */
  observed: boolean;
  creationTimestamp: string;
  /** argo-rollouts.argoproj.io/scale-down-deadline: when a kept-up old ReplicaSet goes to 0. */
  scaleDownDeadline?: string;
  /** rollout.argoproj.io/ephemeral-metadata: the role labels/annotations its pods carry now. */
  ephemeralMetadata?: string;
}

export interface ServiceState {
  name: string;
  exists: boolean;
  selector: Record<string, string>;
  /** The rollout that manages this Service, from the managed-by-rollouts annotation. */
  managedBy?: string;
}

/** One observation of a Rollout and the cluster objects it drives. */
export interface RolloutSnapshot {
  exists: boolean;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  spec: RolloutSpec;
  status: RolloutStatus;
  /** rollouts-pod-template-hash of spec.template, computed where the template is read. */
  podTemplateHash: string;
  replicaSets: ReplicaSetState[];
  services: ServiceState[];
}
