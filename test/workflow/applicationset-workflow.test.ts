// The ApplicationSet workflow's orchestration against a real Temporal server, with its
// activities in memory: a pass creates what the plan creates, a nudge brings a pass that
// deletes one Application at a time, a failed generation deletes nothing and says so.
// Records the histories the replay test guards (SLUICE_RECORD_HISTORIES=1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { Worker } from '@temporalio/worker';
import type { ApplicationSetActivities, AppSetPass } from '../../activities/applicationsets';
import { prebuiltBundlePath } from '../../worker/worker';
import { applicationSetNudgeSignal } from '../../workflows/definitions';
import { applicationSetPreviewWorkflow, applicationSetWorkflow } from '../../workflows/applicationset';
import type { ApplicationSetCondition } from '../../domain/applicationsets/status';
import type { KubeObject } from '../../domain/objects';
import { repoRoot } from '../support/paths';
import { eventually } from '../support/stack';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await testWorkflowEnvironment();
});
after(() => env?.teardown());

const app = (name: string): KubeObject => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec: {} });

/** What the generator would produce next, and what the fake cluster holds. */
interface World {
  generated: string[] | { error: string };
  live: Set<string>;
  calls: string[];
  status?: { conditions?: ApplicationSetCondition[] };
}

function fakeActivities(world: World): Partial<ApplicationSetActivities> {
  return {
    async appSetPass(): Promise<AppSetPass> {
      world.calls.push('pass');
      if ('error' in world.generated) {
        return {
          uid: 'u1',
          outcome: { error: world.generated.error, reason: 'ApplicationParamsGenerationError' },
          plan: { create: [], update: [], delete: [], problems: [] },
          owned: [],
        };
      }
      const wanted = world.generated;
      return {
        uid: 'u1',
        outcome: { generated: wanted.length },
        plan: {
          create: wanted.filter((n) => !world.live.has(n)).map(app),
          update: [],
          delete: [...world.live].filter((n) => !wanted.includes(n)),
          problems: [],
        },
        owned: [...world.live].map((name) => ({ name, labels: {}, revisions: [] })),
      };
    },
    async appSetApply(input) {
      const created = input.create.map((a) => a.metadata.name);
      for (const n of created) world.live.add(n);
      world.calls.push(`apply ${created.join(',')}`);
      return { created, updated: [], errors: [] };
    },
    async appSetDeleteApplication(input) {
      world.calls.push(`delete ${input.name}`);
      return { deleted: world.live.delete(input.name) } as Awaited<ReturnType<ApplicationSetActivities['appSetDeleteApplication']>>;
    },
    async appSetWriteStatus(input) {
      world.status = input.status as World['status'];
    },
    async appSetPreview(input) {
      return { applications: [app(`${input.appSet.metadata?.name}-dev`)] } as unknown as Awaited<ReturnType<ApplicationSetActivities['appSetPreview']>>;
    },
  };
}

function record(handle: { fetchHistory(): Promise<unknown> }, file: string) {
  if (!process.env.SLUICE_RECORD_HISTORIES) return Promise.resolve();
  return handle.fetchHistory().then((h) => fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', file), historyToJSON(h as never)));
}

test('passes create, delete one at a time, and a failed generation deletes nothing', async () => {
  const world: World = { generated: ['a-dev', 'a-prod'], live: new Set(), calls: [] };
  const taskQueue = 'appset-workflow-test';
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: fakeActivities(world),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(applicationSetWorkflow, {
      taskQueue,
      workflowId: `applicationset/argocd/set-${Date.now()}`,
      args: [{ namespace: 'argocd', name: 'set' }],
    });
    await eventually(
      'both Applications created',
      async () => world.live.size === 2 && world.status?.conditions?.some((c) => c.type === 'ResourcesUpToDate' && c.status === 'True') === true,
    );

    world.generated = { error: 'generators[0] (git): repository unreachable' };
    await handle.signal(applicationSetNudgeSignal, { reason: 'test' });
    await eventually('ErrorOccurred', async () => world.status?.conditions?.some((c) => c.type === 'ErrorOccurred' && c.status === 'True') === true);
    assert.deepEqual([...world.live].sort(), ['a-dev', 'a-prod'], 'a failed generation deletes nothing');

    world.generated = ['a-dev'];
    await handle.signal(applicationSetNudgeSignal, { reason: 'test' });
    await eventually(
      'a-prod deleted',
      async () => !world.live.has('a-prod') && world.status?.conditions?.some((c) => c.type === 'ErrorOccurred' && c.status === 'False') === true,
    );
    assert.equal(world.calls.filter((c) => c === 'delete a-prod').length, 1, 'deleted once');
    assert.equal(world.calls.filter((c) => c.startsWith('delete')).length, 1, 'nothing else deleted');
    await record(handle, 'applicationset.json');
    await handle.terminate('test done');

    const previewHandle = await env.client.workflow.start(applicationSetPreviewWorkflow, {
      taskQueue,
      workflowId: `applicationset-preview/argocd/set-${Date.now()}`,
      args: [
        {
          appSet: {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'ApplicationSet',
            metadata: { name: 'set', namespace: 'argocd' },
            spec: { generators: [], template: {} },
          } as never,
        },
      ],
    });
    const preview = (await previewHandle.result()) as unknown as { applications: KubeObject[] };
    assert.deepEqual(
      preview.applications.map((a) => a.metadata.name),
      ['set-dev'],
    );
    await record(previewHandle, 'applicationset-preview.json');
  });
});
