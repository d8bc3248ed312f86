// Sluice's Prometheus metrics: one registry per process, served by the API at /metrics.
// The API feeds most of them from its watches (api/derived-metrics.ts: steps entered,
// analysis results and measurements, finished sync operations; phase and app info at
// scrape time). Call the record* functions from activities, watchers or the API, never
// from workflow code (a replayed workflow would count twice).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sluice_process_' });

const ROLLOUT_PHASES = ['Progressing', 'Paused', 'Healthy', 'Degraded', 'Aborted'] as const;

export interface ObservedRollout {
  namespace: string;
  name: string;
  phase: string;
  strategy: string;
}
export interface ObservedApplication {
  namespace: string;
  name: string;
  project: string;
  syncStatus: string;
  healthStatus: string;
}

// Phase and sync/health gauges are read at scrape time from what the process already
// watches (the objects' status is what the workflows projected), so they can never
// drift from the cluster and no workflow code has to report them.
let rolloutSource: (() => ObservedRollout[]) | undefined;
let applicationSource: (() => ObservedApplication[]) | undefined;

/** The API registers its watched Rollouts here; the phase gauge is filled from it on each scrape. */
export function observeRollouts(source: () => ObservedRollout[]): void {
  rolloutSource = source;
}

/** The API registers its watched Applications here, for sluice_app_info. */
export function observeApplications(source: () => ObservedApplication[]): void {
  applicationSource = source;
}

new Gauge({
  name: 'sluice_rollout_phase',
  help: 'Rollout phase from its status: 1 for the current phase, 0 for the others',
  labelNames: ['namespace', 'name', 'strategy', 'phase'],
  registers: [registry],
  collect() {
    this.reset();
    for (const ro of rolloutSource?.() ?? []) {
      for (const phase of new Set<string>([...ROLLOUT_PHASES, ro.phase]))
        this.set({ namespace: ro.namespace, name: ro.name, strategy: ro.strategy, phase }, phase === ro.phase ? 1 : 0);
    }
  },
});
new Gauge({
  name: 'sluice_app_info',
  help: 'One series per Application with its sync and health status (as argocd_app_info)',
  labelNames: ['namespace', 'name', 'project', 'sync_status', 'health_status'],
  registers: [registry],
  collect() {
    this.reset();
    for (const a of applicationSource?.() ?? [])
      this.set({ namespace: a.namespace, name: a.name, project: a.project, sync_status: a.syncStatus, health_status: a.healthStatus }, 1);
  },
});
const stepTransitions = new Counter({
  name: 'sluice_rollout_step_transitions_total',
  help: 'Canary or blue-green step transitions, by the step index entered',
  labelNames: ['namespace', 'name', 'step'],
  registers: [registry],
});
const analysisResults = new Counter({
  name: 'sluice_analysis_run_results_total',
  help: 'Finished AnalysisRun metrics, by provider and phase (Successful, Failed, Error, Inconclusive)',
  labelNames: ['namespace', 'provider', 'phase'],
  registers: [registry],
});
const measurementValue = new Gauge({
  name: 'sluice_analysis_measurement_value',
  help: 'The last numeric value measured for an analysis metric',
  labelNames: ['namespace', 'analysisrun', 'metric'],
  registers: [registry],
});
const syncOperations = new Counter({
  name: 'sluice_app_sync_total',
  help: 'Application sync operations, by result (Succeeded, Failed, Error, Terminated)',
  labelNames: ['namespace', 'name', 'project', 'result'],
  registers: [registry],
});
const syncDuration = new Histogram({
  name: 'sluice_app_sync_duration_seconds',
  help: 'Duration of Application sync operations',
  labelNames: ['namespace', 'project', 'result'],
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
  registers: [registry],
});
const apiRequests = new Counter({
  name: 'sluice_api_requests_total',
  help: 'HTTP API requests, by method, route pattern and status code',
  labelNames: ['method', 'route', 'code'],
  registers: [registry],
});
const apiDuration = new Histogram({
  name: 'sluice_api_request_duration_seconds',
  help: 'HTTP API request latency, by route pattern',
  labelNames: ['method', 'route'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export function recordStepTransition(namespace: string, name: string, step: number): void {
  stepTransitions.inc({ namespace, name, step: String(step) });
}

/** One metric of an AnalysisRun finished with `phase`; `provider` is prometheus, web, job, ... */
export function recordAnalysisResult(namespace: string, provider: string, phase: string): void {
  analysisResults.inc({ namespace, provider, phase });
}

export function recordMeasurement(namespace: string, analysisRun: string, metric: string, value: number): void {
  if (Number.isFinite(value)) measurementValue.set({ namespace, analysisrun: analysisRun, metric }, value);
}

export function recordSyncOperation(namespace: string, name: string, project: string, result: string, durationSeconds: number): void {
  syncOperations.inc({ namespace, name, project, result });
  syncDuration.observe({ namespace, project, result }, durationSeconds);
}

export function recordApiRequest(method: string, route: string, code: number, durationSeconds: number): void {
  apiRequests.inc({ method, route, code: String(code) });
  apiDuration.observe({ method, route }, durationSeconds);
}
