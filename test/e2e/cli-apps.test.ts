// The app commands of the CLI, as a local account restricted by the shared examples'
// per-user policy (argocd-rbac-cm.users.yaml): frontend-dev syncs, diffs, refreshes
// and rolls back frontend-app for real, and is refused (exit 4) on backend-app.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { Resources } from '../../k8s/kube-client';
import { AccessControl } from '../../api/auth/access-control';
import { configFromEnv } from '../../worker/config';
import { startSluice, type RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, describeStatus } from '../support/gitops';
import { cliPath, examplesDir } from '../support/paths';
import { createNamespace, eventually, runCommand, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let sluiceNs: string;
let repo: GitFixture;
let sluice: RunningSluice;
let frontendDev: string;

const configMap = (version: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frontend-settings' }, data: { version } });

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-appcli');
  sluiceNs = await createNamespace(stack.kube, 'e2e-appcli-sluice');
  const example = (file: string) => YAML.parse(fs.readFileSync(path.join(examplesDir, 'projects', file), 'utf8')).data as Record<string, string>;
  await stack.kube.create(Resources.configMap, sluiceNs, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'sluice-cm' },
    data: example('argocd-cm-accounts.yaml'),
  });
  await stack.kube.create(Resources.configMap, sluiceNs, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'sluice-rbac-cm' },
    data: example('argocd-rbac-cm.users.yaml'),
  });

  // The two projects, open enough for this repository and namespace (boundaries are not what this file tests).
  for (const project of ['team-frontend', 'team-backend']) {
    await stack.kube.create(Resources.appProject, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AppProject',
      metadata: { name: project, namespace: ns },
      spec: {
        sourceRepos: ['*'],
        destinations: [{ server: '*', namespace: '*' }],
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
        sourceNamespaces: [ns],
      },
    });
  }
  repo = examplesRepo();
  repo.commit('frontend settings v1', { 'frontend-cfg/config.json': configMap('one') });
  for (const [name, project] of [
    ['frontend-app', 'team-frontend'],
    ['backend-app', 'team-backend'],
  ]) {
    await stack.kube.create(Resources.application, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name, namespace: ns },
      spec: {
        project,
        source: { repoURL: repo.url, path: 'frontend-cfg', targetRevision: 'HEAD' },
        destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      },
    });
  }

  process.env.SLUICE_HOME ??= fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-home-'));
  sluice = await startSluice(
    {
      ...configFromEnv({}),
      temporalAddress: stack.temporalAddress,
      taskQueue: `sluice-${ns}`,
      watchNamespace: ns,
      apiPort: 0,
      sluiceNamespace: sluiceNs,
      applicationTimings: { reconcileMs: 60_000, jitterMs: 0, hookTimeoutMs: 30_000, waveTimeoutMs: 30_000 },
    },
    stack.kube,
    () => undefined,
  );
  const access = new AccessControl(stack.kube, sluiceNs);
  frontendDev = (await access.issueToken('frontend-dev', 3600)).token;
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack?.stop();
});

const cli = (...args: string[]) => runCommand(process.execPath, [cliPath, '--server', sluice.apiUrl, '--token', frontendDev, ...args]);
const settings = () => stack.kube.find<{ data?: Record<string, string> }>(Resources.configMap, ns, 'frontend-settings');

test('app create: frontend-dev creates within team-frontend; outside its destinations or in team-backend it is refused', async () => {
  // A namespace no Sluice watches: creation is the API's business here, not reconciliation.
  const other = await createNamespace(stack.kube, 'e2e-appcli-create');
  for (const file of ['team-frontend.yaml', 'team-backend.yaml']) {
    const project = YAML.parse(fs.readFileSync(path.join(examplesDir, 'projects', file), 'utf8'));
    // Outside the control-plane namespace an Application needs its project to list that namespace (Argo's sourceNamespaces).
    await stack.kube.create(Resources.appProject, other, {
      ...project,
      metadata: { name: project.metadata.name, namespace: other },
      spec: { ...project.spec, sourceNamespaces: [other] },
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-appcli-'));
  const write = (file: string, name: string, project: string, destination: string) => {
    const p = path.join(dir, file);
    fs.writeFileSync(
      p,
      YAML.stringify({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name, namespace: other },
        spec: {
          project,
          source: { repoURL: 'https://git.example.com/devops/ops-deploy', path: 'apps/frontend', targetRevision: 'HEAD' },
          destination: { server: 'https://kubernetes.default.svc', namespace: destination },
        },
      }),
    );
    return p;
  };
  const ok = await cli('app', 'create', '-f', write('ok.yaml', 'frontend-preview', 'team-frontend', 'frontend-preview'));
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /application .*\/frontend-preview created/);
  assert.equal((await stack.kube.get(Resources.application, other, 'frontend-preview')).spec.destination.namespace, 'frontend-preview');
  const outside = await cli('app', 'create', '-f', write('outside.yaml', 'frontend-stray', 'team-frontend', 'backend-dev'));
  assert.equal(outside.code, 1);
  assert.match(outside.stderr, /refused by AppProject team-frontend: .*'backend-dev' do not match any of the allowed destinations/);
  const foreign = await cli('app', 'create', '-f', write('foreign.yaml', 'sneaky', 'team-backend', 'backend-dev'));
  assert.equal(foreign.code, 4);
  assert.equal(await stack.kube.find(Resources.application, other, 'sneaky'), undefined, 'nothing was written');
  await stack.kube.delete(Resources.namespace, undefined, other);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('frontend-dev syncs, diffs, refreshes and rolls back frontend-app from the CLI, and may not sync backend-app', async () => {
  const listed = await cli('app', 'list', '-n', ns);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /backend-app\s+team-backend/, 'policy.default role:readonly shows every app');
  assert.match(listed.stdout, /frontend-app\s+team-frontend/);

  await eventually(
    'frontend-app is compared (OutOfSync)',
    async () => (await applicationStatus(stack, ns, 'frontend-app')).sync?.status === 'OutOfSync',
    60_000,
    250,
  ).catch(async (err) => assert.fail(`${err.message}: ${describeStatus(await applicationStatus(stack, ns, 'frontend-app'))}`));
  const diffBefore = await cli('app', 'diff', 'frontend-app', '-n', ns);
  assert.equal(diffBefore.code, 1, `diff exits 1 when live differs from Git: ${diffBefore.stderr}`);
  assert.match(diffBefore.stdout, /frontend-settings/);

  const synced = await cli('app', 'sync', 'frontend-app', '-n', ns);
  assert.equal(synced.code, 0, synced.stderr);
  await eventually(
    'frontend-app is Synced with the ConfigMap applied',
    async () => {
      const st = await applicationStatus(stack, ns, 'frontend-app');
      return st.sync?.status === 'Synced' && st.operationState?.phase === 'Succeeded' && (await settings())?.data?.version === 'one';
    },
    60_000,
    250,
  ).catch(async (err) => assert.fail(`${err.message}: ${describeStatus(await applicationStatus(stack, ns, 'frontend-app'))}`));
  const diffAfter = await cli('app', 'diff', 'frontend-app', '-n', ns);
  assert.equal(diffAfter.code, 0, diffAfter.stdout + diffAfter.stderr);
  assert.equal(diffAfter.stdout, '');

  const got = await cli('app', 'get', `${ns}/frontend-app`);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /^Sync Status:\s+Synced/m);

  const canI = await cli('account', 'can-i', 'sync', 'applications', `team-backend/${ns}/backend-app`);
  assert.equal(canI.code, 1);
  assert.equal(canI.stdout.trim(), 'no');

  const refused = await cli('app', 'sync', 'backend-app', '-n', ns);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /permission denied: account frontend-dev may not sync applications team-backend\/.*backend-app/);
  assert.equal((await cli('app', 'terminate-op', 'backend-app', '-n', ns)).code, 4);

  // A second revision, then a rollback to the first from history.
  repo.commit('frontend settings v2', { 'frontend-cfg/config.json': configMap('two') });
  const refreshed = await cli('app', 'refresh', 'frontend-app', '-n', ns);
  assert.equal(refreshed.code, 0, refreshed.stderr);
  await eventually(
    'frontend-app sees the new commit',
    async () => (await applicationStatus(stack, ns, 'frontend-app')).sync?.status === 'OutOfSync',
    30_000,
    250,
  );
  assert.equal((await cli('app', 'sync', 'frontend-app', '-n', ns)).code, 0);
  await eventually('version two is live', async () => (await settings())?.data?.version === 'two', 60_000, 250);
  await eventually('the second sync is in history', async () => {
    const h = await cli('app', 'history', 'frontend-app', '-n', ns, '-o', 'json');
    return JSON.parse(h.stdout).items.length === 2;
  });
  const history = JSON.parse((await cli('app', 'history', 'frontend-app', '-n', ns, '-o', 'json')).stdout).items as { id: number; revision: string }[];
  const first = history.find((h) => h.revision !== repo.head())!;
  const rolledBack = await cli('app', 'rollback', 'frontend-app', String(first.id), '-n', ns);
  assert.equal(rolledBack.code, 0, rolledBack.stderr);
  await eventually('version one is live again', async () => (await settings())?.data?.version === 'one', 60_000, 250);
});
