// Durability: SIGKILL the Sluice process while a rollout waits in its timed pause,
// start a new one, and the rollout still completes on time, with no ReplicaSet made
// twice and no step run twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Resources } from '../../k8s/kube-client';
import { examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let sluice: SluiceProcess | undefined;
const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kill-')), 'sluice.log');

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-kill');
});
after(async () => {
  await sluice?.kill('SIGTERM');
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const rollout = () => stack.kube.get(Resources.rollout, ns, 'canary-basic');

test('a worker killed during a timed pause: the rollout completes on time, nothing done twice', async () => {
  sluice = await spawnSluice(stack, ns, logFile);
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  await eventually('Healthy', async () => (await rollout()).status?.phase === 'Healthy');
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
  await eventually('paused at step 1', async () => (await rollout()).status?.currentStepIndex === 1);
  const res = await fetch(`${sluice.apiUrl}/api/v1/namespaces/${ns}/rollouts/canary-basic/promote`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.SLUICE_TOKEN}` },
    body: '{}',
  });
  assert.equal(res.status, 200, await res.text());

  const inPause = await eventually('in the 10 s pause', async () => {
    const ro = await rollout();
    return ro.status?.currentStepIndex === 3 && ro.status.pauseConditions?.length ? ro : undefined;
  });
  const pauseStart = Date.parse(inPause.status.pauseConditions[0].startTime);

  await sluice.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  sluice = await spawnSluice(stack, ns, logFile);

  // While waiting, the pause must keep its original start: the step is not restarted.
  let completedAt = 0;
  await eventually(
    'the rollout completes after the restart',
    async () => {
      const ro = await rollout();
      const pause = ro.status?.pauseConditions?.[0];
      if (pause) assert.equal(Date.parse(pause.startTime), pauseStart, 'the pause restarted');
      if (ro.status?.phase === 'Healthy' && ro.status.stableRS === ro.status.currentPodHash) {
        completedAt = Date.now();
        return true;
      }
      return false;
    },
    60_000,
  );
  const elapsed = completedAt - pauseStart;
  assert.ok(elapsed >= 10_000, `completed ${elapsed} ms after the pause began: too early`);
  assert.ok(elapsed < 20_000, `completed ${elapsed} ms after the pause began: the timer did not survive the kill`);

  const { items } = await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'rollouts-pod-template-hash' });
  assert.equal(items.length, 2, 'exactly one ReplicaSet per revision');

  // The workflow's history shows each ReplicaSet creation once, across the kill.
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const client = new Client({ connection });
    const history = await client.workflow.getHandle(`rollout/${ns}/canary-basic`).fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createReplicaSet');
    assert.equal(scheduled.length, 2, 'createReplicaSet ran once per revision');
  } finally {
    await connection.close();
  }
});
