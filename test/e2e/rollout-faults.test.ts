// Faults in the middle of rollouts, on a stack of this file's own (it restarts
// Temporal and the API server, which the shared stack's other users rely on):
// the Temporal server restarted, the API server gone for 20 s, and the worker
// SIGKILLed during a blue-green wait for promotion and during a scale-down delay.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { startLocalStack, type LocalStack } from '../../stack/local-stack';
import { ensureTools } from '../../stack/toolchain';
import { ensureAdminToken } from '../support/api-token';
import { examplesDir } from '../support/paths';
import { createNamespace, eventually, kubectl, spawnSluice, type SluiceProcess, type TestStack } from '../support/stack';

let local: LocalStack;
let stack: TestStack;
let stateDir: string;
const procs: SluiceProcess[] = [];

before(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-faults-'));
  local = await startLocalStack({ stateDir, fixedPorts: false, headless: true, etcdNoFsync: true, log: () => undefined });
  const tools = await ensureTools(() => undefined);
  stack = {
    kube: local.kube,
    kubeconfigPath: local.kubeconfigPath,
    temporalAddress: local.temporalAddress,
    kubectlPath: tools.kubectl,
    temporalBinary: tools.temporal,
    stop: async () => undefined,
  };
  // This stack has its own accounts: a token issued for the shared stack means nothing here.
  delete process.env.SLUICE_TOKEN;
  await ensureAdminToken(local.kube);
});

after(async () => {
  for (const p of procs) await p.kill('SIGTERM').catch(() => undefined);
  await local?.stop();
  if (stateDir && !process.env.SLUICE_KEEP_STATE) fs.rmSync(stateDir, { recursive: true, force: true });
});

async function sluiceFor(ns: string): Promise<SluiceProcess> {
  const p = await spawnSluice(stack, ns, path.join(stateDir, `sluice-${ns}.log`));
  procs.push(p);
  return p;
}

const get = (ns: string, name: string) => stack.kube.get(Resources.rollout, ns, name);
const setImage = (ns: string, name: string, image: string) =>
  kubectl(stack, [
    'patch',
    'rollout',
    name,
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }]),
  ]);
const replicaSets = async (ns: string): Promise<KubeObject[]> =>
  (await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'rollouts-pod-template-hash' })).items;
const post = (p: SluiceProcess, ns: string, name: string, cmd: string) =>
  fetch(`${p.apiUrl}/api/v1/namespaces/${ns}/rollouts/${name}/${cmd}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.SLUICE_TOKEN}` },
    body: '{}',
  });

test('the Temporal server restarts mid-rollout: the rollout continues', async () => {
  const ns = await createNamespace(stack.kube, 'fault-temporal');
  await sluiceFor(ns);
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  await eventually('Healthy', async () => (await get(ns, 'canary-basic')).status?.phase === 'Healthy');
  await setImage(ns, 'canary-basic', 'argoproj/rollouts-demo:yellow');
  await eventually('paused at step 1', async () => (await get(ns, 'canary-basic')).status?.currentStepIndex === 1);

  await local.temporal!.restart();
  // Commands reach the workflow again once the worker has reconnected.
  await eventually(
    'promote accepted after the restart',
    async () => (await post(procs[procs.length - 1], ns, 'canary-basic', 'promote')).status === 200,
    60_000,
    1000,
  );
  await eventually(
    'completed',
    async () => {
      const ro = await get(ns, 'canary-basic');
      return ro.status?.phase === 'Healthy' && ro.status.stableRS === ro.status.currentPodHash;
    },
    60_000,
  );
  assert.equal((await replicaSets(ns)).length, 2);
});

test('the API server is unreachable for 20 s in the middle of a step: the step completes, nothing duplicated', async () => {
  const ns = await createNamespace(stack.kube, 'fault-apiserver');
  await sluiceFor(ns);
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  await eventually('Healthy', async () => (await get(ns, 'canary-basic')).status?.phase === 'Healthy');
  await setImage(ns, 'canary-basic', 'argoproj/rollouts-demo:yellow');
  await eventually('the canary ReplicaSet exists', async () => (await replicaSets(ns)).length === 2, 30_000, 20);

  await local.cluster!.stopApiserver();
  await new Promise((r) => setTimeout(r, 20_000));
  await local.cluster!.startApiserver();

  const paused = await eventually(
    'the step completed: paused at step 1',
    async () => {
      const ro = await get(ns, 'canary-basic');
      return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 ? ro : undefined;
    },
    90_000,
    250,
  );
  const rss = await replicaSets(ns);
  assert.equal(rss.length, 2, 'no duplicate ReplicaSet');
  assert.equal(rss.find((rs) => rs.metadata.labels!['rollouts-pod-template-hash'] === paused.status.currentPodHash)!.spec.replicas, 1);

  // The step above needed no new pod, but the next test does: kwok's pod watch takes up to
  // a minute to come back after the outage, so wait until a new pod runs again.
  await stack.kube.create(Resources.pod, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe' },
    spec: { containers: [{ name: 'probe', image: 'probe:1' }] },
  });
  await eventually(
    'pods become ready again after the outage',
    async () => {
      const pod = await stack.kube.find(Resources.pod, ns, 'probe');
      return pod?.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
    },
    180_000,
    500,
  );
});

test('worker killed while blue-green waits for promotion, and again during the scale-down delay', async () => {
  const ns = await createNamespace(stack.kube, 'fault-bg');
  let sluice = await sluiceFor(ns);
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'bluegreen-demo.yaml')]);
  await eventually('Healthy', async () => (await get(ns, 'bluegreen-demo')).status?.phase === 'Healthy');
  const blue = (await get(ns, 'bluegreen-demo')).status.stableRS;
  await setImage(ns, 'bluegreen-demo', 'argoproj/rollouts-demo:yellow');
  await eventually('paused for promotion', async () => (await get(ns, 'bluegreen-demo')).status?.phase === 'Paused');

  await sluice.kill('SIGKILL');
  sluice = await sluiceFor(ns);
  assert.equal((await get(ns, 'bluegreen-demo')).status.phase, 'Paused', 'still waiting after the restart');
  const res = await post(sluice, ns, 'bluegreen-demo', 'promote');
  assert.equal(res.status, 200, await res.text());

  const svc = () => stack.kube.get(Resources.service, ns, 'bluegreen-demo-active');
  const yellow = await eventually('active switched', async () => {
    const ro = await get(ns, 'bluegreen-demo');
    return (await svc()).spec.selector['rollouts-pod-template-hash'] === ro.status.currentPodHash && ro.status.stableRS === ro.status.currentPodHash
      ? ro.status.currentPodHash
      : undefined;
  });
  const oldRS = () => stack.kube.get(Resources.replicaSet, ns, `bluegreen-demo-${blue}`);
  const deadline = Date.parse(
    await eventually('deadline recorded', async () => (await oldRS()).metadata.annotations?.['argo-rollouts.argoproj.io/scale-down-deadline']),
  );

  await sluice.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  await sluiceFor(ns);
  await eventually('old ReplicaSet scaled to 0', async () => (await oldRS()).spec.replicas === 0, 60_000, 250);
  const late = Date.now() - deadline;
  assert.ok(late >= 0, 'not before the deadline');
  assert.ok(late < 10_000, `scaled down ${late} ms after the deadline`);
  assert.equal((await replicaSets(ns)).length, 2, 'no ReplicaSet created twice');
  assert.notEqual(yellow, blue);
});
