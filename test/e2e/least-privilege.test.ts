// Sluice authenticated as the ServiceAccount deploy/ ships (a token minted by TokenRequest
// after applying deploy/base/rbac.yaml), not as the cluster admin: a Rollout goes through
// its first revision and a canary step, an Application syncs, and what the ClusterRoles
// leave out is refused — writing Secrets outside sluice-system (until a RoleBinding to
// sluice-secret-writer allows it in one namespace), RBAC objects, deleting namespaces.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { KubeApiError, Resources, type KubeClient } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { startGitOpsSluice, waitForApplication } from '../support/gitops';
import { examplesDir } from '../support/paths';
import { SHIPPED_SERVICE_ACCOUNT } from '../support/service-account';
import { createNamespace, deleteNamespace, eventually, kubectl, testStack, type TestStack } from '../support/stack';

process.env.SLUICE_TEST_AS_SERVICE_ACCOUNT = '1';

let stack: TestStack;
let sa: KubeClient;
let ns: string;
let repo: GitFixture;
let sluice: RunningSluice;

before(async () => {
  stack = await testStack();
  assert.ok(stack.sluiceKube, 'the stack gives Sluice the ServiceAccount');
  sa = stack.sluiceKube;
  ns = await createNamespace(stack.kube, 'least-priv');
  repo = examplesRepo();
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  repo?.remove();
  await stack?.stop();
});

const application = (name: string, appPath: string) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: ns },
  spec: {
    project: 'default',
    source: { repoURL: repo.url, targetRevision: 'HEAD', path: appPath },
    destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    syncPolicy: { automated: { prune: true, selfHeal: true } },
  },
});
const syncedHealthy = (s: any) => s.sync?.status === 'Synced' && s.health?.status === 'Healthy' && s.operationState?.phase === 'Succeeded';

async function refused(what: string, call: () => Promise<unknown>): Promise<KubeApiError> {
  try {
    await call();
  } catch (err) {
    assert.ok(err instanceof KubeApiError && err.statusCode === 403, `${what}: ${String(err)}`);
    return err as KubeApiError;
  }
  assert.fail(`${what} was allowed`);
}

test('Sluice talks to the API server as the shipped ServiceAccount', async () => {
  const review = await sa.request<{ status: { userInfo: { username: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  });
  assert.equal(review.status.userInfo.username, `system:serviceaccount:${SHIPPED_SERVICE_ACCOUNT.namespace}:${SHIPPED_SERVICE_ACCOUNT.name}`);
});

test('a Rollout: first revision Healthy, then a new revision pauses at its canary step', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  const rollout = () => stack.kube.get(Resources.rollout, ns, 'canary-basic');
  const first = await eventually(
    'the first revision is Healthy',
    async () => {
      const ro = await rollout();
      return ro.status?.phase === 'Healthy' && ro.status.availableReplicas === 3 ? ro : undefined;
    },
    90_000,
  );
  await kubectl(stack, [
    'patch',
    'rollout',
    'canary-basic',
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"argoproj/rollouts-demo:yellow"}]',
  ]);
  const paused = await eventually(
    'the rollout pauses at step 1',
    async () => {
      const ro = await rollout();
      return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 ? ro : undefined;
    },
    90_000,
  );
  assert.notEqual(paused.status.currentPodHash, first.status.stableRS);
  const { items } = await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'rollouts-pod-template-hash' });
  assert.equal(items.length, 2);
});

test('an Application syncs from git and is Healthy', async () => {
  await stack.kube.create(Resources.application, ns, application('frontend', 'apps/frontend'));
  const status = await waitForApplication(stack, ns, 'frontend', 'Synced and Healthy', syncedHealthy, 120_000);
  assert.equal(status.sync.revision, repo.head());
  assert.ok(await stack.kube.get(Resources.deployment, ns, 'frontend'));
});

test('what the ClusterRoles leave out is refused: Secrets outside sluice-system, RBAC objects, deleting namespaces', async () => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'not-allowed' }, stringData: { k: 'v' } };
  const err = await refused('creating a Secret in an app namespace', () => sa.create(Resources.secret, ns, secret));
  assert.match(err.message, /secrets/);
  await refused('deleting a Secret', () => sa.delete(Resources.secret, 'kube-system', 'anything'));
  await refused('creating a ClusterRoleBinding', () =>
    sa.create({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', namespaced: false }, undefined, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'sluice-escalates' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'sluice', namespace: 'sluice-system' }],
    }),
  );
  await refused('deleting a namespace', () => sa.delete(Resources.namespace, undefined, ns));
  // Its own namespace is where it may write Secrets (API tokens).
  const tokens = await sa.get(Resources.secret, SHIPPED_SERVICE_ACCOUNT.namespace, 'sluice-tokens');
  assert.ok(tokens.metadata.name);
});

test('an Application that deploys a Secret fails naming the refused verb and resource, and syncs once sluice-secret-writer is bound in its namespace', async () => {
  const files = {
    'with-secret/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: with-secret\ndata:\n  rev: "1"\n',
    'with-secret/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: with-secret\nstringData:\n  password: not-a-real-one\n',
  };
  repo.commit('an app with a Secret', files);
  await stack.kube.create(Resources.application, ns, application('with-secret', 'with-secret'));
  const failed = await waitForApplication(stack, ns, 'with-secret', 'the sync fails', (s) => ['Failed', 'Error'].includes(s.operationState?.phase), 90_000);
  assert.match(JSON.stringify(failed.operationState), /secrets/);
  assert.match(JSON.stringify(failed.operationState), /forbidden|Forbidden/);
  assert.ok(!JSON.stringify(failed).includes('not-a-real-one'), 'the Secret value is in no status');

  await stack.kube.create({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true }, ns, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'sluice-secret-writer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'sluice-secret-writer' },
    subjects: [{ kind: 'ServiceAccount', name: SHIPPED_SERVICE_ACCOUNT.name, namespace: SHIPPED_SERVICE_ACCOUNT.namespace }],
  });
  // A new revision is synced automatically (the failed one is not retried without a retry policy, as in Argo CD).
  repo.commit('rev 2', { 'with-secret/configmap.yaml': files['with-secret/configmap.yaml'].replace('"1"', '"2"') });
  await stack.kube.patch(Resources.application, ns, 'with-secret', { metadata: { annotations: { 'argocd.argoproj.io/refresh': 'normal' } } });
  await waitForApplication(stack, ns, 'with-secret', 'Synced and Healthy', syncedHealthy, 120_000);
  assert.ok(await stack.kube.get(Resources.secret, ns, 'with-secret'));
});
