// One interface for every metric provider, as Argo Rollouts' metricproviders: `run`
// takes a measurement, `resume` continues one that is still in flight (a Job), and
// `terminate` stops one. Adding a provider is adding a file next to this one.
import { evaluateMeasurement } from '../../domain/analysis/condition';
import type { Measurement, Metric } from '../../domain/analysis/types';
import type { KubeClient } from '../../k8s/kube-client';

export interface MeasurementContext {
  /** The AnalysisRun the measurement belongs to. */
  run: { namespace: string; name: string; uid: string };
  /** The metric with every argument, secrets included, already substituted. Never log it. */
  metric: Metric;
  /** 1-based number of this measurement among the metric's (Argo's count + error + 1). */
  measurementNumber: number;
  kube: KubeClient;
  /** Call at least every few seconds while waiting. */
  heartbeat: () => void;
  /** Aborted when the activity is cancelled (run terminated). */
  signal: AbortSignal;
}

export interface MetricProvider {
  run(ctx: MeasurementContext): Promise<Measurement>;
  resume(ctx: MeasurementContext, measurement: Measurement): Promise<Measurement>;
  terminate(ctx: MeasurementContext, measurement: Measurement): Promise<Measurement>;
}

export const now = () => new Date().toISOString();

export function measurementError(startedAt: string, err: unknown): Measurement {
  return { phase: 'Error', startedAt, finishedAt: now(), message: err instanceof Error ? err.message : String(err) };
}

/** A finished measurement: the value as shown in status and the phase from the metric's conditions. */
export function measured(metric: Metric, startedAt: string, result: unknown, value: string): Measurement {
  let outcome = evaluateMeasurement(result, metric.successCondition, metric.failureCondition);
  // A query such as sum(a)/sum(b) returns a one-sample vector, and conditions written for
  // it (`result < 0.05`, as in the examples) mean that sample: if the vector as such
  // cannot be evaluated, its only sample is. `result[0]` and `len(result)` still see the vector.
  if (outcome.phase === 'Error' && Array.isArray(result) && result.length === 1) {
    const single = evaluateMeasurement(result[0], metric.successCondition, metric.failureCondition);
    if (single.phase !== 'Error') outcome = single;
  }
  return { phase: outcome.phase, value, startedAt, finishedAt: now(), ...(outcome.phase === 'Error' ? { message: outcome.message } : {}) };
}

/** Providers that finish within `run` have nothing to resume or stop. */
export const unchanged = async (_ctx: MeasurementContext, m: Measurement) => m;
