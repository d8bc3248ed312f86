import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../k8s/kube-client';
import { renderRolloutTree } from '../../cli/tree';
import { rolloutTree } from '../../domain/rollouts/tree';

const owner = (kind: string, name: string) => [{ apiVersion: 'x', kind, name, uid: name, controller: true }];
const rs = (hash: string, revision: number, replicas: number, image: string): KubeObject => ({
  metadata: {
    name: `demo-${hash}`,
    namespace: 'shop',
    labels: { 'rollouts-pod-template-hash': hash },
    annotations: { 'rollout.argoproj.io/revision': String(revision) },
    ownerReferences: owner('Rollout', 'demo'),
    creationTimestamp: '2026-01-01T00:00:00Z',
  },
  spec: { replicas, template: { spec: { containers: [{ name: 'app', image }] } } },
  status: { replicas, readyReplicas: replicas, availableReplicas: replicas },
});
const pod = (hash: string, i: number, ready: boolean): KubeObject => ({
  metadata: { name: `demo-${hash}-${i}`, namespace: 'shop', ownerReferences: owner('ReplicaSet', `demo-${hash}`), creationTimestamp: '2026-01-01T00:00:30Z' },
  spec: { containers: [{ name: 'app' }] },
  status: { phase: 'Running', containerStatuses: [{ ready, restartCount: 0 }] },
});

const rollout: KubeObject = {
  metadata: { name: 'demo', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { replicas: 3, strategy: { canary: { steps: [{ setWeight: 33 }, { pause: {} }, { setWeight: 66 }, { pause: { duration: '10s' } }] } } },
  status: {
    phase: 'Paused',
    currentStepIndex: 1,
    stableRS: 'aaa',
    currentPodHash: 'bbb',
    canary: { weights: { canary: { weight: 33, podTemplateHash: 'bbb' }, stable: { weight: 67, podTemplateHash: 'aaa' } } },
    replicas: 4,
    updatedReplicas: 1,
    readyReplicas: 4,
    availableReplicas: 4,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-01-01T00:01:00Z' }],
  },
};
const run: KubeObject = {
  metadata: {
    name: 'demo-bbb-2',
    namespace: 'shop',
    labels: { 'rollouts-pod-template-hash': 'bbb' },
    ownerReferences: owner('Rollout', 'demo'),
    creationTimestamp: '2026-01-01T00:01:00Z',
  },
  status: {
    phase: 'Running',
    metricResults: [
      {
        name: 'error-rate',
        phase: 'Running',
        successful: 2,
        failed: 0,
        measurements: [
          { phase: 'Successful', value: '0.01' },
          { phase: 'Successful', value: '0.02' },
        ],
      },
    ],
  },
};

test('the tree groups ReplicaSets, pods and analysis runs by revision, newest first', () => {
  const tree = rolloutTree(
    rollout,
    [rs('aaa', 1, 3, 'demo:blue'), rs('bbb', 2, 1, 'demo:yellow')],
    [pod('aaa', 1, true), pod('aaa', 2, true), pod('aaa', 3, true), pod('bbb', 1, false)],
    [run],
  );
  assert.deepEqual(
    tree.revisions.map((r) => r.revision),
    [2, 1],
  );
  assert.deepEqual(tree.revisions[0]!.replicaSets[0]!.roles, ['canary']);
  assert.deepEqual(tree.revisions[1]!.replicaSets[0]!.roles, ['stable']);
  assert.equal(tree.revisions[0]!.replicaSets[0]!.pods[0]!.ready, '0/1');
  assert.equal(tree.revisions[1]!.replicaSets[0]!.pods.length, 3);
  assert.equal(tree.revisions[0]!.analysisRuns[0]!.name, 'demo-bbb-2', 'the run joins its revision through the pod-template hash');
  assert.deepEqual(tree.step, { index: 1, count: 4, current: 'pause (until promoted)' });
  assert.equal(tree.setWeight, 33);
  assert.deepEqual(tree.images, [
    { image: 'demo:blue', roles: ['stable'] },
    { image: 'demo:yellow', roles: ['canary'] },
  ]);
});

test('the rendered tree reads like kubectl argo rollouts get', () => {
  const tree = rolloutTree(rollout, [rs('aaa', 1, 3, 'demo:blue'), rs('bbb', 2, 1, 'demo:yellow')], [pod('aaa', 1, true), pod('bbb', 1, true)], [run]);
  const lines = renderRolloutTree(tree, new Date('2026-01-01T00:05:00Z'), 'canary 2/4: pause');
  const text = lines.join('\n');
  assert.match(text, /^Status:\s+Paused$/m);
  assert.match(text, /^ {2}Step:\s+1\/4 \(pause \(until promoted\)\)$/m);
  assert.match(text, /^Images:\s+demo:blue \(stable\)\n\s+demo:yellow \(canary\)$/m);
  assert.match(text, /^⟳ demo\s+Rollout\s+॥ Paused\s+5m$/m);
  assert.match(text, /^├──# revision:2$/m);
  assert.match(text, /^│ {2}├──⧉ demo-bbb\s+ReplicaSet\s+✔ Healthy\s+5m\s+canary$/m);
  assert.match(text, /^│ {2}│ {2}└──□ demo-bbb-1\s+Pod\s+✔ Running\s+4m\s+ready:1\/1$/m);
  assert.match(text, /^│ {2}└──α demo-bbb-2\s+AnalysisRun\s+◌ Running\s+4m\s+✔ 2,✖ 0$/m);
  assert.match(text, /^│ {5}└──◈ error-rate\s+Metric\s+◌ Running\s+values: 0\.01, 0\.02$/m);
  assert.match(text, /^└──# revision:1$/m);
  assert.match(text, /^ {3}└──⧉ demo-aaa\s+ReplicaSet\s+✔ Healthy\s+5m\s+stable$/m);
});

test('a blue-green rollout marks the active and preview ReplicaSets', () => {
  const bg: KubeObject = {
    metadata: { name: 'demo', namespace: 'shop' },
    spec: { replicas: 3, strategy: { blueGreen: { activeService: 'demo-active', previewService: 'demo-preview' } } },
    status: { phase: 'Paused', stableRS: 'aaa', currentPodHash: 'bbb', blueGreen: { activeSelector: 'aaa', previewSelector: 'bbb' } },
  };
  const tree = rolloutTree(bg, [rs('aaa', 1, 3, 'demo:blue'), rs('bbb', 2, 3, 'demo:yellow')], [], []);
  assert.equal(tree.strategy, 'BlueGreen');
  assert.equal(tree.step, undefined);
  assert.deepEqual(
    tree.revisions.map((r) => r.replicaSets[0]!.roles),
    [['preview'], ['stable', 'active']],
  );
  const text = renderRolloutTree(tree, new Date('2026-01-01T00:05:00Z')).join('\n');
  assert.match(text, /ReplicaSet\s+✔ Healthy\s+5m\s+preview$/m);
  assert.match(text, /ReplicaSet\s+✔ Healthy\s+5m\s+stable,active$/m);
});
