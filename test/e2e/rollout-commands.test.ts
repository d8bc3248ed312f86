// The rollout command set, both ways: as Updates through the HTTP API, and written
// the Argo way onto the object with kubectl (status subresource where Argo's plugin
// uses it), which the workflow reads as the same commands.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-cmd');
  sluice = await startSluiceFor(stack, ns);
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  await eventually('Healthy', async () => (await rollout()).status?.phase === 'Healthy');
});
after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const rollout = () => stack.kube.get(Resources.rollout, ns, 'canary-basic');
const rsByHash = async () => {
  const { items } = await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'rollouts-pod-template-hash' });
  return new Map(items.map((rs: KubeObject) => [rs.metadata.labels!['rollouts-pod-template-hash'], rs]));
};
const patchStatus = (body: unknown) =>
  kubectl(stack, ['patch', 'rollout', 'canary-basic', '-n', ns, '--subresource=status', '--type', 'merge', '-p', JSON.stringify(body)]);
const patchSpec = (body: unknown) => kubectl(stack, ['patch', 'rollout', 'canary-basic', '-n', ns, '--type', 'merge', '-p', JSON.stringify(body)]);

async function command(name: string, body: unknown = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sluice.apiUrl}/api/v1/namespaces/${ns}/rollouts/canary-basic/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.SLUICE_TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function setImage(image: string) {
  await kubectl(stack, [
    'patch',
    'rollout',
    'canary-basic',
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }]),
  ]);
}

test('abort and retry, written onto the status the Argo way', async () => {
  const stable = (await rollout()).status.stableRS;
  await setImage('argoproj/rollouts-demo:yellow');
  const paused = await eventually('paused at step 1', async () => {
    const ro = await rollout();
    return ro.status?.currentStepIndex === 1 && ro.status.phase === 'Paused' ? ro : undefined;
  });
  const canary = paused.status.currentPodHash;

  await patchStatus({ status: { abort: true } });
  const aborted = await eventually('aborted', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Degraded' && ro.status.abort === true ? ro : undefined;
  });
  assert.match(aborted.status.message, /RolloutAborted/);
  await eventually('canary scaled away, stable at 3', async () => {
    const rss = await rsByHash();
    return rss.get(canary)!.spec.replicas === 0 && rss.get(stable)!.spec.replicas === 3;
  });
  assert.equal((await command('promote')).status, 409, 'promote is refused while aborted');

  await patchStatus({ status: { abort: false } });
  await eventually('retried: paused at step 1 again', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 && ro.status.abort === false;
  });

  // promoteFull on the status skips the remaining steps.
  await patchStatus({ status: { promoteFull: true } });
  await eventually('fully promoted', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Healthy' && ro.status.stableRS === canary;
  });
});

test('pause and resume through spec.paused, and through the API', async () => {
  await patchSpec({ spec: { paused: true } });
  await eventually('manually paused', async () => (await rollout()).status?.message === 'manually paused');
  const refused = await command('pause');
  assert.equal(refused.status, 409);
  assert.match(refused.body.message, /already paused/);
  const resumed = await command('resume');
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  await eventually('resumed', async () => {
    const ro = await rollout();
    return !ro.spec.paused && ro.status?.phase === 'Healthy';
  });
});

test('abort when nothing is updating is refused with a message naming the rollout', async () => {
  const res = await command('abort');
  assert.equal(res.status, 409);
  assert.equal(res.body.message, `rollout ${ns}/canary-basic has no update in progress to abort`);
});

test('undo goes back to the previous template; set-image and restart through the API', async () => {
  const before = await rollout();
  const beforeImage = before.spec.template.spec.containers[0].image;
  const beforeHash = before.status.currentPodHash;
  const blueRS = [...(await rsByHash()).values()].find((rs) => rs.spec.template.spec.containers[0].image === 'argoproj/rollouts-demo:blue')!;
  const undo = await command('undo');
  assert.equal(undo.status, 200, JSON.stringify(undo.body));
  await eventually(
    'spec.template is the previous revision',
    async () => (await rollout()).spec.template.spec.containers[0].image === 'argoproj/rollouts-demo:blue',
  );
  assert.notEqual(beforeImage, 'argoproj/rollouts-demo:blue');
  // Back to a template that has a ReplicaSet: a new revision with steps again.
  const undone = await eventually('paused at step 1 on the undone template', async () => {
    const ro = await rollout();
    return ro.status?.currentPodHash !== beforeHash && ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 ? ro : undefined;
  });
  assert.equal(undone.status.currentPodHash, blueRS.metadata.labels!['rollouts-pod-template-hash'], 'undo reuses the earlier ReplicaSet');
  await eventually(
    'the reused ReplicaSet is the newest revision',
    async () => Number((await rsByHash()).get(undone.status.currentPodHash)!.metadata.annotations!['rollout.argoproj.io/revision']) === 3,
  );
  assert.equal((await command('promote', { full: true })).status, 200);
  await eventually('Healthy', async () => (await rollout()).status?.phase === 'Healthy');

  const missing = await command('set-image', { container: 'nope', image: 'x:1' });
  assert.equal(missing.status, 409);
  assert.match(missing.body.message, /no container "nope"/);

  const podsBefore = new Set((await stack.kube.list(Resources.pod, ns, { labelSelector: 'app=canary-basic' })).items.map((p) => p.metadata.name));
  const restart = await command('restart');
  assert.equal(restart.status, 200, JSON.stringify(restart.body));
  await eventually(
    'every pod replaced',
    async () => {
      const pods = (await stack.kube.list(Resources.pod, ns, { labelSelector: 'app=canary-basic' })).items.filter((p) => !p.metadata.deletionTimestamp);
      return pods.length === 3 && pods.every((p) => !podsBefore.has(p.metadata.name)) && (await rollout()).status?.restartedAt;
    },
    60_000,
  );
});
