// The activity behind startRolloutAnalysis on the real apiserver: the AnalysisRun a
// rollout asks for, made from an AnalysisTemplate and a ClusterAnalysisTemplate with
// Argo's name, labels and owner; idempotent; an unknown template is a clear,
// non-retryable error and no run is made.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAnalysisActivities, type RolloutAnalysisInput } from '../../activities/analysis';
import { Resources } from '../../k8s/kube-client';
import { exampleTemplateSpec } from '../support/analysis-fixtures';
import { createNamespace, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let rolloutUid: string;
const clusterTemplate = `e2e-cluster-smoke-${process.pid}`;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-ro-analysis');
  // No Sluice runs here: only the objects matter.
  const ro = await stack.kube.create(Resources.rollout, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'canary-with-analysis', labels: { team: 'shop' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'x' } },
      template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'app', image: 'demo:blue' }] } },
      strategy: { canary: { steps: [] } },
    },
  });
  rolloutUid = ro.metadata.uid!;
  await stack.kube.create(Resources.analysisTemplate, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'prometheus-metrics' },
    spec: exampleTemplateSpec('analysis-prometheus-metrics.yaml', (t) => t),
  });
  await stack.kube.create(Resources.clusterAnalysisTemplate, undefined, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ClusterAnalysisTemplate',
    metadata: { name: clusterTemplate },
    spec: { args: [{ name: 'team' }], metrics: [{ name: 'smoke', provider: { web: { url: 'http://smoke/{{args.team}}' } } }] },
  });
});
after(async () => {
  await stack?.kube.delete(Resources.clusterAnalysisTemplate, undefined, clusterTemplate).catch(() => undefined);
  await stack?.stop();
});

const input = (templates: RolloutAnalysisInput['analysis']['templates']): RolloutAnalysisInput => ({
  rollout: { namespace: ns, name: 'canary-with-analysis', uid: rolloutUid },
  analysis: { templates, args: [{ name: 'team', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } }] },
  kind: 'Step',
  stepIndex: 2,
  revision: '2',
  podHashes: { stable: 'aaa111', latest: 'bbb222' },
});

test('createRolloutAnalysisRun: two templates merged into one owned, labelled run; a retry finds it', async () => {
  const acts = createAnalysisActivities(stack.kube);
  const env = new MockActivityEnvironment();
  const templates = [{ templateName: 'prometheus-metrics' }, { templateName: clusterTemplate, clusterScope: true }];
  const first: { name: string } = await env.run(acts.createRolloutAnalysisRun, input(templates));
  const again: { name: string } = await env.run(acts.createRolloutAnalysisRun, input(templates));
  assert.equal(first.name, 'canary-with-analysis-bbb222-2-2');
  assert.equal(again.name, first.name, 'idempotent: the same run, not a second one');
  const run = await stack.kube.get(Resources.analysisRun, ns, first.name);
  assert.deepEqual(run.metadata.labels, { 'rollouts-pod-template-hash': 'bbb222', 'rollout-type': 'Step', 'step-index': '2' });
  assert.equal(run.metadata.ownerReferences?.[0].uid, rolloutUid);
  assert.deepEqual(
    run.spec.metrics.map((m: { name: string }) => m.name),
    ['http-error-rate', 'http-latency', 'cpu-usage', 'smoke'],
  );
  assert.deepEqual(run.spec.args, [{ name: 'team', value: 'shop' }]);
});

test('createRolloutAnalysisRun: an unknown template fails without retry, naming it; no run is made', async () => {
  const acts = createAnalysisActivities(stack.kube);
  const env = new MockActivityEnvironment();
  const before = (await stack.kube.list(Resources.analysisRun, ns)).items.length;
  await assert.rejects(env.run(acts.createRolloutAnalysisRun, { ...input([{ templateName: 'no-such-template' }]), stepIndex: 5 }), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure && err.nonRetryable);
    assert.equal((err as Error).message, `AnalysisTemplate "no-such-template" in namespace ${ns} not found`);
    return true;
  });
  assert.equal((await stack.kube.list(Resources.analysisRun, ns)).items.length, before);
});

test("createRolloutAnalysisRun: a completed run is a new attempt (Argo's .1), unless the rollout reattaches to it", async () => {
  const acts = createAnalysisActivities(stack.kube);
  const env = new MockActivityEnvironment();
  const req = { ...input([{ templateName: clusterTemplate, clusterScope: true }]), stepIndex: 4 };
  const first: { name: string } = await env.run(acts.createRolloutAnalysisRun, req);
  await stack.kube.patch(Resources.analysisRun, ns, first.name, { status: { phase: 'Successful', metricResults: [] } }, { subresource: 'status' });
  const reattached: { name: string } = await env.run(acts.createRolloutAnalysisRun, { ...req, reattachTo: first.name });
  assert.equal(reattached.name, first.name, 'followed as it is, not run again');
  const retried: { name: string } = await env.run(acts.createRolloutAnalysisRun, req);
  assert.equal(retried.name, `${first.name}.1`);
});
