// AppProject boundaries on Applications: a project that allows the repository, the
// test's namespace and only Deployments syncs apps/frontend, and refuses a ConfigMap, a
// repository it does not list and a cluster Sluice does not know, each with Argo CD's message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, describeStatus, startGitOpsSluice } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-proj');
  repo = examplesRepo();
  repo.commit('a ConfigMap app', { 'config-only/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-allowed\ndata:\n  a: "1"\n' });
  await stack.kube.create(Resources.appProject, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'team-frontend', namespace: ns },
    spec: {
      sourceRepos: [repo.url],
      destinations: [{ server: 'https://kubernetes.default.svc', namespace: ns }],
      namespaceResourceWhitelist: [{ group: 'apps', kind: 'Deployment' }],
    },
  });
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

function application(name: string, path: string, extra: { repoURL?: string; server?: string } = {}) {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project: 'team-frontend',
      source: { repoURL: extra.repoURL ?? repo.url, targetRevision: 'HEAD', path },
      destination: { server: extra.server ?? 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy: { automated: { prune: true } },
    },
  };
}

async function comparisonError(name: string): Promise<string> {
  const s = await eventually(
    `${name} has a ComparisonError`,
    async () => {
      const st = await applicationStatus(stack, ns, name);
      return st.conditions?.length ? st : undefined;
    },
    30_000,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, name))}`);
  });
  return s.conditions[0].message;
}

test('a permitted app syncs; a kind, a repository or a cluster outside the project is refused with a message', async () => {
  await stack.kube.create(Resources.application, ns, application('frontend-app', 'apps/frontend'));
  await stack.kube.create(Resources.application, ns, application('configmap-app', 'config-only'));
  await stack.kube.create(Resources.application, ns, application('other-repo', 'apps/frontend', { repoURL: 'https://git.example.com/devops/elsewhere' }));
  await stack.kube.create(Resources.application, ns, application('other-cluster', 'apps/frontend', { server: 'https://10.0.0.1:6443' }));

  await eventually('frontend-app is Synced', async () => (await applicationStatus(stack, ns, 'frontend-app')).sync?.status === 'Synced', 60_000);
  const kind = await comparisonError('configmap-app');
  const repoRefused = await comparisonError('other-repo');
  const cluster = await comparisonError('other-cluster');
  console.log('refused:', kind, '|', repoRefused, '|', cluster);
  assert.match(kind, /ConfigMap\/not-allowed: resource :ConfigMap is not permitted in project team-frontend/);
  assert.match(repoRefused, /application repo https:\/\/git\.example\.com\/devops\/elsewhere is not permitted in project 'team-frontend'/);
  assert.match(cluster, /there are no clusters with this URL: https:\/\/10\.0\.0\.1:6443/);
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'not-allowed'), undefined);
});
