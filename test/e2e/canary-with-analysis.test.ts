// canary-with-analysis.yaml with the prometheus-metrics template, against the real
// Prometheus scraping an exporter this test controls: a healthy error rate lets the
// rollout complete; a 10% error rate aborts it once failureLimit is exceeded, and the
// stable ReplicaSet keeps every replica. Intervals are shortened from 30 s to 1 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { exampleTemplateSpec, startExporter, waitForSeries, type Exporter } from '../support/analysis-fixtures';
import { examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;
let exporter: Exporter;

before(async () => {
  stack = await testStack({ prometheus: true });
  ns = await createNamespace(stack.kube, 'e2e-canary-analysis');
  sluice = await startSluiceFor(stack, ns);
  // The template queries app="canary-demo"; a name of this run's own keeps series apart.
  exporter = await startExporter(`cd-${process.pid}`, stack.prometheusTargetsDir!);
  const app = `cd-${process.pid}`;
  const spec = exampleTemplateSpec('analysis-prometheus-metrics.yaml', (text) =>
    text
      .replace(/http:\/\/prometheus-kube-prometheus-prometheus\.monitoring:9090/g, stack.prometheusUrl!)
      .replace(/canary-demo/g, app)
      .replace(/interval: 30s/g, 'interval: 1s')
      // A short rate window, so the measured error rate follows the exporter within seconds.
      .replace(/\[2m\]/g, '[5s]'),
  );
  await stack.kube.create(Resources.analysisTemplate, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'prometheus-metrics', namespace: ns },
    spec,
  });
  await waitForSeries(stack.prometheusUrl!, `rate(http_requests_total{app="${app}"}[5s])`);
  const rollout = fs
    .readFileSync(path.join(examplesDir, 'rollouts', 'canary-with-analysis.yaml'), 'utf8')
    .replace(/duration: 30s/g, 'duration: 1s')
    .replace(/nodePort: 30009\n/, '\n');
  await kubectl(stack, ['apply', '-n', ns, '-f', '-'], rollout);
  await eventually('Healthy', async () => (await get()).status?.phase === 'Healthy');
});

after(async () => {
  await exporter?.stop();
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
});

const get = () => stack.kube.get(Resources.rollout, ns, 'canary-with-analysis');
const setImage = (image: string) =>
  kubectl(stack, [
    'patch',
    'rollout',
    'canary-with-analysis',
    '-n',
    ns,
    '--type',
    'json',
    '-p',
    JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }]),
  ]);
const runs = async () => (await stack.kube.list(Resources.analysisRun, ns)).items;

test('a healthy error rate: the analysis succeeds and the rollout completes', async () => {
  exporter.errorRate = 0;
  const blue = (await get()).status.currentPodHash;
  await setImage('argoproj/rollouts-demo:yellow');
  const done = await eventually(
    'promoted to yellow',
    async () => {
      const ro = await get();
      return ro.status?.phase === 'Healthy' && ro.status.currentPodHash !== blue && ro.status.stableRS === ro.status.currentPodHash ? ro : undefined;
    },
    120_000,
    250,
  );
  const finished = await runs();
  assert.equal(finished.length, 1, 'one AnalysisRun for the analysis step');
  assert.equal(finished[0].status.phase, 'Successful');
  assert.ok(finished[0].metadata.name.startsWith('canary-with-analysis-'), finished[0].metadata.name);
  assert.equal(finished[0].metadata.ownerReferences?.[0].uid, done.metadata.uid);
  assert.equal(finished[0].status.metricResults.length, 3);
});

test('a 10% error rate: the analysis fails, the rollout aborts and stable keeps all traffic', async () => {
  const stableBefore = (await get()).status.stableRS;
  const runsBefore = (await runs()).length;
  exporter.errorRate = 0.1;
  await new Promise((r) => setTimeout(r, 6000)); // let the 5 s rate window fill with errors
  await setImage('argoproj/rollouts-demo:red');
  const aborted = await eventually(
    'aborted by the analysis',
    async () => {
      const ro = await get();
      return ro.status?.phase === 'Degraded' && ro.status.abort ? ro : undefined;
    },
    120_000,
    250,
  );
  assert.match(aborted.status.message, /http-error-rate/, 'the message names the failed metric');
  assert.equal(aborted.status.stableRS, stableBefore);
  assert.equal((await runs()).length, runsBefore + 1, 'one new AnalysisRun');
  const failed = (await runs()).find((r) => r.status?.phase === 'Failed');
  assert.ok(failed, 'a Failed AnalysisRun');
  const errorRate = failed.status.metricResults.find((m: { name: string }) => m.name === 'http-error-rate');
  assert.ok(errorRate.failed > 3, `failed ${errorRate.failed} > failureLimit 3`);
  await eventually('canary scaled away, stable at 5', async () => {
    const { items } = await stack.kube.list(Resources.replicaSet, ns, { labelSelector: 'rollouts-pod-template-hash' });
    const byHash = new Map(items.map((rs) => [rs.metadata.labels!['rollouts-pod-template-hash'], rs.spec.replicas]));
    return byHash.get(stableBefore) === 5 && byHash.get(aborted.status.currentPodHash) === 0;
  });
});
