// The AnalysisTemplate / AnalysisRun shapes Sluice reads and writes, as Argo Rollouts
// defines them (argoproj.io/v1alpha1). Only the fields Sluice acts on are typed; the
// rest of a provider block passes through untouched.

export type IntOrString = number | string;

export interface Argument {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}

export interface DryRunRule {
  metricName: string;
}

export interface MeasurementRetentionRule {
  metricName: string;
  limit: number;
}

export interface PrometheusMetric {
  address?: string;
  query: string;
  timeout?: number;
  insecure?: boolean;
  headers?: { key: string; value: string }[];
}

export interface WebMetric {
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: { key: string; value: string }[];
  body?: string;
  jsonBody?: unknown;
  timeoutSeconds?: number;
  jsonPath?: string;
  insecure?: boolean;
}

export interface JobMetric {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: any;
}

export interface MetricProvider {
  prometheus?: PrometheusMetric;
  web?: WebMetric;
  job?: JobMetric;
  [other: string]: unknown;
}

export interface Metric {
  name: string;
  interval?: string;
  initialDelay?: string;
  count?: IntOrString;
  successCondition?: string;
  failureCondition?: string;
  failureLimit?: IntOrString;
  inconclusiveLimit?: IntOrString;
  consecutiveErrorLimit?: IntOrString;
  consecutiveSuccessLimit?: IntOrString;
  provider: MetricProvider;
}

export interface AnalysisTemplateSpec {
  metrics?: Metric[];
  args?: Argument[];
  dryRun?: DryRunRule[];
  measurementRetention?: MeasurementRetentionRule[];
}

export interface AnalysisRunSpec {
  metrics: Metric[];
  args?: Argument[];
  dryRun?: DryRunRule[];
  measurementRetention?: MeasurementRetentionRule[];
  terminate?: boolean;
  ttlStrategy?: { secondsAfterCompletion?: number; secondsAfterFailure?: number; secondsAfterSuccess?: number };
}

export type AnalysisPhase = 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';
export const COMPLETED_PHASES: readonly AnalysisPhase[] = ['Successful', 'Failed', 'Error', 'Inconclusive'];
export const isCompleted = (phase: AnalysisPhase | undefined): boolean => phase !== undefined && COMPLETED_PHASES.includes(phase);

export interface Measurement {
  phase: AnalysisPhase;
  value?: string;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  metadata?: Record<string, string>;
}

export interface MetricResult {
  name: string;
  phase: AnalysisPhase;
  measurements: Measurement[];
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  consecutiveSuccess: number;
  message?: string;
  dryRun?: boolean;
}

export interface RunSummary {
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
}

export interface AnalysisRunStatus {
  phase: AnalysisPhase;
  message?: string;
  metricResults: MetricResult[];
  startedAt?: string;
  completedAt?: string;
  runSummary?: RunSummary;
  dryRunSummary?: RunSummary;
}
