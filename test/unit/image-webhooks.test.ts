// Registry webhooks: the four payload shapes reduce to images and tags, and the route
// checks the provider's secret before nudging the image workflows of the Applications
// that follow the pushed image (and only those).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { parseRegistryWebhook } from '../../domain/images/webhooks';
import { imageUpdateRoutes } from '../../api/routes/image-updates';
import type { ApiContext } from '../../api/context';

test('Docker Hub, Harbor, Quay and GHCR payloads', () => {
  assert.deepEqual(parseRegistryWebhook({ push_data: { tag: '1.0.1' }, repository: { repo_name: 'me/api-tester' } }), {
    provider: 'docker.io',
    images: [{ registry: 'docker.io', repository: 'me/api-tester', tag: '1.0.1' }],
  });
  assert.deepEqual(
    parseRegistryWebhook({
      type: 'PUSH_ARTIFACT',
      event_data: { resources: [{ tag: 'v2', resource_url: 'harbor.example.com/proj/app:v2' }], repository: { repo_full_name: 'proj/app' } },
    }).images,
    [{ registry: 'harbor.example.com', repository: 'proj/app', tag: 'v2' }],
  );
  assert.deepEqual(parseRegistryWebhook({ repository: 'ns/app', docker_url: 'quay.io/ns/app', updated_tags: ['a', 'b'] }).images, [
    { registry: 'quay.io', repository: 'ns/app', tag: 'a' },
    { registry: 'quay.io', repository: 'ns/app', tag: 'b' },
  ]);
  assert.deepEqual(
    parseRegistryWebhook({
      action: 'published',
      package: { name: 'App', owner: { login: 'Org' }, package_type: 'container', package_version: { container_metadata: { tag: { name: '3.0' } } } },
    }),
    { provider: 'ghcr.io', images: [{ registry: 'ghcr.io', repository: 'org/App', tag: '3.0' }] },
  );
  assert.throws(() => parseRegistryWebhook({ hello: 1 }), /unknown registry webhook payload/);
  assert.throws(() => parseRegistryWebhook({}, 'svn'), /unknown registry webhook type "svn"/);
});

test('POST /api/webhook/registry: secret per provider, then only the Applications following the image are nudged', async () => {
  const signals: string[] = [];
  const client = { workflow: { getHandle: (id: string) => ({ signal: async () => void signals.push(id) }) } } as unknown as Client;
  const apps = [
    { metadata: { namespace: 'argocd', name: 'api', annotations: { 'argocd-image-updater.argoproj.io/image-list': 'a=me/api-tester' } } },
    { metadata: { namespace: 'argocd', name: 'other', annotations: { 'argocd-image-updater.argoproj.io/image-list': 'o=me/other' } } },
    { metadata: { namespace: 'argocd', name: 'plain' } },
  ];
  const secrets: Record<string, string> = { 'webhook.docker-secret': 'd0ck', 'webhook.ghcr-secret': 'gh' };
  const ctx = {
    controlNamespace: 'argocd',
    applications: { list: () => apps },
    kube: { find: async () => ({ data: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) }) },
  } as unknown as ApiContext;
  const app = Fastify();
  app.decorateRequest('rawBody', undefined);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req: FastifyRequest, body: string, done) => {
    (req as { rawBody?: string }).rawBody = body;
    done(null, JSON.parse(body));
  });
  imageUpdateRoutes(client)(app, ctx);
  const hub = { push_data: { tag: '1.0.1' }, repository: { repo_name: 'me/api-tester' } };
  const ok = await app.inject({ method: 'POST', url: '/api/webhook/registry?secret=d0ck', payload: hub });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual(ok.json().nudged, ['argocd/api']);
  assert.deepEqual(signals, ['image-update/argocd/api']);
  assert.equal((await app.inject({ method: 'POST', url: '/api/webhook/registry?secret=wrong', payload: hub })).statusCode, 401);
  const quay = await app.inject({ method: 'POST', url: '/api/webhook/registry', payload: { docker_url: 'quay.io/me/x', updated_tags: ['1'] } });
  assert.equal(quay.statusCode, 503, 'no Quay secret configured: refused');
  const gh = JSON.stringify({
    action: 'published',
    package: { name: 'other', owner: { login: 'me' }, package_version: { container_metadata: { tag: { name: '1' } } } },
  });
  const sig = `sha256=${createHmac('sha256', 'gh').update(gh).digest('hex')}`;
  const ghOk = await app.inject({
    method: 'POST',
    url: '/api/webhook/registry',
    payload: gh,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig },
  });
  assert.equal(ghOk.statusCode, 200);
  assert.deepEqual(ghOk.json().nudged, [], 'ghcr.io/me/other is not docker.io/me/other');
  assert.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/api/webhook/registry',
        payload: gh,
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' },
      })
    ).statusCode,
    401,
  );
  await app.close();
});
