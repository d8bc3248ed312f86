// AnalysisRun objects on the real stack: applied with kubectl / the API, measured by
// Sluice against a real Prometheus scraping an exporter the test controls, a local web
// endpoint, and Jobs; status carries every measurement and Argo's counts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { createAnalysisRun, exampleTemplateSpec, startExporter, startHealthEndpoint, waitForRun, waitForSeries } from '../support/analysis-fixtures';
import { createNamespace, eventually, kubectl, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack({ prometheus: true });
  ns = await createNamespace(stack.kube, 'e2e-analysis');
  sluice = await startSluiceFor(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack?.stop();
});

/** prometheus-metrics from the examples: our Prometheus, our app's series, 1 s apart. */
function prometheusMetrics(app: string): any {
  return exampleTemplateSpec('analysis-prometheus-metrics.yaml', (text) =>
    text
      .replace(/http:\/\/prometheus-kube-prometheus-prometheus\.monitoring:9090/g, stack.prometheusUrl!)
      .replace(/canary-demo/g, app)
      .replace(/interval: 30s/g, 'interval: 1s'),
  );
}

test('prometheus-metrics: a healthy error rate → Successful, every measurement in status', async () => {
  const app = `healthy-${Date.now().toString(36)}`;
  const exporter = await startExporter(app, stack.prometheusTargetsDir!);
  try {
    await waitForSeries(stack.prometheusUrl!, `rate(http_requests_total{app="${app}",status="500"}[2m])`);
    await createAnalysisRun(stack.kube, ns, 'prom-healthy', prometheusMetrics(app));
    const run = await waitForRun(stack.kube, ns, 'prom-healthy', ['Successful', 'Failed', 'Error', 'Inconclusive'], 60_000);
    console.log('prom-healthy:', run.status.phase, run.status.metricResults.map((r) => `${r.name}=${r.measurements.map((m) => m.value).join(' ')}`).join('; '));
    assert.equal(run.status.phase, 'Successful', JSON.stringify(run.status));
    assert.deepEqual(
      run.status.metricResults.map((r) => r.name),
      ['http-error-rate', 'http-latency', 'cpu-usage'],
    );
    for (const r of run.status.metricResults) {
      assert.equal(r.phase, 'Successful');
      assert.equal(r.count, 5);
      assert.equal(r.successful, 5);
      assert.equal(r.measurements.filter((m) => m.phase === 'Successful').length, 5);
      for (const m of r.measurements) assert.ok(m.startedAt && m.finishedAt && m.value !== undefined, JSON.stringify(m));
    }
    assert.equal(run.status.metricResults[0].measurements[0].value, '[0]');
    assert.ok(run.status.startedAt);
  } finally {
    await exporter.stop();
  }
});

test('prometheus-metrics: a 10% error rate → Failed once failureLimit (3) is exceeded', async () => {
  const app = `failing-${Date.now().toString(36)}`;
  const exporter = await startExporter(app, stack.prometheusTargetsDir!);
  exporter.errorRate = 0.1;
  try {
    await waitForSeries(stack.prometheusUrl!, `rate(http_requests_total{app="${app}",status="500"}[2m]) > 0`);
    await createAnalysisRun(stack.kube, ns, 'prom-failing', prometheusMetrics(app));
    const run = await waitForRun(stack.kube, ns, 'prom-failing', ['Successful', 'Failed', 'Error', 'Inconclusive'], 60_000);
    const rate = run.status.metricResults.find((r) => r.name === 'http-error-rate')!;
    console.log('prom-failing:', run.status.phase, run.status.message, rate.measurements.map((m) => `${m.phase}:${m.value}`).join(' '));
    assert.equal(run.status.phase, 'Failed');
    assert.equal(run.status.message, 'Metric "http-error-rate" assessed Failed due to failed (4) > failureLimit (3)');
    assert.equal(rate.failed, 4);
    assert.equal(rate.count, 4, 'no fifth measurement once the metric failed');
    for (const m of rate.measurements) assert.ok(Math.abs(Number(m.value!.slice(1, -1)) - 0.1) < 0.03, `error rate ${m.value}`);
  } finally {
    await exporter.stop();
  }
});

test('http-health-check (web): healthy → Successful; the endpoint turning unhealthy → Failed', async () => {
  const endpoint = await startHealthEndpoint();
  const spec = () =>
    exampleTemplateSpec('analysis-http-health-check.yaml', (text) =>
      text.replace('http://bluegreen-demo-preview/', endpoint.url).replace('interval: 10s', 'interval: 500ms'),
    );
  try {
    await createAnalysisRun(stack.kube, ns, 'web-healthy', spec());
    const ok = await waitForRun(stack.kube, ns, 'web-healthy', ['Successful', 'Failed', 'Error', 'Inconclusive']);
    console.log('web-healthy:', ok.status.phase, ok.status.metricResults[0].measurements.map((m) => m.value).join(' '));
    assert.equal(ok.status.phase, 'Successful');
    assert.equal(ok.status.metricResults[0].count, 5);
    assert.equal(ok.status.metricResults[0].measurements[0].value, '"200"');

    await createAnalysisRun(stack.kube, ns, 'web-unhealthy', spec());
    await eventually(
      'two healthy measurements',
      async () => (await stack.kube.get(Resources.analysisRun, ns, 'web-unhealthy')).status?.metricResults?.[0]?.successful >= 2,
    );
    endpoint.reported = '500';
    const bad = await waitForRun(stack.kube, ns, 'web-unhealthy', ['Successful', 'Failed', 'Error', 'Inconclusive']);
    const r = bad.status.metricResults[0];
    console.log('web-unhealthy:', bad.status.phase, bad.status.message, r.measurements.map((m) => `${m.phase}:${m.value}`).join(' '));
    assert.equal(bad.status.phase, 'Failed');
    assert.equal(r.failed, 1, 'failureLimit 0: one failure is enough');
    assert.equal(r.measurements.at(-1)!.value, '"500"');
    assert.match(bad.status.message!, /Metric "http-success-rate" assessed Failed due to failed \(1\) > failureLimit \(0\)/);
  } finally {
    await endpoint.stop();
  }
});

const jobMetric = (name: string, podAnnotations: Record<string, string> = {}) => ({
  name,
  provider: {
    job: {
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { annotations: podAnnotations },
          spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: 'busybox', command: ['true'] }] },
        },
      },
    },
  },
});

test('job metric: a Job that completes → Successful; one whose pod fails → Failed', async () => {
  await createAnalysisRun(stack.kube, ns, 'job-ok', { metrics: [jobMetric('smoke')] });
  await createAnalysisRun(stack.kube, ns, 'job-bad', { metrics: [jobMetric('smoke', { 'kwok.x-k8s.io/status': 'custom' })] });

  // kwok leaves the annotated pod alone; fail it as a crashed container would.
  const badRun = await eventually('job-bad has a uid', async () => (await stack.kube.get(Resources.analysisRun, ns, 'job-bad')).metadata.uid);
  const pod = await eventually('the failing Job has a pod', async () => {
    const { items } = await stack.kube.list(Resources.pod, ns, { labelSelector: `analysisrun.argoproj.io/uid=${badRun}` });
    return items[0];
  });
  await stack.kube.patch(
    Resources.pod,
    ns,
    pod.metadata.name,
    {
      status: {
        phase: 'Failed',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: [
          {
            name: 'check',
            image: 'busybox',
            imageID: '',
            ready: false,
            restartCount: 0,
            started: false,
            state: { terminated: { exitCode: 1, reason: 'Error', startedAt: new Date().toISOString(), finishedAt: new Date().toISOString() } },
          },
        ],
      },
    },
    { subresource: 'status' },
  );

  const ok = await waitForRun(stack.kube, ns, 'job-ok', ['Successful', 'Failed', 'Error', 'Inconclusive'], 90_000);
  const bad = await waitForRun(stack.kube, ns, 'job-bad', ['Successful', 'Failed', 'Error', 'Inconclusive'], 90_000);
  console.log('job-ok:', ok.status.phase, JSON.stringify(ok.status.metricResults[0].measurements));
  console.log('job-bad:', bad.status.phase, bad.status.message);
  assert.equal(ok.status.phase, 'Successful');
  assert.equal(ok.status.metricResults[0].measurements[0].phase, 'Successful');
  assert.equal(bad.status.phase, 'Failed');
  const { items: jobs } = await stack.kube.list(Resources.job, ns);
  const okJob = jobs.find((j) => j.metadata.labels?.['analysisrun.argoproj.io/uid'] === ok.metadata.uid)!;
  assert.equal(okJob.metadata.name, `${ok.metadata.uid}.smoke.1`, 'one Job per measurement, named deterministically');
  assert.equal(okJob.metadata.ownerReferences?.[0].name, 'job-ok');
});

test('Prometheus unreachable → measurements Error; past consecutiveErrorLimit the run is Error', async () => {
  await createAnalysisRun(stack.kube, ns, 'prom-down', {
    metrics: [
      {
        name: 'error-rate',
        interval: '1s',
        count: 3,
        consecutiveErrorLimit: 1,
        successCondition: 'result[0] < 0.05',
        provider: { prometheus: { address: 'http://127.0.0.1:1', query: 'up' } },
      },
    ],
  });
  const run = await waitForRun(stack.kube, ns, 'prom-down', ['Successful', 'Failed', 'Error', 'Inconclusive'], 40_000);
  const r = run.status.metricResults[0];
  console.log('prom-down:', run.status.phase, run.status.message);
  assert.equal(run.status.phase, 'Error');
  assert.equal(r.error, 2);
  assert.equal(r.consecutiveError, 2);
  assert.match(run.status.message!, /Metric "error-rate" assessed Error due to consecutiveErrors \(2\) > consecutiveErrorLimit \(1\)/);
  assert.match(r.measurements[0].message!, /ECONNREFUSED/);
});

test('args: a value, a secret (never written to status) and an empty Prometheus result', async () => {
  const secret = 's3cr3t-token-value';
  await stack.kube.create(Resources.secret, ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'prom-token' }, stringData: { token: secret } });
  await createAnalysisRun(stack.kube, ns, 'args-run', {
    args: [
      { name: 'job', value: 'no-such-job' },
      { name: 'token', valueFrom: { secretKeyRef: { name: 'prom-token', key: 'token' } } },
    ],
    metrics: [
      {
        name: 'empty',
        successCondition: 'len(result) == 0',
        provider: {
          prometheus: { address: stack.prometheusUrl, query: 'up{job="{{args.job}}"}', headers: [{ key: 'Authorization', value: 'Bearer {{args.token}}' }] },
        },
      },
    ],
  });
  const run = await waitForRun(stack.kube, ns, 'args-run', ['Successful', 'Failed', 'Error', 'Inconclusive']);
  assert.equal(run.status.phase, 'Successful', JSON.stringify(run.status));
  assert.equal(run.status.metricResults[0].measurements[0].value, '[]');
  assert.ok(!JSON.stringify(run).includes(secret), 'the secret value appears nowhere in the AnalysisRun');

  await createAnalysisRun(stack.kube, ns, 'args-missing-secret', {
    args: [{ name: 'token', valueFrom: { secretKeyRef: { name: 'nope', key: 'token' } } }],
    metrics: [{ name: 'm', provider: { prometheus: { address: stack.prometheusUrl, query: 'vector({{args.token}})' } } }],
  });
  const missing = await waitForRun(stack.kube, ns, 'args-missing-secret', ['Successful', 'Failed', 'Error', 'Inconclusive']);
  console.log('args-missing-secret:', missing.status.phase, missing.status.message);
  assert.equal(missing.status.phase, 'Error');
  assert.match(missing.status.message!, /args.token: secret "nope" not found/);
});

test('kubectl apply of a run with an interval only: runs until spec.terminate; ttlStrategy deletes it', async () => {
  const endpoint = await startHealthEndpoint();
  try {
    const manifest = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisRun',
      metadata: { name: 'until-terminated' },
      spec: {
        ttlStrategy: { secondsAfterCompletion: 2 },
        metrics: [
          { name: 'health', interval: '300ms', successCondition: 'result == "200"', provider: { web: { url: endpoint.url, jsonPath: '{$.statusCode}' } } },
        ],
      },
    };
    await kubectl(stack, ['apply', '-n', ns, '-f', '-'], JSON.stringify(manifest));
    await eventually(
      'several measurements',
      async () => (await stack.kube.get(Resources.analysisRun, ns, 'until-terminated')).status?.metricResults?.[0]?.count >= 3,
    );
    await kubectl(stack, ['patch', 'analysisrun', 'until-terminated', '-n', ns, '--type', 'merge', '-p', '{"spec":{"terminate":true}}']);
    const run = await waitForRun(stack.kube, ns, 'until-terminated', ['Successful', 'Failed', 'Error', 'Inconclusive']);
    console.log('until-terminated:', run.status.phase, run.status.message, 'count', run.status.metricResults[0].count);
    assert.equal(run.status.phase, 'Successful');
    assert.equal(run.status.message, 'Run Terminated');
    assert.ok(run.status.completedAt);
    await eventually('the run is deleted after its TTL', async () => !(await stack.kube.find(Resources.analysisRun, ns, 'until-terminated')), 15_000);
  } finally {
    await endpoint.stop();
  }
});

test('job metric in flight when the run is terminated: the Job is deleted, the measurement Inconclusive', async () => {
  await createAnalysisRun(stack.kube, ns, 'job-stuck', { metrics: [jobMetric('long', { 'kwok.x-k8s.io/status': 'custom' })] });
  const running = await eventually('the Job measurement is in flight', async () => {
    const run = await stack.kube.get(Resources.analysisRun, ns, 'job-stuck');
    return run.status?.metricResults?.[0]?.measurements?.[0]?.phase === 'Running' ? run : undefined;
  });
  const jobName = `${running.metadata.uid}.long.1`;
  assert.equal(running.status.metricResults[0].measurements[0].metadata['job-name'], jobName, 'the measurement in flight names its Job');
  await eventually('the Job exists', async () => !!(await stack.kube.find(Resources.job, ns, jobName)));
  await stack.kube.patch(Resources.analysisRun, ns, 'job-stuck', { spec: { terminate: true } });
  const run = await waitForRun(stack.kube, ns, 'job-stuck', ['Successful', 'Failed', 'Error', 'Inconclusive']);
  const m = run.status.metricResults[0].measurements;
  console.log('job-stuck:', run.status.phase, run.status.message, JSON.stringify(m));
  assert.equal(m.length, 1);
  assert.equal(m[0].phase, 'Inconclusive');
  assert.equal(m[0].message, 'Metric Terminated');
  assert.equal(run.status.phase, 'Inconclusive', "Argo's verdict for a run terminated mid-Job");
  await eventually('the Job is deleted', async () => {
    const job = await stack.kube.find(Resources.job, ns, jobName);
    return !job || !!job.metadata.deletionTimestamp;
  });
});

test('bad specs fail fast with the reason: an unsupported provider, an unresolvable arg, a duplicate metric', async () => {
  await createAnalysisRun(stack.kube, ns, 'bad-provider', { metrics: [{ name: 'dd', provider: { datadog: { query: 'avg:x' } } }] });
  await createAnalysisRun(stack.kube, ns, 'bad-arg', {
    metrics: [{ name: 'p', provider: { prometheus: { address: stack.prometheusUrl, query: 'up{job="{{args.nope}}"}' } } }],
  });
  await createAnalysisRun(stack.kube, ns, 'bad-dup', {
    metrics: [
      { name: 'p', provider: { web: { url: 'http://x' } } },
      { name: 'p', provider: { web: { url: 'http://y' } } },
    ],
  });
  const provider = await waitForRun(stack.kube, ns, 'bad-provider', ['Error'], 20_000);
  const arg = await waitForRun(stack.kube, ns, 'bad-arg', ['Error'], 20_000);
  const dup = await waitForRun(stack.kube, ns, 'bad-dup', ['Error'], 20_000);
  console.log('bad specs:', provider.status.message, '|', arg.status.message, '|', dup.status.message);
  assert.equal(
    provider.status.message,
    'Analysis spec invalid: metrics[0] (dd): provider datadog is not supported by Sluice (supported: prometheus, web, job)',
  );
  assert.equal(arg.status.message, 'Unable to resolve metric arguments: metric "p": failed to resolve {{args.nope}}');
  assert.equal(dup.status.message, "Analysis spec invalid: metrics[1]: duplicate name 'p'");
});

test('NaN from Prometheus: isNaN works on the vector and on its one sample', async () => {
  const prom = { address: stack.prometheusUrl, query: 'vector(0) / vector(0)' };
  await createAnalysisRun(stack.kube, ns, 'nan-run', {
    metrics: [
      { name: 'indexed', successCondition: 'isNaN(result[0])', provider: { prometheus: prom } },
      { name: 'sample', failureCondition: 'isNaN(result)', provider: { prometheus: prom } },
    ],
  });
  const run = await waitForRun(stack.kube, ns, 'nan-run', ['Successful', 'Failed', 'Error', 'Inconclusive']);
  console.log('nan-run:', run.status.phase, run.status.metricResults.map((r) => `${r.name}=${r.measurements[0].phase}:${r.measurements[0].value}`).join(' '));
  assert.deepEqual(
    run.status.metricResults.map((r) => [r.name, r.measurements[0].phase, r.measurements[0].value]),
    [
      ['indexed', 'Successful', '[NaN]'],
      ['sample', 'Failed', '[NaN]'],
    ],
  );
  assert.equal(run.status.phase, 'Failed');
});

test('a run deleted mid-analysis and created again under the same name: the new one runs from scratch', async () => {
  const endpoint = await startHealthEndpoint();
  try {
    const spec = (count?: number) => ({
      metrics: [
        {
          name: 'health',
          interval: '300ms',
          ...(count ? { count } : {}),
          successCondition: 'result == "200"',
          provider: { web: { url: endpoint.url, jsonPath: '{$.statusCode}' } },
        },
      ],
    });
    await createAnalysisRun(stack.kube, ns, 'phoenix', spec());
    await eventually('the first run measures', async () => (await stack.kube.get(Resources.analysisRun, ns, 'phoenix')).status?.metricResults?.[0]?.count >= 2);
    await stack.kube.delete(Resources.analysisRun, ns, 'phoenix');
    await eventually('deleted', async () => !(await stack.kube.find(Resources.analysisRun, ns, 'phoenix')));
    await createAnalysisRun(stack.kube, ns, 'phoenix', spec(3));
    const run = await waitForRun(stack.kube, ns, 'phoenix', ['Successful', 'Failed', 'Error', 'Inconclusive'], 30_000);
    console.log('phoenix:', run.status.phase, 'count', run.status.metricResults[0].count);
    assert.equal(run.status.phase, 'Successful');
    assert.equal(run.status.metricResults[0].count, 3, 'counted from zero for the new object');
    const requestsAfter = endpoint.requests;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(endpoint.requests, requestsAfter, 'nothing measures the deleted run any more');
  } finally {
    await endpoint.stop();
  }
});
