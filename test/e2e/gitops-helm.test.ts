// A Helm chart rendered by the helm binary with the examples' environment values files
// (../environments/<env>/values.yaml, outside the chart), plus inline values and parameters.
// The examples do not ship nginx-chart, so the test commits a small one beside them.
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

const CHART = {
  'nginx-chart/Chart.yaml': 'apiVersion: v2\nname: nginx-chart\nversion: 0.1.0\nappVersion: "1.26.1"\n',
  'nginx-chart/values.yaml': 'replicaCount: 1\nenvironment: default\nimage: nginx:1.26.1\nresources: {}\ningress:\n  host: example.com\n',
  'nginx-chart/templates/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-nginx
  labels:
    environment: {{ .Values.environment | quote }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-nginx}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-nginx}
    spec:
      containers:
        - name: nginx
          image: {{ .Values.image }}
          resources: {{- toYaml .Values.resources | nindent 12 }}
`,
  'nginx-chart/templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  host: {{ .Values.ingress.host | quote }}
  namespace: {{ .Release.Namespace | quote }}
`,
};

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'gitops-helm');
  repo = examplesRepo();
  repo.commit('nginx-chart', CHART);
  sluice = await startGitOpsSluice(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await stack.stop();
});

test('nginx-chart renders with the staging values file from outside the chart, inline values and parameters, and syncs', async () => {
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'nginx-staging', namespace: ns },
    spec: {
      project: 'default',
      source: {
        repoURL: repo.url,
        targetRevision: 'HEAD',
        path: 'nginx-chart',
        helm: {
          valueFiles: ['../environments/staging/values.yaml'],
          valuesObject: { image: 'nginx:1.27.0' },
          parameters: [{ name: 'ingress.host', value: 'override.example.com' }],
        },
      },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy: { automated: { prune: true } },
    },
  });
  const status = await eventually(
    'nginx-staging is Synced and Healthy',
    async () => {
      const s = await applicationStatus(stack, ns, 'nginx-staging');
      return s.sync?.status === 'Synced' && s.health?.status === 'Healthy' ? s : undefined;
    },
    120_000,
    300,
  ).catch(async (err) => {
    throw new Error(`${err.message}; status: ${describeStatus(await applicationStatus(stack, ns, 'nginx-staging'))}`);
  });
  const d = await stack.kube.get<any>(Resources.deployment, ns, 'nginx-staging-nginx');
  assert.equal(d.spec.replicas, 2, 'replicaCount from environments/staging/values.yaml');
  assert.equal(d.metadata.labels.environment, 'staging');
  assert.deepEqual(d.spec.template.spec.containers[0].resources, { limits: { memory: '256Mi', cpu: '200m' } });
  assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.27.0', 'valuesObject');
  const cm = await stack.kube.get<any>(Resources.configMap, ns, 'nginx-staging-settings');
  assert.deepEqual(cm.data, { host: 'override.example.com', namespace: ns });
  assert.deepEqual(status.resources.map((r: any) => `${r.kind}/${r.name}:${r.status}`).sort(), [
    'ConfigMap/nginx-staging-settings:Synced',
    'Deployment/nginx-staging-nginx:Synced',
  ]);
});

test('a values file outside the repository is refused', async () => {
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'nginx-escape', namespace: ns },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, path: 'nginx-chart', helm: { valueFiles: ['../../../../etc/passwd'] } },
      destination: { namespace: ns },
    },
  });
  const s = await eventually(
    'a ComparisonError',
    async () => {
      const st = await applicationStatus(stack, ns, 'nginx-escape');
      return st.conditions?.length ? st : undefined;
    },
    30_000,
  );
  assert.match(s.conditions[0].message, /valueFiles "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd" .*leaves the repository/);
});
