// A GitHub push webhook, signed with webhook.github.secret from argocd-secret, refreshes
// the Application that follows the pushed branch: the new commit is synced within seconds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, startGitOpsSluice } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';

const SECRET = 'webhook-test-secret';
let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;
let createdSecret = false;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-hook');
  repo = examplesRepo();
  if (!(await stack.kube.find(Resources.namespace, undefined, 'argocd'))) {
    await stack.kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } }).catch(() => undefined);
  }
  await stack.kube.create(Resources.secret, 'argocd', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'argocd-secret' },
    stringData: { 'webhook.github.secret': SECRET },
  });
  createdSecret = true;
  // A long reconcile period: only the webhook can explain a quick sync.
  sluice = await startGitOpsSluice(stack, ns, { reconcileMs: 300_000 });
});

after(async () => {
  await sluice?.stop();
  if (createdSecret) await stack.kube.delete(Resources.secret, 'argocd', 'argocd-secret').catch(() => undefined);
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

async function postWebhook(body: string, signature: string): Promise<Response> {
  return fetch(`${sluice.apiUrl}/api/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-hub-signature-256': signature },
    body,
  });
}

test('a signed GitHub push webhook syncs the new commit within seconds; a bad signature is refused', async () => {
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'frontend', namespace: ns },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path: 'apps/frontend' },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy: { automated: { prune: true } },
    },
  });
  await eventually('frontend is Synced', async () => (await applicationStatus(stack, ns, 'frontend')).sync?.status === 'Synced', 60_000);

  const text = fs.readFileSync(`${repo.dir}/apps/frontend/deployment.yaml`, 'utf8');
  const sha = repo.commit('frontend: nginx 1.27.0', { 'apps/frontend/deployment.yaml': text.replace('nginx:1.26.1', 'nginx:1.27.0') });
  const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { clone_url: repo.url, default_branch: 'main' } });

  const refused = await postWebhook(body, 'sha256=' + '0'.repeat(64));
  assert.equal(refused.status, 401);

  const sent = Date.now();
  const res = await postWebhook(body, `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { refreshed: [`${ns}/frontend`] });
  await eventually(
    'the Deployment runs the pushed image',
    async () => (await stack.kube.get<any>(Resources.deployment, ns, 'frontend')).spec.template.spec.containers[0].image === 'nginx:1.27.0',
    10_000,
    50,
  ).catch(async (err) => {
    const d = await stack.kube.get<any>(Resources.deployment, ns, 'frontend');
    throw new Error(`${err.message}; image ${d.spec.template.spec.containers[0].image}; ${Date.now() - sent} ms`);
  });
  const took = Date.now() - sent;
  console.log(`pushed commit applied ${took} ms after the webhook`);
  assert.ok(took < 5000, `took ${took} ms`);
});

test("a push to any of a multi-source app's repositories refreshes it", async () => {
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'multi', namespace: ns },
    spec: {
      project: 'default',
      sources: [
        { repoURL: 'https://git.example.com/not-this-one', targetRevision: 'main', path: 'x' },
        { repoURL: repo.url, targetRevision: 'main', ref: 'values' },
      ],
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    },
  });
  const body = JSON.stringify({ ref: 'refs/heads/main', after: repo.head(), repository: { clone_url: repo.url, default_branch: 'main' } });
  const res = await postWebhook(body, `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
  assert.equal(res.status, 200);
  const { refreshed } = (await res.json()) as { refreshed: string[] };
  assert.ok(refreshed.includes(`${ns}/multi`), JSON.stringify(refreshed));
});
