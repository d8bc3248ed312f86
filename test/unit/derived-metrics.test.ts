import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../k8s/kube-client';
import { measuredNumber, onAnalysisRunEvent, onApplicationEvent, onRolloutEvent } from '../../api/derived-metrics';
import { registry } from '../../api/metrics';

async function value(metric: string, labels: Record<string, string>): Promise<number | undefined> {
  const m = registry.getSingleMetric(metric);
  const { values } = await m!.get();
  return values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
}

test('a step entered is counted once, by the index entered', async () => {
  const at = (step: number | undefined): KubeObject => ({ metadata: { name: 'ro1', namespace: 'dm' }, status: { currentStepIndex: step } });
  onRolloutEvent(at(1), at(0));
  onRolloutEvent(at(1), at(1)); // a status write that did not move the step
  onRolloutEvent(at(2), undefined); // first sight after a (re)list: not a transition
  assert.equal(await value('sluice_rollout_step_transitions_total', { namespace: 'dm', name: 'ro1', step: '1' }), 1);
  assert.equal(await value('sluice_rollout_step_transitions_total', { namespace: 'dm', name: 'ro1', step: '2' }), undefined);
});

test('an analysis metric is counted when it is decided, by provider; measurements set the value gauge', async () => {
  const run = (phase: string, values: string[]): KubeObject => ({
    metadata: { name: 'run1', namespace: 'dm' },
    spec: { metrics: [{ name: 'error-rate', provider: { prometheus: { query: 'q' } } }] },
    status: {
      metricResults: [
        { name: 'error-rate', phase, measurements: values.map((v, i) => ({ phase: 'Successful', value: v, finishedAt: `2026-01-01T00:00:0${i}Z` })) },
      ],
    },
  });
  onAnalysisRunEvent(run('Running', ['[0.01]']), run('Running', []));
  assert.equal(await value('sluice_analysis_measurement_value', { namespace: 'dm', analysisrun: 'run1', metric: 'error-rate' }), 0.01);
  onAnalysisRunEvent(run('Successful', ['[0.01]', '[0.02]']), run('Running', ['[0.01]']));
  onAnalysisRunEvent(run('Successful', ['[0.01]', '[0.02]']), run('Successful', ['[0.01]', '[0.02]']));
  assert.equal(await value('sluice_analysis_run_results_total', { namespace: 'dm', provider: 'prometheus', phase: 'Successful' }), 1);
  assert.equal(await value('sluice_analysis_measurement_value', { namespace: 'dm', analysisrun: 'run1', metric: 'error-rate' }), 0.02);
  assert.equal(measuredNumber('[4.2e-3 1]'), 0.0042);
  assert.equal(measuredNumber('NaN-free text'), undefined);
});

test('a finished sync operation is counted once with its duration', async () => {
  const app = (finishedAt?: string): KubeObject => ({
    metadata: { name: 'app1', namespace: 'dm' },
    spec: { project: 'team' },
    status: { operationState: { phase: finishedAt ? 'Succeeded' : 'Running', startedAt: '2026-01-01T00:00:00Z', finishedAt } },
  });
  onApplicationEvent(app(), undefined);
  onApplicationEvent(app('2026-01-01T00:00:04Z'), app());
  onApplicationEvent(app('2026-01-01T00:00:04Z'), app('2026-01-01T00:00:04Z'));
  assert.equal(await value('sluice_app_sync_total', { namespace: 'dm', name: 'app1', project: 'team', result: 'Succeeded' }), 1);
  assert.equal(await value('sluice_app_sync_duration_seconds', { namespace: 'dm', project: 'team', result: 'Succeeded', le: '5' }), 1);
  assert.equal(await value('sluice_app_sync_duration_seconds', { namespace: 'dm', project: 'team', result: 'Succeeded', le: '2' }), 0);
});
