// Templates merged into one AnalysisRun spec, and args resolved, with Argo's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRunSpec, flattenTemplates, mergeArgs } from '../../domain/analysis/templates';
import { argsWithoutSecrets, fieldPathValue, resolveMetricArgs, resolveRolloutArgs, SECRET_PLACEHOLDER } from '../../domain/analysis/args';
import type { Metric } from '../../domain/analysis/types';

const metric = (name: string, extra: Partial<Metric> = {}): Metric => ({ name, provider: { prometheus: { address: 'http://p', query: 'up' } }, ...extra });

test('several templates: metrics concatenated, namespaced before cluster, args merged by name', () => {
  const spec = buildRunSpec(
    [
      { name: 'cluster', clusterScope: true, spec: { metrics: [metric('c')], args: [{ name: 'svc' }] } },
      {
        name: 'a',
        clusterScope: false,
        spec: { metrics: [metric('a1'), metric('a2')], args: [{ name: 'svc' }, { name: 'ns', value: 'prod' }], dryRun: [{ metricName: 'a2' }] },
      },
    ],
    [{ name: 'svc', value: 'checkout' }],
    [],
    [{ metricName: 'c', limit: 3 }],
  );
  assert.deepEqual(
    spec.metrics.map((m) => m.name),
    ['a1', 'a2', 'c'],
  );
  assert.deepEqual(spec.args, [
    { name: 'svc', value: 'checkout' },
    { name: 'ns', value: 'prod' },
  ]);
  assert.deepEqual(spec.dryRun, [{ metricName: 'a2' }]);
  assert.deepEqual(spec.measurementRetention, [{ metricName: 'c', limit: 3 }]);
});

test('duplicate metric names across templates are an error naming the metric', () => {
  assert.throws(
    () =>
      flattenTemplates([
        { name: 'a', clusterScope: false, spec: { metrics: [metric('rate')] } },
        { name: 'b', clusterScope: false, spec: { metrics: [metric('rate')] } },
      ]),
    /two metrics have the same name 'rate'/,
  );
});

test('an arg given two different values by two templates is an error; an unresolved arg too', () => {
  assert.throws(
    () =>
      flattenTemplates([
        { name: 'a', clusterScope: false, spec: { args: [{ name: 'x', value: '1' }] } },
        { name: 'b', clusterScope: false, spec: { args: [{ name: 'x', value: '2' }] } },
      ]),
    /Argument `x` specified multiple times with different values: '1', '2'/,
  );
  assert.throws(() => mergeArgs([], [{ name: 'service' }]), /args.service was not resolved/);
  assert.deepEqual(mergeArgs([{ name: 'k', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], [{ name: 'k' }]), [
    { name: 'k', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
  ]);
});

test('{{args.x}} substituted into the metric text, JSON-escaped; an unknown tag is an error', () => {
  const m = metric('rate', {
    successCondition: 'result < {{ args.limit }}',
    provider: { prometheus: { address: 'http://p', query: 'sum(x{app="{{args.app}}"})' } },
  });
  const r = resolveMetricArgs(m, [
    { name: 'limit', value: '0.05' },
    { name: 'app', value: 'a"b' },
  ]);
  assert.equal(r.successCondition, 'result < 0.05');
  assert.equal(r.provider.prometheus!.query, 'sum(x{app="a"b"})');
  assert.throws(() => resolveMetricArgs(m, [{ name: 'limit', value: '1' }]), /metric "rate": failed to resolve \{\{args.app\}\}/);
  assert.throws(() => resolveMetricArgs(m, [{ name: 'limit' }]), /argument "limit" was not supplied/);
});

test('secrets become a placeholder in the workflow; fieldRef and pod hash args resolve on the rollout side', () => {
  assert.deepEqual(
    argsWithoutSecrets([
      { name: 'token', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      { name: 'v', value: '1' },
    ]),
    [
      { name: 'token', value: SECRET_PLACEHOLDER },
      { name: 'v', value: '1' },
    ],
  );
  const rollout = { metadata: { name: 'shop', labels: { app: 'checkout' } }, spec: { template: { spec: { containers: [{ image: 'demo:blue' }] } } } };
  assert.equal(fieldPathValue(rollout, "metadata.labels['app']"), 'checkout');
  assert.equal(fieldPathValue(rollout, 'spec.template.spec.containers[0].image'), 'demo:blue');
  assert.throws(() => fieldPathValue(rollout, 'spec.template'), /must end in a primitive value/);
  assert.throws(() => fieldPathValue(rollout, 'spec.nope'), /invalid path/);
  const args = resolveRolloutArgs(
    [
      { name: 'canary', valueFrom: { podTemplateHashValue: 'Latest' } },
      { name: 'stable', valueFrom: { podTemplateHashValue: 'Stable' } },
      { name: 'name', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'plain', value: 'x' },
    ],
    { stable: 'aaa', latest: 'bbb' },
    rollout,
  );
  assert.deepEqual(args, [
    { name: 'canary', value: 'bbb' },
    { name: 'stable', value: 'aaa' },
    { name: 'name', value: 'shop' },
    { name: 'plain', value: 'x' },
  ]);
});
