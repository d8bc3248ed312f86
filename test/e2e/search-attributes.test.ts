// Temporal UI as a user interface: a Rollout's workflow carries Sluice's search
// attributes from its start, so the visibility API (what the UI's filter box calls)
// finds it by kind, namespace and name, and by phase and revision as they change.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import type { RunningSluice } from '../../cmd/process';
import { examplesDir } from '../support/paths';
import { createNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-search');
  sluice = await startSluiceFor(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack?.stop();
});

async function list(query: string): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const wf of sluice.client.workflow.list({ query })) found.push(wf);
  return found;
}

test('a rollout workflow is found by SluiceKind, SluiceNamespace and SluiceName', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  const workflowId = `rollout/${ns}/canary-basic`;

  const byKindAndNamespace = await eventually(
    'the visibility API lists the rollout workflow',
    async () => {
      const found = await list(`SluiceKind = 'Rollout' AND SluiceNamespace = '${ns}'`);
      return found.length > 0 ? found : undefined;
    },
    30_000,
    250,
  );
  assert.deepEqual(
    byKindAndNamespace.map((w) => w.workflowId),
    [workflowId],
  );
  const wf = byKindAndNamespace[0]!;
  assert.deepEqual(wf.typedSearchAttributes.get({ name: 'SluiceName', type: 'KEYWORD' }), 'canary-basic');
  assert.equal(wf.status.name, 'RUNNING');

  const byName = await list(`SluiceName = 'canary-basic' AND SluiceNamespace = '${ns}'`);
  assert.deepEqual(
    byName.map((w) => w.workflowId),
    [workflowId],
  );
  // Another namespace's filter does not find it, and the kind filter is exact.
  assert.equal((await list(`SluiceKind = 'Rollout' AND SluiceNamespace = '${ns}-other'`)).length, 0);
  assert.equal((await list(`SluiceKind = 'Application' AND SluiceNamespace = '${ns}'`)).length, 0);
  const { count } = await sluice.client.workflow.count(`SluiceKind = 'Rollout' AND SluiceNamespace = '${ns}'`);
  assert.equal(count, 1);
});

test('phase and revision follow the rollout, so "paused rollouts in this namespace" is one query', async () => {
  const workflowId = `rollout/${ns}/canary-basic`;
  const ids = async (query: string) => (await list(query)).map((w) => w.workflowId);
  await eventually(
    'indexed as Healthy at revision 1',
    async () => (await ids(`SluicePhase = 'Healthy' AND SluiceRevision = '1' AND SluiceNamespace = '${ns}'`)).includes(workflowId),
    60_000,
    250,
  );

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
  await eventually(
    'indexed as Paused at revision 2',
    async () => (await ids(`SluiceKind = 'Rollout' AND SluicePhase = 'Paused' AND SluiceRevision = '2' AND SluiceNamespace = '${ns}'`)).includes(workflowId),
    60_000,
    250,
  );
  assert.deepEqual(await ids(`SluicePhase = 'Healthy' AND SluiceNamespace = '${ns}'`), []);
});
