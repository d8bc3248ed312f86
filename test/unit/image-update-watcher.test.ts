// When the application watcher starts or wakes an image-update workflow: a start when an
// Application asks for image updates, a wake-up when its annotations change, and nothing at
// all for the Applications that never asked (with image updates on by default, a signal
// per Application would be a wasted call to Temporal for most of a fleet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { ApplicationWatcher } from '../../worker/application-watcher';
import type { KubeClient, KubeObject } from '../../k8s/kube-client';

const IMAGE_LIST = 'argocd-image-updater.argoproj.io/image-list';

function app(name: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'shop', annotations },
    spec: { project: 'default' },
  } as KubeObject;
}

function watcher() {
  const calls: string[] = [];
  const client = {
    workflow: {
      signalWithStart: async (_wf: unknown, o: { workflowId: string }) => {
        if (o.workflowId.startsWith('image-update/')) calls.push(`start ${o.workflowId}`);
      },
      getHandle: (id: string) => ({
        signal: async () => {
          if (id.startsWith('image-update/')) calls.push(`signal ${id}`);
        },
      }),
    },
  } as unknown as Client;
  const w = new ApplicationWatcher({
    kube: {} as KubeClient,
    client,
    taskQueue: 'main',
    useSearchAttributes: false,
    log: () => undefined,
    imageUpdates: {},
  });
  const inner = w as unknown as { onApplication(type: string, app: KubeObject, listed?: boolean): void };
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { calls, see: (type: string, a: KubeObject) => inner.onApplication(type, a), settle, stop: () => w.stop() };
}

test('Applications that never ask for image updates cost no call to Temporal', async () => {
  const w = watcher();
  w.see('ADDED', app('web'));
  w.see('MODIFIED', app('web', { team: 'a' }));
  w.see('DELETED', app('web', { team: 'a' }));
  await w.settle();
  assert.deepEqual(w.calls, []);
  w.stop();
});

test('a start when image-list appears, a wake-up when it changes or goes, none when nothing changed', async () => {
  const w = watcher();
  const id = 'image-update/shop/api';
  w.see('ADDED', app('api', { [IMAGE_LIST]: 'api=registry.local/api' }));
  await w.settle();
  w.see('MODIFIED', app('api', { [IMAGE_LIST]: 'api=registry.local/api' }));
  await w.settle();
  w.see('MODIFIED', app('api', { [IMAGE_LIST]: 'api=registry.local/api:~1.2' }));
  await w.settle();
  w.see('MODIFIED', app('api'));
  await w.settle();
  w.see('MODIFIED', app('api', { other: 'x' }));
  await w.settle();
  assert.deepEqual(w.calls, [`start ${id}`, `start ${id}`, `signal ${id}`]);
  w.stop();
});
