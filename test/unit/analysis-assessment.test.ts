// Measurement bookkeeping and verdicts, case by case against Argo's analysis controller.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assessMetric,
  assessRun,
  dryRunMetrics,
  effectiveCount,
  measurementLimits,
  newMetricResult,
  nextMeasurementDelay,
  recordMeasurement,
  trimMeasurements,
  validateMetrics,
} from '../../domain/analysis/assessment';
import type { AnalysisPhase, Metric, MetricResult } from '../../domain/analysis/types';

const metric = (extra: Partial<Metric> = {}): Metric => ({ name: 'm', provider: { web: { url: 'http://x' } }, ...extra });
const record = (phases: AnalysisPhase[], name = 'm'): MetricResult =>
  phases.reduce((r, phase, i) => recordMeasurement(r, { phase, startedAt: `t${i}`, finishedAt: `t${i}` }), newMetricResult(name, false));

test('effective count: neither count nor interval → once; interval only → until terminated', () => {
  assert.equal(effectiveCount(metric()), 1);
  assert.equal(effectiveCount(metric({ interval: '5s' })), undefined);
  assert.equal(effectiveCount(metric({ interval: '5s', count: 3 })), 3);
  assert.equal(effectiveCount(metric({ interval: '5s', count: '4' })), 4);
});

test('counters: errors do not count, consecutive counters reset as Argo does', () => {
  const r = record(['Successful', 'Error', 'Error', 'Failed', 'Inconclusive', 'Successful', 'Successful']);
  assert.deepEqual(
    {
      count: r.count,
      successful: r.successful,
      failed: r.failed,
      inconclusive: r.inconclusive,
      error: r.error,
      consecutiveError: r.consecutiveError,
      consecutiveSuccess: r.consecutiveSuccess,
    },
    { count: 5, successful: 3, failed: 1, inconclusive: 1, error: 2, consecutiveError: 0, consecutiveSuccess: 2 },
  );
});

test('failureLimit default 0: one failure fails the metric; failureLimit 3 needs four; -1 never', () => {
  assert.equal(assessMetric(metric({ interval: '1s', count: 5 }), record(['Failed']), false), 'Failed');
  const m3 = metric({ interval: '1s', count: 5, failureLimit: 3 });
  assert.equal(assessMetric(m3, record(['Failed', 'Failed', 'Failed']), false), 'Running');
  assert.equal(assessMetric(m3, record(['Failed', 'Failed', 'Failed', 'Failed']), false), 'Failed');
  const off = metric({ interval: '1s', count: 3, failureLimit: -1, consecutiveSuccessLimit: 1 });
  assert.equal(assessMetric(off, record(['Failed', 'Failed']), false), 'Running');
  assert.equal(assessMetric(off, record(['Failed', 'Failed', 'Successful']), false), 'Successful');
});

test('count reached with failures within the limit → Successful', () => {
  assert.equal(assessMetric(metric({ interval: '1s', count: 3, failureLimit: 1 }), record(['Successful', 'Failed', 'Successful']), false), 'Successful');
});

test('consecutiveErrorLimit default 4: the fifth consecutive error is Error', () => {
  const m = metric({ interval: '1s', count: 10 });
  assert.equal(assessMetric(m, record(['Error', 'Error', 'Error', 'Error']), false), 'Running');
  assert.equal(assessMetric(m, record(['Error', 'Error', 'Error', 'Error', 'Error']), false), 'Error');
  assert.equal(assessMetric(metric({ interval: '1s', consecutiveErrorLimit: 1 }), record(['Error', 'Error']), false), 'Error');
});

test('inconclusiveLimit and consecutiveSuccessLimit', () => {
  assert.equal(assessMetric(metric({ interval: '1s', count: 5 }), record(['Inconclusive']), false), 'Inconclusive');
  assert.equal(assessMetric(metric({ interval: '1s', count: 5, inconclusiveLimit: 1 }), record(['Inconclusive']), false), 'Running');
  const both = metric({ interval: '1s', count: 3, consecutiveSuccessLimit: 2, failureLimit: 1 });
  assert.equal(assessMetric(both, record(['Successful', 'Successful']), false), 'Successful');
  assert.equal(assessMetric(both, record(['Successful', 'Failed', 'Successful']), false), 'Inconclusive');
});

test('terminating: no measurement yet or interval-only → Successful, but all-errored is never Successful', () => {
  const m = metric({ interval: '1s' });
  assert.equal(assessMetric(m, newMetricResult('m', false), true), 'Successful');
  assert.equal(assessMetric(m, record(['Successful', 'Successful']), true), 'Successful');
  assert.equal(assessMetric(m, record(['Error', 'Error']), true), 'Error');
});

test('run phase: worst of metrics, Running until all complete; a failing metric terminates the rest', () => {
  const a = metric({ name: 'a', interval: '1s', count: 2 });
  const b = metric({ name: 'b', interval: '1s', count: 5, failureLimit: 0 });
  const running = assessRun([a, b], [record(['Successful'], 'a'), record(['Successful'], 'b')], new Set(), false);
  assert.equal(running.phase, 'Running');
  const failed = assessRun([a, b], [record(['Successful'], 'a'), record(['Failed'], 'b')], new Set(), false);
  assert.equal(failed.phase, 'Failed');
  assert.equal(failed.message, 'Metric "b" assessed Failed due to failed (1) > failureLimit (0)');
  assert.equal(failed.results.find((r) => r.name === 'a')!.phase, 'Successful', 'terminating ends the interval metric a');
  assert.deepEqual(failed.runSummary, { count: 2, successful: 1, failed: 1, inconclusive: 0, error: 0 });
});

test('dry-run metrics never fail the run; their verdict is in dryRunSummary', () => {
  const a = metric({ name: 'a' });
  const b = metric({ name: 'b' });
  const dry = dryRunMetrics([{ metricName: 'b' }], [a, b]);
  const res = assessRun([a, b], [record(['Successful'], 'a'), { ...record(['Failed'], 'b'), dryRun: true }], dry, false);
  assert.equal(res.phase, 'Successful');
  assert.deepEqual(res.dryRunSummary, { count: 1, successful: 0, failed: 1, inconclusive: 0, error: 0 });
  assert.match(res.results[1].message!, /Metric assessed Failed due to failed \(1\) > failureLimit \(0\)/);
  assert.deepEqual([...dryRunMetrics([{ metricName: '*' }], [a, b])], ['a', 'b']);
  assert.throws(() => dryRunMetrics([{ metricName: 'zzz' }], [a]), /dryRun\[0\]: Rule didn't match any metric name/);
});

test('every measurement errored and terminated: the run is Error, not Successful', () => {
  const m = metric({ name: 'a', interval: '1s' });
  const res = assessRun([m], [record(['Error'], 'a')], new Set(), true);
  assert.equal(res.phase, 'Error');
});

test('scheduling: initialDelay, interval, 10 s after an error, nothing after count', () => {
  assert.equal(nextMeasurementDelay(metric({ initialDelay: '3s' }), undefined), 3000);
  assert.equal(nextMeasurementDelay(metric({ interval: '2s', count: 3 }), record(['Successful'])), 2000);
  assert.equal(nextMeasurementDelay(metric({ interval: '2s', count: 3 }), record(['Error'])), 10_000);
  assert.equal(nextMeasurementDelay(metric({ interval: '2s', count: 1 }), record(['Successful'])), undefined);
  assert.equal(nextMeasurementDelay(metric(), record(['Successful'])), undefined);
});

test('measurementRetention: default 10, or the rule', () => {
  const m = metric({ name: 'a', interval: '1s' });
  const r = record(Array(12).fill('Successful'), 'a');
  assert.equal(trimMeasurements([r], new Map())[0].measurements.length, 10);
  assert.equal(trimMeasurements([r], measurementLimits([{ metricName: 'a', limit: 3 }], [m]))[0].measurements.length, 3);
  assert.equal(trimMeasurements([r], new Map())[0].count, 12, 'counts survive trimming');
});

test('validation: Argo messages', () => {
  assert.throws(() => validateMetrics([]), /no metrics specified/);
  assert.throws(() => validateMetrics([metric({ count: 3 })]), /interval must be specified when count > 1/);
  assert.throws(() => validateMetrics([metric({ failureLimit: -1 })]), /cannot both be disabled/);
  assert.throws(() => validateMetrics([metric({ provider: {} })]), /no provider specified/);
  assert.throws(() => validateMetrics([metric(), metric()]), /metrics\[1\]: duplicate name 'm'/);
  assert.throws(() => validateMetrics([metric({ interval: 'soon' })]), /invalid interval string/);
});
