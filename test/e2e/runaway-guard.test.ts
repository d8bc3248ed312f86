// The runaway guard on the real stack: something else (here the test, as an HPA would)
// scales the rollout's ReplicaSet back after each of Sluice's writes. The rollout stops
// fighting, says why on its status and in an Event, and acts again when its spec changes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { createNamespace, deleteNamespace, eventually, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-runaway');
  sluice = await startSluiceFor(stack, ns);
});

after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const NAME = 'flapping';
const rollout = () => stack.kube.get(Resources.rollout, ns, NAME);
const progressing = (ro: KubeObject) =>
  (ro.status?.conditions as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === 'Progressing');

test('a ReplicaSet scaled back after every write: the rollout stops with ReconcileLoop and an Event, and resumes on a spec change', async () => {
  await stack.kube.create(Resources.rollout, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: NAME, namespace: ns },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: NAME } },
      template: { metadata: { labels: { app: NAME } }, spec: { containers: [{ name: 'app', image: 'argoproj/rollouts-demo:blue' }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }] } },
    },
  });
  const healthy = await eventually('Healthy at 4', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Healthy' && ro.status.availableReplicas === 4 ? ro : undefined;
  });
  const rsName = `${NAME}-${healthy.status.stableRS}`;

  // The other controller: scale it to 1 whenever it is not.
  let fighting = true;
  let scaledBack = 0;
  const fight = (async () => {
    while (fighting) {
      const rs = await stack.kube.get(Resources.replicaSet, ns, rsName);
      if (rs.spec.replicas !== 1) {
        await stack.kube.patch(Resources.replicaSet, ns, rsName, { spec: { replicas: 1 } });
        scaledBack++;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const stopped = await eventually(
      'Progressing False, ReconcileLoop',
      async () => {
        const ro = await rollout();
        return progressing(ro)?.reason === 'ReconcileLoop' ? ro : undefined;
      },
      90_000,
    );
    const cond = progressing(stopped)!;
    assert.equal(cond.status, 'False');
    assert.match(cond.message, new RegExp(`^ReplicaSet ${rsName} spec.replicas alternated (1↔4|4↔1) \\d+ times in 60 s$`));
    assert.equal(stopped.status.phase, 'Degraded');

    // It no longer writes: the other controller has nothing left to undo.
    await new Promise((r) => setTimeout(r, 3000));
    const before = scaledBack;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(scaledBack, before, 'Sluice stopped scaling the ReplicaSet back up');

    const { items } = await stack.kube.list(Resources.event, ns, { fieldSelector: `involvedObject.name=${NAME},reason=ReconcileLoop` });
    assert.equal(items.length, 1, 'one Event');
    assert.equal((items[0] as KubeObject & { type: string }).type, 'Warning');
    assert.match((items[0] as KubeObject & { message: string }).message, /spec\.replicas alternated/);
  } finally {
    fighting = false;
    await fight;
  }

  // A spec change (a new generation) lets it act again.
  await stack.kube.patch(Resources.rollout, ns, NAME, { spec: { minReadySeconds: 1 } });
  await eventually('Healthy at 4 again', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Healthy' && ro.status.availableReplicas === 4 && progressing(ro)?.reason !== 'ReconcileLoop';
  });
  assert.equal((await stack.kube.get(Resources.replicaSet, ns, rsName)).spec.replicas, 4);
});
