// The four example ApplicationSets against a real git repository laid out like the examples
// (plus the nginx-chart Helm chart nginx-multi-env expects): the Applications the examples'
// README lists appear, sync and become Healthy; a directory added under apps/ adds
// Applications and a removed one deletes them; the remote gone fails generation and deletes
// nothing, and it recovers when the remote returns.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { startGitOpsSluice } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;

const NGINX_CHART = {
  'nginx-chart/Chart.yaml': 'apiVersion: v2\nname: nginx-chart\nversion: 0.1.0\n',
  'nginx-chart/values.yaml': 'replicaCount: 1\nenvironment: none\n',
  'nginx-chart/templates/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: nginx',
    '  labels: {environment: {{ .Values.environment | quote }}}',
    'spec:',
    '  replicas: {{ .Values.replicaCount }}',
    '  selector: {matchLabels: {app: nginx}}',
    '  template:',
    '    metadata: {labels: {app: nginx}}',
    '    spec:',
    '      containers: [{name: nginx, image: "nginx:1.26.1"}]',
    '',
  ].join('\n'),
};

/** The example with its repository pointed at the fixture, in the test's namespace. */
function exampleAppSet(file: string): any {
  const set = parse(fs.readFileSync(path.join(repo.dir, 'applicationsets', file), 'utf8'));
  set.metadata.namespace = ns;
  const point = (g: any) => {
    if (g.git) g.git.repoURL = repo.url;
    for (const child of g.matrix?.generators ?? []) point(child);
  };
  for (const g of set.spec.generators) point(g);
  set.spec.template.spec.source.repoURL = repo.url;
  return set;
}

async function applications(): Promise<Map<string, any>> {
  const { items } = await stack.kube.list(Resources.application, ns);
  return new Map(items.map((a) => [a.metadata.name, a]));
}

async function appSetStatus(name: string): Promise<any> {
  return (await stack.kube.get(Resources.applicationSet, ns, name)).status ?? {};
}

const condition = (status: any, type: string) => (status.conditions ?? []).find((c: any) => c.type === type);

async function refresh(name: string) {
  await stack.kube.patch(Resources.applicationSet, ns, name, { metadata: { annotations: { 'argocd.argoproj.io/application-set-refresh': 'true' } } });
}

const EXPECTED: Record<string, { set: string; namespace: string }> = {};
for (const env of ['dev', 'staging', 'prod']) {
  EXPECTED[`nginx-${env}`] = { set: 'nginx-multi-env', namespace: `${env}-nginx` };
  EXPECTED[`myapp-${env}`] = { set: 'myapp-all-envs', namespace: env };
  for (const app of ['frontend', 'backend', 'database']) EXPECTED[`${app}-${env}`] = { set: 'matrix-apps-envs', namespace: `${env}-${app}` };
}
for (const app of ['frontend', 'backend', 'database']) EXPECTED[app] = { set: 'monorepo-apps', namespace: app };

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'appsets');
  repo = examplesRepo();
  repo.commit('the nginx chart', NGINX_CHART);
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

test('the four examples: the Applications the README lists, owned by their ApplicationSet, Synced and Healthy', async () => {
  for (const file of ['nginx-multi-env.yaml', 'monorepo-apps.yaml', 'matrix-apps-envs.yaml', 'myapp-all-envs.yaml']) {
    await stack.kube.create(Resources.applicationSet, ns, exampleAppSet(file));
  }
  const apps = await eventually(
    'all 18 Applications exist',
    async () => {
      const a = await applications();
      return Object.keys(EXPECTED).every((n) => a.has(n)) && a;
    },
    120_000,
    500,
  );
  assert.equal(apps.size, 18);
  for (const [name, want] of Object.entries(EXPECTED)) {
    const app = apps.get(name);
    assert.equal(app.spec.destination.namespace, want.namespace, name);
    assert.deepEqual(
      app.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.controller]),
      [['ApplicationSet', want.set, true]],
      name,
    );
  }
  assert.deepEqual(apps.get('nginx-prod').spec.source.helm.valueFiles, ['../environments/prod/values.yaml']);
  const started = Date.now();
  await eventually(
    'all 18 Synced and Healthy',
    async () => {
      const a = await applications();
      const pending = [...a.values()].filter((x) => !(x.status?.sync?.status === 'Synced' && x.status?.health?.status === 'Healthy'));
      return pending.length === 0;
    },
    300_000,
    1000,
  );
  console.log(`18 Applications Synced and Healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const prod = await stack.kube.get(Resources.deployment, 'prod-nginx', 'nginx');
  assert.equal(prod.spec.replicas, 3);
  assert.equal((await stack.kube.get(Resources.deployment, 'staging', 'staging-myapp')).spec.replicas, 2);
  const status = await eventually('monorepo-apps status is written', async () => {
    const s = await appSetStatus('monorepo-apps');
    return condition(s, 'ResourcesUpToDate')?.status === 'True' && (s.resources ?? []).length === 3 && s;
  });
  assert.equal(condition(status, 'ErrorOccurred').status, 'False');
  assert.equal(condition(status, 'ParametersGenerated').status, 'True');
});

test('a directory added under apps/ adds Applications; a removed one deletes them', async () => {
  repo.commit('a cache app', {
    'apps/cache/deployment.yaml': fs.readFileSync(path.join(repo.dir, 'apps/frontend/deployment.yaml'), 'utf8').replace(/frontend/g, 'cache'),
  });
  await refresh('monorepo-apps');
  await refresh('matrix-apps-envs');
  await eventually(
    'cache Applications exist',
    async () => {
      const a = await applications();
      return ['cache', 'cache-dev', 'cache-staging', 'cache-prod'].every((n) => a.has(n));
    },
    60_000,
    500,
  );
  repo.commit('no more database', { 'apps/database/deployment.yaml': null });
  await refresh('monorepo-apps');
  await refresh('matrix-apps-envs');
  await eventually(
    'database Applications are gone',
    async () => {
      const a = await applications();
      return !['database', 'database-dev', 'database-staging', 'database-prod'].some((n) => a.has(n));
    },
    120_000,
    500,
  );
  const a = await applications();
  assert.ok(['cache', 'frontend', 'backend', 'cache-dev', 'frontend-prod'].every((n) => a.has(n)));
});

test('the git remote gone: ErrorOccurred, every Application still there; remote back: recovers', async () => {
  const before = [...(await applications()).keys()].sort();
  fs.renameSync(repo.dir, `${repo.dir}.away`);
  try {
    await refresh('monorepo-apps');
    await refresh('matrix-apps-envs');
    const failing = await eventually(
      'monorepo-apps reports the error',
      async () => {
        const s = await appSetStatus('monorepo-apps');
        return condition(s, 'ErrorOccurred')?.status === 'True' && s;
      },
      60_000,
      500,
    );
    console.log('remote gone:', condition(failing, 'ErrorOccurred').message);
    await eventually(
      'matrix-apps-envs reports the error',
      async () => condition(await appSetStatus('matrix-apps-envs'), 'ErrorOccurred')?.status === 'True',
      60_000,
      500,
    );
    // Several passes later, nothing was deleted.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual([...(await applications()).keys()].sort(), before);
  } finally {
    fs.renameSync(`${repo.dir}.away`, repo.dir);
  }
  await refresh('monorepo-apps');
  await eventually('monorepo-apps recovers', async () => condition(await appSetStatus('monorepo-apps'), 'ErrorOccurred')?.status === 'False', 60_000, 500);
  assert.deepEqual([...(await applications()).keys()].sort(), before);
});

test('RollingSync: dev, then staging, then prod, each only after the previous is Healthy, each synced once', async () => {
  const envs = ['dev', 'staging', 'prod'];
  await stack.kube.create(Resources.applicationSet, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: 'rolling', namespace: ns },
    spec: {
      generators: [{ list: { elements: envs.map((env) => ({ env })) } }],
      strategy: { type: 'RollingSync', rollingSync: { steps: envs.map((env) => ({ matchExpressions: [{ key: 'env', operator: 'In', values: [env] }] })) } },
      template: {
        metadata: { name: 'rs-{{env}}', labels: { env: '{{env}}' } },
        spec: {
          project: 'default',
          source: { repoURL: repo.url, targetRevision: 'HEAD', path: 'apps/frontend' },
          destination: { server: 'https://kubernetes.default.svc', namespace: 'rs-{{env}}' },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
        },
      },
    },
  });
  const done = await eventually(
    'all three Healthy in status.applicationStatus',
    async () => {
      const st = await appSetStatus('rolling');
      return (st.applicationStatus ?? []).length === 3 && st.applicationStatus.every((a: any) => a.status === 'Healthy') && st;
    },
    180_000,
    1000,
  );
  assert.deepEqual(
    done.applicationStatus.map((a: any) => [a.application, a.step]),
    [
      ['rs-dev', '1'],
      ['rs-prod', '3'],
      ['rs-staging', '2'],
    ],
  );
  assert.equal(condition(done, 'RolloutProgressing').status, 'False');
  const apps = await applications();
  const op = (env: string) => apps.get(`rs-${env}`).status.operationState;
  for (const env of envs) {
    assert.equal(apps.get(`rs-${env}`).spec.syncPolicy.automated, undefined, 'the ApplicationSet decides when they sync');
    assert.equal(op(env).operation.initiatedBy.username, 'applicationset-controller');
    assert.equal((apps.get(`rs-${env}`).status.history ?? []).length, 1, `rs-${env} synced once`);
  }
  assert.ok(op('staging').startedAt >= op('dev').finishedAt, `staging started ${op('staging').startedAt} before dev finished ${op('dev').finishedAt}`);
  assert.ok(op('prod').startedAt >= op('staging').finishedAt, `prod started ${op('prod').startedAt} before staging finished ${op('staging').finishedAt}`);
});

test('deleting an ApplicationSet deletes its Applications', async () => {
  await stack.kube.delete(Resources.applicationSet, ns, 'myapp-all-envs');
  await eventually(
    'myapp Applications are gone',
    async () => {
      const a = await applications();
      return !['myapp-dev', 'myapp-staging', 'myapp-prod'].some((n) => a.has(n));
    },
    120_000,
    500,
  );
});
