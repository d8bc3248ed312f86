// Benchmark (prints figures; not a pass/fail test): N Applications (default 1,000), each
// one ConfigMap from one shared repository, created at once. Measures the time until all
// are Synced and Healthy, applications per second, the process's resident memory, a
// no-op reconcile pass over all of them, and as the reference, in the same run,
// `kubectl apply --server-side` of the same N ConfigMaps.
//   node dist/test/bench/gitops-apps.bench.js            (SLUICE_BENCH_APPS=200 for fewer)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Resources } from '../../k8s/kube-client';
import { applicationNudgeSignal, applicationWorkflowId } from '../../workflows/definitions';
import { configFromEnv } from '../../worker/config';
import { startSluice } from '../../worker/sluice';
import { createNamespace, kubectl, testStack } from '../support/stack';

const N = Number(process.env.SLUICE_BENCH_APPS ?? 1000);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function main() {
  const stack = await testStack();
  const ns = await createNamespace(stack.kube, 'bench');
  const refNs = await createNamespace(stack.kube, 'bench-ref');
  const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-repo-'));
  process.env.SLUICE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-home-'));
  const configMap = (i: number, namespace?: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n${namespace ? `  namespace: ${namespace}\n` : ''}data:\n  index: "${i}"\n`;
  for (let i = 0; i < N; i++) {
    fs.mkdirSync(path.join(repoDir, `app-${i}`));
    fs.writeFileSync(path.join(repoDir, `app-${i}`, 'configmap.yaml'), configMap(i));
  }
  const git = (args: string[]) => execFileSync('git', args, { cwd: repoDir, env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' } });
  git(['init', '--quiet']);
  git(['add', '-A']);
  git(['commit', '--quiet', '-m', 'bench']);

  // Reference: the same ConfigMaps with kubectl's server-side apply, in one call.
  const refFile = path.join(os.tmpdir(), `sluice-bench-ref-${process.pid}.yaml`);
  fs.writeFileSync(refFile, Array.from({ length: N }, (_, i) => configMap(i, refNs)).join('---\n'));
  const refStarted = Date.now();
  await kubectl(stack, ['apply', '--server-side', '-f', refFile]);
  const referenceMs = Date.now() - refStarted;

  const config = {
    ...configFromEnv({}),
    temporalAddress: stack.temporalAddress,
    taskQueue: `sluice-${ns}`,
    watchNamespace: ns,
    apiPort: 0,
    maxCachedWorkflows: N + 100,
    applicationTimings: { reconcileMs: 3_600_000, jitterMs: 0 },
  };
  const sluice = await startSluice(config, stack.kube, () => undefined);
  const rssBefore = process.memoryUsage().rss;

  const started = Date.now();
  await inBatches([...Array(N).keys()], 50, (i) =>
    stack.kube.create(Resources.application, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: `app-${i}`, namespace: ns },
      spec: { project: 'default', source: { repoURL: `file://${repoDir}`, targetRevision: 'HEAD', path: `app-${i}` }, destination: { server: 'https://kubernetes.default.svc', namespace: ns }, syncPolicy: { automated: { prune: true } } },
    }),
  );
  const createdMs = Date.now() - started;
  let peakRss = 0;
  let done = 0;
  while (done < N) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const { items } = await stack.kube.list(Resources.application, ns);
    done = items.filter((a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy').length;
    process.stdout.write(`\r  ${done}/${N} Synced and Healthy after ${seconds(Date.now() - started)}   `);
    if (Date.now() - started > 30 * 60_000) throw new Error('gave up after 30 minutes');
  }
  const syncedMs = Date.now() - started;
  console.log('');

  // A no-op reconcile pass: every Application refreshed, nothing to change.
  const passStarted = Date.now();
  const since = new Date(passStarted).toISOString();
  await inBatches([...Array(N).keys()], 100, (i) =>
    sluice.client.workflow.getHandle(applicationWorkflowId({ namespace: ns, name: `app-${i}` })).signal(applicationNudgeSignal, { reason: 'bench reconcile pass', refresh: 'normal' }),
  );
  let reconciled = 0;
  while (reconciled < N) {
    await new Promise((r) => setTimeout(r, 500));
    const { items } = await stack.kube.list(Resources.application, ns);
    reconciled = items.filter((a) => (a.status?.reconciledAt ?? '') >= since).length;
    if (Date.now() - passStarted > 10 * 60_000) throw new Error('reconcile pass gave up after 10 minutes');
  }
  const passMs = Date.now() - passStarted;

  console.log(`applications:                 ${N} (one ConfigMap each, one shared repository)`);
  console.log(`created in:                   ${seconds(createdMs)}`);
  console.log(`all Synced and Healthy after: ${seconds(syncedMs)}  (target ≤ 60 s)`);
  console.log(`applications per second:      ${(N / (syncedMs / 1000)).toFixed(1)}`);
  console.log(`reference kubectl apply --server-side of ${N} ConfigMaps: ${seconds(referenceMs)}  (ratio ${(syncedMs / referenceMs).toFixed(1)}×, target ≤ 5×)`);
  console.log(`no-op reconcile pass:         ${seconds(passMs)}  (target ≤ 20 s)`);
  console.log(`resident memory (this process: worker, watcher, API and the bench): ${Math.round(rssBefore / 2 ** 20)} MiB before, ${Math.round(peakRss / 2 ** 20)} MiB peak`);

  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  await stack.kube.delete(Resources.namespace, undefined, refNs).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 3000)); // the deletions end the workflows
  await sluice.stop();
  fs.rmSync(repoDir, { recursive: true, force: true });
  fs.rmSync(refFile, { force: true });
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
