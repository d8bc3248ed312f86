// Sluice's Prometheus metrics: one registry per process, served by the API at /metrics.
// Call these from activities, the watcher or the API, never from workflow code (a
// replayed workflow would count twice); an activity that records a transition is
// the place for step and phase metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sluice_process_' });

const ROLLOUT_PHASES = ['Progressing', 'Paused', 'Healthy', 'Degraded', 'Aborted'] as const;

const rolloutPhaseGauge = new Gauge({
  name: 'sluice_rollout_phase',
  help: 'Rollout phase: 1 for the current phase, 0 for the others',
  labelNames: ['namespace', 'name', 'phase'],
  registers: [registry],
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
const reconciles = new Counter({
  name: 'sluice_reconcile_total',
  help: 'Reconcile passes (observe, decide, act) of Sluice workflows, by kind and result',
  labelNames: ['kind', 'result'],
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

/** The Rollout is now in `phase` (Argo's: Progressing, Paused, Healthy, Degraded, Aborted). */
export function recordRolloutPhase(namespace: string, name: string, phase: string): void {
  for (const p of new Set<string>([...ROLLOUT_PHASES, phase])) rolloutPhaseGauge.set({ namespace, name, phase: p }, p === phase ? 1 : 0);
}

/** The Rollout was deleted: drop its series. */
export function forgetRollout(namespace: string, name: string): void {
  for (const phase of ROLLOUT_PHASES) rolloutPhaseGauge.remove({ namespace, name, phase });
}

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

/** kind: Rollout, Application, AnalysisRun, ApplicationSet; result: ok, error, or another short word. */
export function recordReconcile(kind: string, result: string): void {
  reconciles.inc({ kind, result });
}

export function recordApiRequest(method: string, route: string, code: number, durationSeconds: number): void {
  apiRequests.inc({ method, route, code: String(code) });
  apiDuration.observe({ method, route }, durationSeconds);
}
