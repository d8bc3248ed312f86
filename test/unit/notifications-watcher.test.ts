// When the application watcher starts or wakes a notifications workflow: not while no
// subscribed trigger holds (a new Application costs nothing until it deploys), a start with
// the first holding condition, a wake-up per change of what the subscribed triggers see and
// none for other status writes, a plain signal (never a start) for a listed Application
// whose workflow may predate the process; and, during a burst of syncs, later.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationWatcher } from '../../worker/application-watcher';
import type { KubeClient, KubeObject } from '../../k8s/kube-client';
import { parseNotificationConfig } from '../../domain/notifications/config';

const SUBSCRIBE = { 'notifications.argoproj.io/subscribe.on-deployed.hook': '' };

function app(name: string, status: Record<string, unknown> | undefined, annotations: Record<string, string> = SUBSCRIBE): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'shop', annotations },
    spec: { project: 'default' },
    status,
  } as KubeObject;
}
const synced = (revision: string, phase = 'Succeeded', health = 'Healthy') => ({
  sync: { status: 'Synced', revision },
  health: { status: health },
  operationState: { phase, syncResult: { revision } },
});

function watcher(deferral?: { whileSyncing: number; maxDelayMs: number }) {
  const calls: string[] = [];
  const existing = new Set<string>();
  const client = {
    workflow: {
      signalWithStart: async (_wf: unknown, o: { workflowId: string; taskQueue: string }) => {
        existing.add(o.workflowId);
        if (o.workflowId.startsWith('notifications/')) calls.push(`start ${o.workflowId} on ${o.taskQueue}`);
      },
      getHandle: (id: string) => ({
        signal: async () => {
          if (!id.startsWith('notifications/')) return;
          if (!existing.has(id)) {
            calls.push(`signal ${id}: not found`);
            throw new WorkflowNotFoundError('not found', id, undefined);
          }
          calls.push(`signal ${id}`);
        },
      }),
    },
  } as unknown as Client;
  const w = new ApplicationWatcher({
    kube: {} as KubeClient,
    client,
    taskQueue: 'main',
    notificationsTaskQueue: 'notes',
    useSearchAttributes: false,
    log: () => undefined,
    notifications: true,
    ...(deferral ? { notificationsDeferral: deferral } : {}),
  });
  const inner = w as unknown as {
    configsListed: boolean;
    notificationConfigs: Map<string, unknown>;
    onApplication(type: string, app: KubeObject, listed?: boolean): void;
  };
  inner.notificationConfigs.set('shop', parseNotificationConfig({ 'service.webhook.hook': 'url: http://127.0.0.1:1\n' }));
  inner.configsListed = true;
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { calls, existing, see: (type: string, a: KubeObject, listed = false) => inner.onApplication(type, a, listed), settle, stop: () => w.stop() };
}

test('no workflow until a subscribed trigger holds; one wake-up per change of what it sees', async () => {
  const w = watcher();
  const id = 'notifications/shop/web';
  w.see('ADDED', app('web', undefined));
  w.see('MODIFIED', app('web', { sync: { status: 'OutOfSync' }, health: { status: 'Missing' } }));
  w.see('MODIFIED', app('web', { ...synced('r1', 'Running', 'Progressing') }));
  w.see('ADDED', app('other', synced('r1')), false);
  await w.settle();
  w.see('MODIFIED', app('other', synced('r1'), {})); // no longer subscribed: a started workflow still hears of it
  await w.settle();
  assert.deepEqual(w.calls, ['start notifications/shop/other on notes', 'signal notifications/shop/other'], 'nothing for web until on-deployed holds');
  w.calls.length = 0;
  w.see('MODIFIED', app('web', synced('r1')));
  await w.settle();
  w.see('MODIFIED', app('web', { ...synced('r1'), reconciledAt: 'later' })); // the same to on-deployed
  w.see('MODIFIED', app('web', { ...synced('r1'), sync: { status: 'OutOfSync', revision: 'r1' } }));
  await w.settle();
  assert.deepEqual(w.calls, [`start ${id} on notes`]);
  w.see('MODIFIED', app('web', synced('r2')));
  await w.settle();
  w.see('MODIFIED', app('web', synced('r2', 'Running', 'Progressing'))); // stops holding: the workflow must know
  await w.settle();
  assert.deepEqual(w.calls, [`start ${id} on notes`, `start ${id} on notes`, `signal ${id}`]);
  await w.stop();
});

test('a listed Application whose triggers do not hold is signalled, never started, and forgotten when no workflow runs', async () => {
  const w = watcher();
  w.existing.add('notifications/shop/old');
  w.see('ADDED', app('old', synced('r1', 'Running', 'Progressing')), true);
  w.see('ADDED', app('new', synced('r1', 'Running', 'Progressing')), true);
  await w.settle();
  assert.deepEqual(w.calls.sort(), ['signal notifications/shop/new: not found', 'signal notifications/shop/old']);
  w.see('MODIFIED', app('new', { ...synced('r1', 'Failed', 'Degraded'), reconciledAt: 'later' })); // still nothing holds: no workflow, no call
  await w.settle();
  w.see('MODIFIED', app('new', synced('r1')));
  await w.settle();
  assert.deepEqual(w.calls.slice(2), ['start notifications/shop/new on notes']);
  await w.stop();
});

test('during a burst of syncs a start waits until the burst is over, or at most maxDelayMs', async () => {
  const w = watcher({ whileSyncing: 2, maxDelayMs: 60_000 });
  w.see('ADDED', app('a', undefined));
  w.see('ADDED', app('b', undefined));
  w.see('MODIFIED', app('c', synced('r1')));
  await w.settle();
  assert.deepEqual(w.calls, [], 'two Applications not compared yet: c waits');
  w.see('MODIFIED', app('a', synced('r1', 'Running', 'Progressing')));
  w.see('MODIFIED', app('b', synced('r1', 'Failed', 'Degraded')));
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(w.calls, ['start notifications/shop/c on notes'], 'one left syncing: the burst is over');
  await w.stop();
  const quick = watcher({ whileSyncing: 1, maxDelayMs: 100 });
  quick.see('ADDED', app('a', undefined));
  quick.see('MODIFIED', app('c', synced('r1')));
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(quick.calls, ['start notifications/shop/c on notes'], 'waited at most maxDelayMs');
  await quick.stop();
});

test('after a burst the held starts go out a few at a time, not all at once', async () => {
  const w = watcher({ whileSyncing: 1, maxDelayMs: 60_000 });
  w.see('ADDED', app('busy', undefined));
  for (let i = 0; i < 40; i++) w.see('MODIFIED', app(`app-${i}`, synced('r1')));
  await w.settle();
  assert.deepEqual(w.calls, [], 'held while busy is not compared');
  w.see('MODIFIED', app('busy', synced('r1', 'Failed', 'Degraded')));
  const deadline = Date.now() + 30_000;
  while (w.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const first = w.calls.length;
  assert.ok(first > 0 && first <= 20, `the first look after the burst saw ${first} starts (10 go out per 250 ms)`);
  while (w.calls.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(w.calls.length, 40, 'all go out in the end');
  assert.equal(new Set(w.calls).size, 40, 'each once');
  await w.stop();
});
