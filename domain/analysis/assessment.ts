// Measurement bookkeeping and the verdicts of metrics and runs, with Argo Rollouts'
// rules (analysis/analysis.go): counts per phase, failureLimit (default 0, -1 off),
// inconclusiveLimit (default 0), consecutiveErrorLimit (default 4),
// consecutiveSuccessLimit, count and interval; dry-run metrics never decide the run;
// the run takes the worst phase of its metrics. One addition: a metric none of whose
// measurements ever succeeded in being taken (all Error) is never Successful.
// Pure: the workflow and the tests drive it.
import { parseDuration } from '../argo/duration';
import {
  isCompleted,
  type AnalysisPhase,
  type DryRunRule,
  type IntOrString,
  type Measurement,
  type MeasurementRetentionRule,
  type Metric,
  type MetricResult,
  type RunSummary,
} from './types';

export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;
export const DEFAULT_MEASUREMENT_RETENTION = 10;
/** After an Error, Argo measures again after this long whatever the interval. */
export const ERROR_RETRY_INTERVAL_MS = 10_000;

/** Go's IntOrString.IntValue: a string counts as its integer value, or 0. */
export function intValue(v: IntOrString | undefined, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return Math.trunc(v);
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) || String(n) !== v.trim() ? 0 : n;
}

/** Neither count nor interval → 1; interval only → undefined (until terminated); else count. */
export function effectiveCount(metric: Metric): number | undefined {
  const count = intValue(metric.count, 0);
  if (count === 0) return metric.interval ? undefined : 1;
  return count;
}

export class MetricSpecError extends Error {
  override name = 'MetricSpecError';
}

/** Argo's ValidateMetrics, with messages naming the metric index. */
export function validateMetrics(metrics: Metric[]): void {
  if (metrics.length === 0) throw new MetricSpecError('no metrics specified');
  const names = new Set<string>();
  metrics.forEach((metric, i) => {
    if (names.has(metric.name)) throw new MetricSpecError(`metrics[${i}]: duplicate name '${metric.name}'`);
    names.add(metric.name);
    try {
      validateMetric(metric);
    } catch (err) {
      throw new MetricSpecError(`metrics[${i}] (${metric.name}): ${(err as Error).message}`);
    }
  });
}

function validateMetric(metric: Metric): void {
  const count = intValue(metric.count, 0);
  const failureLimit = intValue(metric.failureLimit, 0);
  const successLimit = intValue(metric.consecutiveSuccessLimit, 0);
  const inconclusiveLimit = intValue(metric.inconclusiveLimit, 0);
  if (successLimit < 0) throw new Error('consecutiveSuccessLimit must be >= 0');
  if (failureLimit < -1) throw new Error('failureLimit must be >= 0, or -1 to be disabled');
  if (successLimit === 0 && failureLimit === -1) throw new Error('failureLimit and consecutiveSuccessLimit cannot both be disabled');
  if (inconclusiveLimit < 0) throw new Error('inconclusiveLimit must be >= 0');
  if (metric.consecutiveErrorLimit !== undefined && intValue(metric.consecutiveErrorLimit, 0) < 0) throw new Error('consecutiveErrorLimit must be >= 0');
  if (count > 0) {
    if (failureLimit >= 0 && count < failureLimit + successLimit) {
      throw new Error(`count (${count}) must be >= failureLimit + consecutiveSuccessLimit (${failureLimit} + ${successLimit}) if both >= 0`);
    }
    if (failureLimit < 0 && count < successLimit) throw new Error('count must be >= consecutiveSuccessLimit');
    if (count < inconclusiveLimit) throw new Error('count must be >= inconclusiveLimit');
  }
  if (count > 1 && !metric.interval) throw new Error('interval must be specified when count > 1');
  if (metric.interval) parseDurationOrThrow(metric.interval, 'interval');
  if (metric.initialDelay) parseDurationOrThrow(metric.initialDelay, 'initialDelay');
  const providers = Object.keys(metric.provider ?? {}).filter((k) => (metric.provider as Record<string, unknown>)[k] != null);
  if (providers.length === 0) throw new Error('no provider specified');
  if (providers.length > 1) throw new Error('multiple providers specified');
}

function parseDurationOrThrow(value: string, field: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new Error(`invalid ${field} string: ${(err as Error).message}`, { cause: err });
  }
}

/** Metric names a rule matches: its metricName is an unanchored regular expression; `*` means all. */
function ruleMatches(rule: string, name: string): boolean {
  if (rule === '*') return true;
  try {
    return new RegExp(rule).test(name);
  } catch {
    return false;
  }
}

export function dryRunMetrics(rules: DryRunRule[] = [], metrics: Metric[]): Set<string> {
  const names = new Set<string>();
  rules.forEach((rule, i) => {
    const matched = metrics.filter((m) => ruleMatches(rule.metricName, m.name));
    if (matched.length === 0) throw new MetricSpecError(`dryRun[${i}]: Rule didn't match any metric name(s)`);
    for (const m of matched) names.add(m.name);
  });
  return names;
}

/** How many measurements each metric keeps in status. */
export function measurementLimits(rules: MeasurementRetentionRule[] = [], metrics: Metric[]): Map<string, number> {
  const limits = new Map<string, number>();
  rules.forEach((rule, i) => {
    const matched = metrics.filter((m) => ruleMatches(rule.metricName, m.name));
    if (matched.length === 0) throw new MetricSpecError(`measurementRetention[${i}]: Rule didn't match any metric name(s)`);
    for (const m of matched) if (rule.limit > 0) limits.set(m.name, rule.limit);
  });
  return limits;
}

export function newMetricResult(name: string, dryRun: boolean): MetricResult {
  return {
    name,
    phase: 'Running',
    measurements: [],
    count: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
    consecutiveSuccess: 0,
    ...(dryRun ? { dryRun } : {}),
  };
}

/** Counts a completed measurement and appends it, as Argo's runMeasurements does. */
export function recordMeasurement(result: MetricResult, m: Measurement): MetricResult {
  const r = { ...result, measurements: [...result.measurements, m] };
  switch (m.phase) {
    case 'Successful':
      r.successful++;
      r.count++;
      r.consecutiveError = 0;
      r.consecutiveSuccess++;
      break;
    case 'Failed':
      r.failed++;
      r.count++;
      r.consecutiveError = 0;
      r.consecutiveSuccess = 0;
      break;
    case 'Inconclusive':
      r.inconclusive++;
      r.count++;
      r.consecutiveError = 0;
      r.consecutiveSuccess = 0;
      break;
    case 'Error':
      r.error++;
      r.consecutiveError++;
      r.consecutiveSuccess = 0;
      break;
  }
  return r;
}

/** Failed / Inconclusive / Error once a limit is exceeded, with Argo's reason text; later checks win. */
export function limitVerdict(metric: Metric, r: MetricResult): { phase?: AnalysisPhase; message: string } {
  let phase: AnalysisPhase | undefined;
  let message = '';
  const failureLimit = intValue(metric.failureLimit, 0);
  if (failureLimit >= 0 && r.failed > failureLimit) {
    phase = 'Failed';
    message = `failed (${r.failed}) > failureLimit (${failureLimit})`;
  }
  const inconclusiveLimit = intValue(metric.inconclusiveLimit, 0);
  if (r.inconclusive > inconclusiveLimit) {
    phase = 'Inconclusive';
    message = `inconclusive (${r.inconclusive}) > inconclusiveLimit (${inconclusiveLimit})`;
  }
  const errorLimit = metric.consecutiveErrorLimit !== undefined ? intValue(metric.consecutiveErrorLimit, 0) : DEFAULT_CONSECUTIVE_ERROR_LIMIT;
  if (r.consecutiveError > errorLimit) {
    phase = 'Error';
    message = `consecutiveErrors (${r.consecutiveError}) > consecutiveErrorLimit (${errorLimit})`;
  }
  return { phase, message };
}

/** A metric's phase from its counts: Argo's assessMetricStatus. */
export function assessMetric(metric: Metric, r: MetricResult, terminating: boolean): AnalysisPhase {
  if (isCompleted(r.phase)) return r.phase;
  if (r.measurements.length === 0) return terminating ? 'Successful' : 'Pending';
  const last = r.measurements[r.measurements.length - 1];
  if (!isCompleted(last.phase)) return 'Running';
  const limit = limitVerdict(metric, r);
  if (limit.phase) return limit.phase;
  const successLimit = intValue(metric.consecutiveSuccessLimit, 0);
  if (successLimit > 0 && r.consecutiveSuccess >= successLimit) return 'Successful';
  const count = effectiveCount(metric);
  if (count !== undefined && r.count >= count) {
    const failureApplicable = intValue(metric.failureLimit, 0) >= 0;
    if (successLimit > 0) return failureApplicable ? 'Inconclusive' : 'Failed';
    return 'Successful';
  }
  if (terminating) return r.count === 0 && r.error > 0 ? 'Error' : 'Successful';
  return 'Running';
}

/** Terminating: asked to, or a non-dry-run metric already Failed, Errored or was Inconclusive. */
export function isTerminating(terminate: boolean | undefined, results: MetricResult[]): boolean {
  if (terminate) return true;
  return results.some((r) => !r.dryRun && (r.phase === 'Failed' || r.phase === 'Error' || r.phase === 'Inconclusive'));
}

const PHASE_ORDER: AnalysisPhase[] = ['Successful', 'Running', 'Pending', 'Inconclusive', 'Error', 'Failed'];
export const isWorse = (current: AnalysisPhase, next: AnalysisPhase) => PHASE_ORDER.indexOf(next) > PHASE_ORDER.indexOf(current);

export interface RunAssessment {
  phase: AnalysisPhase;
  message: string;
  results: MetricResult[];
  runSummary: RunSummary;
  dryRunSummary: RunSummary;
}

/** Argo's assessRunStatus: every metric's phase, then the run's (Running until all complete). */
export function assessRun(metrics: Metric[], results: MetricResult[], dryRun: Set<string>, terminate: boolean | undefined): RunAssessment {
  const terminating = isTerminating(terminate, results);
  const runSummary: RunSummary = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0 };
  const dryRunSummary: RunSummary = { count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0 };
  let worst: AnalysisPhase | undefined;
  let worstMessage = terminate ? 'Run Terminated' : '';
  let everythingCompleted = true;
  const updated = results.map((r) => ({ ...r }));
  for (const metric of metrics) {
    const isDry = dryRun.has(metric.name);
    (isDry ? dryRunSummary : runSummary).count++;
    const i = updated.findIndex((r) => r.name === metric.name);
    if (i < 0) {
      everythingCompleted = false; // not started yet (initialDelay)
      continue;
    }
    const r = updated[i];
    const phase = assessMetric(metric, r, terminating);
    if (phase !== r.phase) {
      const last = r.measurements[r.measurements.length - 1];
      if (last?.message) r.message = last.message;
      r.phase = phase;
    }
    if (!isCompleted(phase)) {
      everythingCompleted = false;
      continue;
    }
    const limit = limitVerdict(metric, r);
    const summary = isDry ? dryRunSummary : runSummary;
    if (limit.phase === 'Error') summary.error++;
    else if (limit.phase === 'Failed') summary.failed++;
    else if (limit.phase === 'Inconclusive') summary.inconclusive++;
    else summary.successful++;
    if (!isDry) {
      if (worst === undefined || isWorse(worst, phase)) {
        worst = phase;
        const reason = limit.message || (phase === 'Error' && r.count === 0 ? 'every measurement errored' : '');
        if (reason) {
          worstMessage = `Metric "${metric.name}" assessed ${phase} due to ${reason}`;
          if (r.message) worstMessage += `: "Error Message: ${r.message}"`;
        }
      }
    } else {
      worst ??= 'Successful';
      if (limit.message) r.message = `Metric assessed ${phase} due to ${limit.message}`;
    }
  }
  worstMessage = worstMessage.trim();
  // A metric that just failed terminates the others: assess once more, as Argo's next reconcile would.
  if (!terminating && isTerminating(terminate, updated)) return assessRun(metrics, updated, dryRun, terminate);
  if (terminating) return { phase: worst ?? 'Successful', message: worstMessage, results: updated, runSummary, dryRunSummary };
  if (!everythingCompleted || worst === undefined) return { phase: 'Running', message: '', results: updated, runSummary, dryRunSummary };
  return { phase: worst, message: worstMessage, results: updated, runSummary, dryRunSummary };
}

/**
 * Milliseconds to wait after the last measurement finished before the next one, or
 * undefined when the metric needs no more: complete, count reached, or no interval.
 */
export function nextMeasurementDelay(metric: Metric, r: MetricResult | undefined): number | undefined {
  if (!r || r.measurements.length === 0) return metric.initialDelay ? parseDuration(metric.initialDelay) : 0;
  if (isCompleted(r.phase)) return undefined;
  const count = effectiveCount(metric);
  if (count !== undefined && r.count >= count) return undefined;
  const last = r.measurements[r.measurements.length - 1];
  if (last.phase === 'Error') return ERROR_RETRY_INTERVAL_MS;
  if (metric.interval) return parseDuration(metric.interval);
  return undefined;
}

/** Keeps the newest measurements of each metric (default 10, or its retention rule). */
export function trimMeasurements(results: MetricResult[], limits: Map<string, number>): MetricResult[] {
  return results.map((r) => {
    const limit = limits.get(r.name) ?? DEFAULT_MEASUREMENT_RETENTION;
    return r.measurements.length > limit ? { ...r, measurements: r.measurements.slice(r.measurements.length - limit) } : r;
  });
}
