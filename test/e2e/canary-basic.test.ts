// The first vertical slice, end to end on the real stack: canary-basic.yaml from the
// shared examples, applied with kubectl, driven by Sluice, promoted from the CLI.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { rolloutViewQuery } from '../../workflows/definitions';
import type { RunningSluice } from '../../cmd/process';
import { cliPath, examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, runCommand, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-canary');
  sluice = await startSluiceFor(stack, ns);
});

after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const rollout = () => stack.kube.get(Resources.rollout, ns, 'canary-basic');
async function replicaSets(): Promise<KubeObject[]> {
  const { items } = await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'rollouts-pod-template-hash' });
  return items;
}
const hashOf = (rs: KubeObject) => rs.metadata.labels!['rollouts-pod-template-hash'];
const cli = (...args: string[]) => runCommand(process.execPath, [cliPath, '--server', sluice.apiUrl, ...args]);

test('canary-basic: first revision, setWeight 33, pause, promote, timed pause, full promotion', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);

  // The first revision goes straight to 3 ready replicas, Healthy.
  const first = await eventually('the first revision is Healthy', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Healthy' && ro.status.availableReplicas === 3 ? ro : undefined;
  });
  const blueHash = first.status.stableRS as string;
  assert.equal(first.status.currentPodHash, blueHash);
  assert.equal((await replicaSets()).length, 1);

  // A new image: a new ReplicaSet at 1 (ceil of 33% of 3), then a pause at step 1.
  await kubectl(stack, [
    'patch',
    'rollout',
    'canary-basic',
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"argoproj/rollouts-demo:yellow"}]',
  ]);
  const paused = await eventually('the rollout pauses at step 1', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 ? ro : undefined;
  });
  assert.equal(paused.status.pauseConditions[0].reason, 'CanaryPauseStep');
  const yellowHash = paused.status.currentPodHash as string;
  assert.notEqual(yellowHash, blueHash);
  const rss = await replicaSets();
  assert.equal(rss.length, 2);
  const canaryRS = rss.find((rs) => hashOf(rs) === yellowHash)!;
  const stableRS = rss.find((rs) => hashOf(rs) === blueHash)!;
  assert.equal(canaryRS.spec.replicas, 1);
  assert.equal(canaryRS.spec.template.metadata.labels['rollouts-pod-template-hash'], yellowHash);
  // Default maxSurge 25% of 3 rounds up to 1, plus one because 33% splits unevenly.
  assert.ok(canaryRS.spec.replicas + stableRS.spec.replicas <= 3 + 1 + 1);
  assert.ok(stableRS.status.availableReplicas >= 3, 'maxUnavailable 0 keeps all stable pods up');
  assert.deepEqual(paused.status.canary.weights.canary, { weight: 33, podTemplateHash: yellowHash });

  // Temporal knows where the rollout stands.
  const handle = sluice.client.workflow.getHandle(`rollout/${ns}/canary-basic`);
  const view = await handle.query(rolloutViewQuery);
  assert.match(view.summary, /step 2\/4: pause \(until promoted\)/);

  // Promote from the CLI; the rollout moves on to 66% and the 10 s pause.
  const promoted = await cli('rollouts', 'promote', 'canary-basic', '-n', ns);
  assert.equal(promoted.code, 0, promoted.stderr);
  assert.match(promoted.stdout, /promoted/);
  const promotedAt = Date.now();
  const timed = await eventually('the rollout reaches the timed pause', async () => {
    const ro = await rollout();
    return ro.status?.currentStepIndex === 3 && ro.status.phase === 'Paused' ? ro : undefined;
  });
  assert.equal(timed.status.canary.weights.canary.weight, 66);

  // A second promote during the timed pause is fine; one when not paused is refused.
  const healthy = await eventually(
    'the rollout completes',
    async () => {
      const ro = await rollout();
      return ro.status?.phase === 'Healthy' && ro.status.stableRS === yellowHash ? ro : undefined;
    },
    60_000,
  );
  assert.ok(Date.now() - promotedAt >= 10_000, 'the 10 s pause elapsed before completion');
  assert.equal(healthy.status.availableReplicas, 3);
  const final = await replicaSets();
  assert.equal(final.length, 2, 'no extra ReplicaSet was created');
  assert.equal(final.find((rs) => hashOf(rs) === yellowHash)!.spec.replicas, 3);
  await eventually('the old ReplicaSet is at 0', async () => (await replicaSets()).find((rs) => hashOf(rs) === blueHash)!.status.replicas === 0);

  const refused = await cli('rollouts', 'promote', 'canary-basic', '-n', ns);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is not paused/);

  // The Service selects app=canary-basic; with the old ReplicaSet at 0, every endpoint
  // behind it is a pod of the new revision.
  await eventually('the Service endpoints are all new pods', async () => {
    const { items: slices } = await stack.kube.list({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true }, ns, {
      labelSelector: 'kubernetes.io/service-name=canary-basic',
    });
    const podNames = slices.flatMap((s) => ((s as any).endpoints ?? []).map((e: any) => e.targetRef?.name as string));
    if (podNames.length !== 3) return false;
    const pods = await Promise.all(podNames.map((n) => stack.kube.get(Resources.pod, ns, n)));
    return pods.every((p) => p.metadata.labels?.['rollouts-pod-template-hash'] === yellowHash);
  });

  const cliGet = await cli('rollouts', 'get', 'canary-basic', '-n', ns);
  assert.equal(cliGet.code, 0, cliGet.stderr);
  assert.match(cliGet.stdout, /Status:\s+Healthy/);
});

test('a Rollout with an unknown step kind is Degraded with InvalidSpec, and other rollouts are untouched', async () => {
  const bad = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'bad-steps', namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'bad-steps' } },
      template: { metadata: { labels: { app: 'bad-steps' } }, spec: { containers: [{ name: 'app', image: 'demo:1' }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { teleport: { to: 'prod' } }] } },
    },
  };
  await kubectl(stack, ['apply', '-f', '-'], JSON.stringify(bad));
  const ro = await eventually('bad-steps is Degraded', async () => {
    const r = await stack.kube.get(Resources.rollout, ns, 'bad-steps');
    return r.status?.phase === 'Degraded' ? r : undefined;
  });
  assert.match(ro.status.message, /spec\.strategy\.canary\.steps\[1\]\.teleport/);
  assert.equal(ro.status.conditions.find((c: { type: string }) => c.type === 'InvalidSpec')?.status, 'True');
  const { items } = await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'app=bad-steps' });
  assert.equal(items.length, 0, 'nothing was created for the invalid rollout');
  assert.equal((await rollout()).status.phase, 'Healthy');
});

test('the schema refuses obvious garbage', async () => {
  const garbage = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'garbage', namespace: ns }, spec: { replicas: 'three' } };
  await assert.rejects(kubectl(stack, ['apply', '-f', '-'], JSON.stringify(garbage)), /replicas/);
});
