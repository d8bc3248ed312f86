// Destinations on another cluster: a second control plane (etcd + kube-apiserver only)
// started by the test, registered as Argo CD cluster Secrets (one with a ServiceAccount
// bearer token, one with a client certificate), and Applications that sync into it by
// destination.name and by destination.server: the objects appear in the second apiserver,
// not the first, and the compare, health and prune read them there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeClient } from '../../k8s/kube-client';
import { startLocalCluster, type LocalCluster } from '../../stack/local-cluster';
import { ensureTools } from '../../stack/toolchain';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { applicationStatus, describeStatus, startGitOpsSluice } from '../support/gitops';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';
import { ensureAdminToken } from '../support/api-token';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;
let remote: LocalCluster;
let remoteDir: string;
let token: string;
const secrets: string[] = [];
const CONTROL_PLANE = 'argocd';

const FILES = {
  'remote/settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote-settings\ndata:\n  where: remote\n',
  'remote/old.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote-old\ndata:\n  prune: me\n',
  'remote/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: remote-svc\nspec:\n  ports:\n    - port: 80\n  selector:\n    app: remote\n',
  'remote-by-url/settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: by-url-settings\ndata:\n  where: remote\n',
  'remote-web/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: remote-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: remote-web}
  template:
    metadata:
      labels: {app: remote-web}
    spec:
      containers:
        - name: web
          image: nginx:1.27.0
`,
};

const sa = { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true };
const crb = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false };

async function ensureNamespace(kube: KubeClient, name: string) {
  if (!(await kube.find(Resources.namespace, undefined, name)))
    await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function registerCluster(secretName: string, data: Record<string, string>) {
  await stack.kube.create(Resources.secret, CONTROL_PLANE, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: CONTROL_PLANE, labels: { 'argocd.argoproj.io/secret-type': 'cluster' } },
    stringData: data,
  });
  secrets.push(secretName);
}

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-clusters');
  remoteDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-remote-cluster-'));
  remote = await startLocalCluster({ stateDir: remoteDir, tools: await ensureTools(() => undefined), etcdNoFsync: true, controlPlaneOnly: true });
  // A deployer ServiceAccount in the second cluster, bound to cluster-admin, and a token for it.
  await ensureNamespace(remote.kube, ns);
  await remote.kube.create(sa, 'kube-system', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sluice-deployer' } });
  await remote.kube.create(crb, undefined, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'sluice-deployer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'sluice-deployer', namespace: 'kube-system' }],
  });
  const issued = await remote.kube.request<any>('POST', '/api/v1/namespaces/kube-system/serviceaccounts/sluice-deployer/token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  token = issued.status.token;
  const pki = (f: string) => fs.readFileSync(path.join(remoteDir, 'pki', f)).toString('base64');
  await ensureNamespace(stack.kube, CONTROL_PLANE);
  // By token, named; and the same apiserver under another URL (its certificate names localhost too) by client certificate.
  await registerCluster(`${ns}-token`, {
    name: `${ns}-remote`,
    server: remote.server,
    config: JSON.stringify({ bearerToken: token, tlsClientConfig: { caData: pki('ca.crt') } }),
  });
  const localhostServer = remote.server.replace('127.0.0.1', 'localhost');
  await registerCluster(`${ns}-cert`, {
    name: `${ns}-remote-cert`,
    server: localhostServer,
    config: JSON.stringify({ tlsClientConfig: { caData: pki('ca.crt'), certData: pki('admin.crt'), keyData: pki('admin.key') } }),
  });
  repo = examplesRepo();
  repo.commit('remote manifests', FILES);
  sluice = await startGitOpsSluice(stack, ns, { waveTimeoutMs: 5_000 });
});

after(async () => {
  await sluice?.stop();
  for (const s of secrets) await stack.kube.delete(Resources.secret, CONTROL_PLANE, s).catch(() => undefined);
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  await remote?.stop();
  if (remoteDir) fs.rmSync(remoteDir, { recursive: true, force: true });
  repo?.remove();
  await stack.stop();
});

function application(name: string, path: string, destination: Record<string, string>, project = 'default'): any {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: ns },
    spec: {
      project,
      source: { repoURL: repo.url, targetRevision: 'main', path },
      destination: { ...destination, namespace: ns },
      syncPolicy: { automated: { prune: true } },
    },
  };
}

test('an Application with destination.name syncs into the registered cluster (bearer token), not the local one; prune acts there too', async () => {
  // Foreground deletion needs the garbage collector, which a cluster without a controller manager lacks.
  const app = application('to-remote', 'remote', { name: `${ns}-remote` });
  app.spec.syncPolicy.syncOptions = ['PrunePropagationPolicy=background'];
  await stack.kube.create(Resources.application, ns, app);
  const status = await eventually(
    'to-remote is Synced and Healthy',
    async () => {
      const s = await applicationStatus(stack, ns, 'to-remote');
      return s.sync?.status === 'Synced' && s.health?.status === 'Healthy' && s.operationState?.phase === 'Succeeded' ? s : undefined;
    },
    120_000,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'to-remote'))}`);
  });
  assert.deepEqual(status.resources.map((r: any) => `${r.kind}/${r.name}:${r.status}:${r.health?.status}`).sort(), [
    'ConfigMap/remote-old:Synced:Healthy',
    'ConfigMap/remote-settings:Synced:Healthy',
    'Service/remote-svc:Synced:Healthy',
  ]);
  const cm = await remote.kube.get<any>(Resources.configMap, ns, 'remote-settings');
  assert.equal(cm.data.where, 'remote');
  assert.ok(await remote.kube.find(Resources.service, ns, 'remote-svc'), 'the Service is in the second cluster');
  assert.equal(await stack.kube.find(Resources.configMap, ns, 'remote-settings'), undefined, 'nothing in the cluster Sluice runs against');
  assert.equal(await stack.kube.find(Resources.service, ns, 'remote-svc'), undefined);
  assert.ok(!JSON.stringify(status).includes(token), 'the token is nowhere in the status');

  // Removed from Git: pruned from the second cluster.
  repo.commit('drop old', { 'remote/old.yaml': null });
  await stack.kube.patch(Resources.application, ns, 'to-remote', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } }, { type: 'merge' });
  await eventually(
    'remote-old pruned in the second cluster',
    async () => ((await remote.kube.find(Resources.configMap, ns, 'remote-old')) ? undefined : true),
    60_000,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'to-remote'))}`);
  });
  await eventually(
    'to-remote Synced at the new revision',
    async () => {
      const s = await applicationStatus(stack, ns, 'to-remote');
      return s.sync?.status === 'Synced' && s.sync?.revision === repo.head() && s.resources.length === 2 ? s : undefined;
    },
    60_000,
    300,
  );

  // Drift in the second cluster is seen by the compare there.
  await remote.kube.patch(Resources.configMap, ns, 'remote-settings', { data: { where: 'edited' } }, { type: 'merge' });
  await stack.kube.patch(Resources.application, ns, 'to-remote', { spec: { syncPolicy: { automated: null } } }, { type: 'merge' });
  await stack.kube.patch(Resources.application, ns, 'to-remote', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } }, { type: 'merge' });
  await eventually(
    'to-remote OutOfSync after the remote edit',
    async () => {
      const s = await applicationStatus(stack, ns, 'to-remote');
      return s.sync?.status === 'OutOfSync' && s.resources.some((r: any) => r.name === 'remote-settings' && r.status === 'OutOfSync') ? s : undefined;
    },
    60_000,
    300,
  );
});

test('destination.server picks the cluster by URL (client certificate); a Deployment lands there and stays Progressing without a controller manager', async () => {
  const server = remote.server.replace('127.0.0.1', 'localhost');
  await stack.kube.create(Resources.application, ns, application('web-remote', 'remote-web', { server }));
  await eventually('remote-web Deployment in the second cluster', async () => remote.kube.find(Resources.deployment, ns, 'remote-web'), 60_000, 300);
  assert.equal(await stack.kube.find(Resources.deployment, ns, 'remote-web'), undefined);
  const s = await eventually(
    'web-remote compared Synced, Progressing',
    async () => {
      const st = await applicationStatus(stack, ns, 'web-remote');
      return st.sync?.status === 'Synced' && st.health?.status === 'Progressing' && st.operationState?.finishedAt ? st : undefined;
    },
    60_000,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'web-remote'))}`);
  });
  assert.equal(s.resources[0].kind, 'Deployment');
});

test('an unknown cluster is a ComparisonError naming it; AppProject destinations match the registered name', async () => {
  await stack.kube.create(Resources.application, ns, application('nowhere', 'remote', { server: 'https://10.0.0.1:6443' }));
  await stack.kube.create(Resources.application, ns, application('nameless', 'remote', { name: 'no-such-cluster' }));
  const error = (name: string) =>
    eventually(
      `${name} has a ComparisonError`,
      async () => (await applicationStatus(stack, ns, name)).conditions?.find((c: any) => c.type === 'ComparisonError'),
      60_000,
      300,
    );
  assert.match((await error('nowhere')).message, /there are no clusters with this URL: https:\/\/10\.0\.0\.1:6443/);
  assert.match((await error('nameless')).message, /there are no clusters with this name: no-such-cluster/);

  // A project allowing only the remote cluster by name admits an app that names it by URL, and refuses in-cluster.
  await stack.kube.create(Resources.appProject, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'remote-only', namespace: ns },
    spec: { sourceRepos: ['*'], destinations: [{ name: `${ns}-remote`, namespace: '*' }], sourceNamespaces: [ns] },
  });
  await stack.kube.create(Resources.application, ns, application('by-url', 'remote-by-url', { server: remote.server }, 'remote-only'));
  await stack.kube.create(Resources.application, ns, application('local-refused', 'remote', { server: 'https://kubernetes.default.svc' }, 'remote-only'));
  await eventually(
    'by-url Synced',
    async () => ((await applicationStatus(stack, ns, 'by-url')).sync?.status === 'Synced' ? true : undefined),
    90_000,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'by-url'))}`);
  });
  assert.ok(await remote.kube.find(Resources.configMap, ns, 'by-url-settings'));
  // The API's create checks the same rules: by name through the cluster Secrets.
  const apiToken = await ensureAdminToken(stack.kube);
  const post = (name: string, destination: Record<string, string>) =>
    fetch(`${sluice.apiUrl}/api/v1/namespaces/${ns}/applications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiToken}` },
      body: JSON.stringify({
        metadata: { name },
        spec: { project: 'remote-only', source: { repoURL: repo.url, path: 'remote-by-url' }, destination: { ...destination, namespace: ns } },
      }),
    });
  const created = await post('api-by-name', { name: `${ns}-remote` });
  assert.equal(created.status, 200, await created.clone().text());
  const refused = await post('api-local', { name: 'in-cluster' });
  assert.equal(refused.status, 400);
  assert.match(((await refused.json()) as { message: string }).message, /do not match any of the allowed destinations in project 'remote-only'/);
  assert.match(
    (await error('local-refused')).message,
    /application destination server 'https:\/\/kubernetes\.default\.svc' and namespace '.*' do not match any of the allowed destinations in project 'remote-only'/,
  );
});
