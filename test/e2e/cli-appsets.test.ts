// `sluice appset list | get | generate | delete` and the same HTTP routes, as two local
// accounts: one allowed `applicationsets` in project team, one with no such permission (403,
// exit 4, nothing changed). The ApplicationSet generates one Application inside project
// team's boundaries and one outside them: the first is created, the second is not, and the
// ErrorOccurred condition names it and the rule.
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
import { cliPath } from '../support/paths';
import { createNamespace, eventually, runCommand, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let sluiceNs: string;
let repo: GitFixture;
let sluice: RunningSluice;
let admin: string;
let appsOnly: string;
let dir: string;

const SET = 'team-envs';

function appSetManifest() {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    metadata: { name: SET, namespace: ns },
    spec: {
      generators: [
        {
          list: {
            elements: [
              { env: 'dev', namespace: 'team-dev' },
              // Outside project team's destinations.
              { env: 'system', namespace: 'kube-system' },
            ],
          },
        },
      ],
      template: {
        metadata: { name: 'web-{{env}}' },
        spec: {
          project: 'team',
          source: { repoURL: repo.url, path: 'apps/frontend', targetRevision: 'HEAD' },
          destination: { server: 'https://kubernetes.default.svc', namespace: '{{namespace}}' },
        },
      },
    },
  };
}

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-appsetcli');
  sluiceNs = await createNamespace(stack.kube, 'e2e-appsetcli-sluice');
  await stack.kube.create(Resources.configMap, sluiceNs, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'sluice-cm' },
    data: { 'accounts.appset-admin': 'apiKey', 'accounts.apps-only': 'apiKey' },
  });
  await stack.kube.create(Resources.configMap, sluiceNs, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'sluice-rbac-cm' },
    data: {
      'policy.csv': ['p, appset-admin, applicationsets, *, team/*, allow', 'p, apps-only, applications, *, */*, allow', ''].join('\n'),
    },
  });
  repo = examplesRepo();
  await stack.kube.create(Resources.appProject, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'team', namespace: ns },
    spec: { sourceRepos: [repo.url], destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'team-*' }], sourceNamespaces: [ns] },
  });
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
  admin = (await access.issueToken('appset-admin', 3600)).token;
  appsOnly = (await access.issueToken('apps-only', 3600)).token;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-appsetcli-'));
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await stack?.stop();
});

const cli = (token: string, ...args: string[]) => runCommand(process.execPath, [cliPath, '--server', sluice.apiUrl, '--token', token, ...args]);
const api = (token: string, method: string, url: string, body?: unknown) =>
  fetch(`${sluice.apiUrl}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
const condition = (set: any, type: string) => (set?.status?.conditions ?? []).find((c: any) => c.type === type);

test('generate previews the Applications (the one outside project team as a warning), applying nothing; refused without the permission', async () => {
  const file = path.join(dir, 'set.yaml');
  fs.writeFileSync(file, YAML.stringify(appSetManifest()));
  const out = await cli(admin, 'appset', 'generate', file, '-o', 'json');
  assert.equal(out.code, 0, out.stderr);
  const apps = JSON.parse(out.stdout) as any[];
  assert.deepEqual(apps.map((a) => [a.metadata.name, a.spec.destination.namespace]).sort(), [
    ['web-dev', 'team-dev'],
    ['web-system', 'kube-system'],
  ]);
  assert.match(out.stderr, /warning: Application web-system violates AppProject team: .*'kube-system' do not match any of the allowed destinations/);
  assert.equal((await stack.kube.list(Resources.application, ns)).items.length, 0, 'a preview applies nothing');

  const refused = await cli(appsOnly, 'appset', 'generate', file);
  assert.equal(refused.code, 4, refused.stdout + refused.stderr);
  const http = await api(appsOnly, 'POST', '/api/v1/applicationsets/generate', { applicationSet: appSetManifest() });
  assert.equal(http.status, 403);
});

test('AppProject boundaries: the Application inside them is created, the other is not, and ErrorOccurred names it and the rule', async () => {
  await stack.kube.create(Resources.applicationSet, ns, appSetManifest());
  const set = await eventually(
    'the pass reports the violation',
    async () => {
      const s = await stack.kube.get(Resources.applicationSet, ns, SET);
      return condition(s, 'ErrorOccurred')?.status === 'True' && s;
    },
    90_000,
    500,
  );
  const error = condition(set, 'ErrorOccurred');
  assert.equal(error.reason, 'ApplicationValidationError');
  assert.match(
    error.message,
    /^Application web-system violates AppProject team: application destination server 'https:\/\/kubernetes.default.svc' and namespace 'kube-system'/,
  );
  const names = (await stack.kube.list(Resources.application, ns)).items.map((a) => a.metadata.name);
  assert.deepEqual(names, ['web-dev']);
  assert.equal(condition(set, 'ParametersGenerated').status, 'True');
});

test('list and get show the ApplicationSet to a permitted account; another sees none and gets 403 (exit 4)', async () => {
  await eventually('status.resources lists web-dev', async () => {
    const s = await stack.kube.get(Resources.applicationSet, ns, SET);
    return (s.status?.resources ?? []).some((r: any) => r.name === 'web-dev');
  });
  const listed = await cli(admin, 'appset', 'list', '-n', ns, '-o', 'json');
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout).items, [
    { namespace: ns, name: SET, project: 'team', conditions: ['ErrorOccurred', 'ParametersGenerated'], applications: 1 },
  ]);
  const table = await cli(admin, 'appset', 'list', '-n', ns);
  assert.match(table.stdout, new RegExp(`${ns}\\s+${SET}\\s+team\\s+1\\s+ErrorOccurred,ParametersGenerated`));

  const got = await cli(admin, 'appset', 'get', `${ns}/${SET}`);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /Generators: list/);
  assert.match(got.stdout, /ErrorOccurred\s+True\s+ApplicationValidationError\s+Application web-system violates AppProject team/);
  assert.match(got.stdout, /web-dev/);

  const hidden = await cli(appsOnly, 'appset', 'list', '-n', ns, '-o', 'json');
  assert.equal(hidden.code, 0, hidden.stderr);
  assert.deepEqual(JSON.parse(hidden.stdout).items, []);
  const refused = await cli(appsOnly, 'appset', 'get', SET, '-n', ns);
  assert.equal(refused.code, 4, refused.stdout + refused.stderr);
  assert.equal((await api(appsOnly, 'GET', `/api/v1/namespaces/${ns}/applicationsets/${SET}`)).status, 403);
  assert.equal((await api(admin, 'GET', `/api/v1/namespaces/${ns}/applicationsets/${SET}`)).status, 200);
  assert.equal((await api(appsOnly, 'GET', `/api/v1/applicationsets?namespace=${ns}`)).status, 200);
});

test('delete: refused (403, exit 4) without the permission and nothing changes; with it the ApplicationSet and its Applications go', async () => {
  assert.equal((await api(appsOnly, 'DELETE', `/api/v1/namespaces/${ns}/applicationsets/${SET}`)).status, 403);
  const refused = await cli(appsOnly, 'appset', 'delete', SET, '-n', ns);
  assert.equal(refused.code, 4, refused.stdout + refused.stderr);
  assert.ok(await stack.kube.find(Resources.applicationSet, ns, SET), 'still there');

  const deleted = await cli(admin, 'appset', 'delete', `${ns}/${SET}`);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, new RegExp(`applicationset ${ns}/${SET} deleted`));
  await eventually(
    'the ApplicationSet and web-dev are gone',
    async () => {
      const set = await stack.kube.find(Resources.applicationSet, ns, SET);
      const apps = (await stack.kube.list(Resources.application, ns)).items;
      return !set && apps.length === 0;
    },
    120_000,
    500,
  );
  assert.equal((await cli(admin, 'appset', 'get', SET, '-n', ns)).code !== 0, true);
});
