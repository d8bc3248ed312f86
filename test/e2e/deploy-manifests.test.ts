// The install files render and the cluster accepts them: `kubectl kustomize deploy/` and
// `helm template deploy/helm/sluice` (defaults, and with TLS, an API key and cluster-wide
// Secret writes), each applied with `kubectl apply --server-side --dry-run=server`, so the
// API server validates every object against its schema (CRDs included) and admission.
// Server-side, because the Rollout CRD is larger than client-side apply's annotation limit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureRenderer } from '../../stack/toolchain';
import { repoRoot } from '../support/paths';
import { runCommand, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let helm: string;
const deployDir = path.join(repoRoot, 'deploy');
const chartDir = path.join(deployDir, 'helm', 'sluice');

before(async () => {
  stack = await testStack();
  helm = await ensureRenderer('helm');
});
after(async () => stack?.stop());

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const res = await runCommand(cmd, args, { ...process.env, KUBECONFIG: stack.kubeconfigPath }, input);
  assert.equal(res.code, 0, `${path.basename(cmd)} ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any };
const objects = (yaml: string): Obj[] =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
const names = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();

/**
 * Applies in dry-run on the server; returns kubectl's lines, one per object it accepted.
 * --force-conflicts: the shared cluster already has sluice-cm and sluice-rbac-cm, written by
 * the tests' own Sluice (admin on); a dry run takes the fields over without changing them.
 */
async function dryRunApply(yaml: string): Promise<string[]> {
  const out = await run(
    stack.kubectlPath,
    ['apply', '--server-side', '--force-conflicts', '--field-manager=sluice-install', '--dry-run=server', '-f', '-'],
    yaml,
  );
  return out.trim().split('\n');
}

test('kubectl kustomize deploy/ renders, and the cluster accepts all of it (dry-run=server)', async () => {
  const yaml = await run(stack.kubectlPath, ['kustomize', deployDir]);
  const objs = objects(yaml);
  const kinds = new Set(objs.map((o) => o.kind));
  for (const k of [
    'Namespace',
    'CustomResourceDefinition',
    'ServiceAccount',
    'ClusterRole',
    'ClusterRoleBinding',
    'Role',
    'RoleBinding',
    'Deployment',
    'Service',
    'PodDisruptionBudget',
    'ConfigMap',
  ])
    assert.ok(kinds.has(k), `renders a ${k}`);
  const accepted = await dryRunApply(yaml);
  assert.equal(accepted.length, objs.length, accepted.join('\n'));
  for (const line of accepted) assert.match(line, /(serverside-applied|created|configured|unchanged) \(server dry run\)/);
});

test('the Deployment: 2 replicas, /healthz and /readyz probes, resources, non-root, read-only root, no privilege escalation', async () => {
  const objs = objects(await run(stack.kubectlPath, ['kustomize', deployDir]));
  for (const [what, rendered] of [
    ['kustomize', objs],
    ['helm', objects(await run(helm, ['template', 'sluice', chartDir]))],
  ] as const) {
    const dep = rendered.find((o) => o.kind === 'Deployment');
    assert.ok(dep, what);
    assert.equal(dep.spec.replicas, 2, what);
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.livenessProbe.httpGet.path, '/healthz', what);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz', what);
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory, what);
    assert.equal(pod.securityContext.runAsNonRoot, true, what);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true, what);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false, what);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], what);
    assert.equal(pod.serviceAccountName, 'sluice', what);
    const pdb = rendered.find((o) => o.kind === 'PodDisruptionBudget');
    assert.equal(pdb?.spec.minAvailable, 1, what);
  }
  // Safe defaults: the admin account off, no grants.
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sluice-cm') as Obj & { data: Record<string, string> };
  assert.equal(cm.data['admin.enabled'], 'false');
});

test('helm template renders the same objects as the Kustomize base, and the cluster accepts them', async () => {
  const base = objects(await run(stack.kubectlPath, ['kustomize', deployDir]));
  const chartYaml = await run(helm, ['template', 'sluice', chartDir, '--include-crds']);
  const chart = objects(chartYaml);
  assert.deepEqual(names(chart), names(base));
  const accepted = await dryRunApply(chartYaml);
  assert.equal(accepted.length, chart.length, accepted.join('\n'));
});

test('helm values for Temporal TLS, API key and Secret writes render objects the cluster accepts', async () => {
  const yaml = await run(helm, [
    'template',
    'sluice',
    chartDir,
    '--set',
    'temporal.address=temporal.example.com:7233',
    '--set',
    'temporal.namespace=prod',
    '--set',
    'temporal.tls.enabled=true',
    '--set',
    'temporal.tls.serverName=temporal.example.com',
    '--set',
    'temporal.apiKeySecret=temporal-api-key',
    '--set',
    'rbac.applicationSecrets=true',
  ]);
  const objs = objects(yaml);
  const temporal = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sluice-temporal') as Obj & { data: Record<string, string> };
  assert.equal(temporal.data.TEMPORAL_ADDRESS, 'temporal.example.com:7233');
  assert.equal(temporal.data.TEMPORAL_NAMESPACE, 'prod');
  assert.equal(temporal.data.TEMPORAL_TLS_CLIENT_CERT_PATH, '/etc/sluice/temporal-tls/tls.crt');
  assert.equal(temporal.data.TEMPORAL_TLS_SERVER_NAME, 'temporal.example.com');
  const dep = objs.find((o) => o.kind === 'Deployment')!;
  const env = dep.spec.template.spec.containers[0].env as { name: string; valueFrom?: any }[];
  assert.equal(env.find((e) => e.name === 'TEMPORAL_API_KEY')?.valueFrom.secretKeyRef.name, 'temporal-api-key');
  assert.ok(objs.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'sluice-secret-writer'));
  const accepted = await dryRunApply(yaml);
  assert.equal(accepted.length, objs.length, accepted.join('\n'));
});
