// Durability of an analysis: SIGKILL the Sluice process between and during measurements,
// start a new one, and the run goes on from where it was: no measurement lost, none
// recorded twice, and the failure count from before the kill still counts toward the limit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Resources } from '../../k8s/kube-client';
import { createAnalysisRun, waitForRun } from '../support/analysis-fixtures';
import { createNamespace, eventually, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

let stack: TestStack;
let ns: string;
let sluice: SluiceProcess | undefined;
let server: http.Server;
const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-analysis-kill-')), 'sluice.log');

/** Requests numbered from 1; the ones in `failing` report "500". Each answer takes 150 ms, so a kill can land mid-request. */
const failing = new Set<number>([3, 4]);
let requests = 0;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-analysis-kill');
  server = http.createServer((_req, res) => {
    const n = ++requests;
    setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ statusCode: failing.has(n) ? '500' : '200' }));
    }, 150);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await sluice?.kill('SIGTERM');
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await stack?.stop();
});

const count = async () => (await stack.kube.get(Resources.analysisRun, ns, 'survivor')).status?.metricResults?.[0]?.count ?? 0;

test('SIGKILL mid-analysis: counts and failureLimit honoured across restarts, nothing lost or doubled', async () => {
  sluice = await spawnSluice(stack, ns, logFile);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await createAnalysisRun(stack.kube, ns, 'survivor', {
    metrics: [
      {
        name: 'health',
        interval: '400ms',
        count: 12,
        failureLimit: 2,
        successCondition: 'result == "200"',
        provider: { web: { url, jsonPath: '{$.statusCode}' } },
      },
    ],
  });

  // Kill after both tolerated failures are recorded, then again in the middle of a request.
  await eventually('4 measurements', async () => (await count()) >= 4, 30_000, 50);
  await sluice.kill('SIGKILL');
  const before1 = await count();
  sluice = await spawnSluice(stack, ns, logFile);
  await eventually('measuring again', async () => (await count()) > before1, 30_000, 50);
  const inFlight = requests;
  await eventually('a request in flight', async () => requests > inFlight, 10_000, 10);
  await sluice.kill('SIGKILL');
  // One more failure after the kills exceeds failureLimit 2 only if the first two still count.
  failing.add(requests + 2);
  sluice = await spawnSluice(stack, ns, logFile);

  const run = await waitForRun(stack.kube, ns, 'survivor', ['Successful', 'Failed', 'Error', 'Inconclusive'], 60_000);
  const r = run.status.metricResults[0];
  console.log(
    'survivor:',
    run.status.phase,
    run.status.message,
    `count=${r.count} failed=${r.failed} error=${r.error} requests=${requests}`,
    r.measurements.map((m) => m.value).join(' '),
  );
  assert.equal(run.status.phase, 'Failed');
  assert.equal(r.failed, 3);
  assert.match(run.status.message!, /failed \(3\) > failureLimit \(2\)/);
  assert.equal(r.error, 0, 'a killed measurement is retried, not recorded as an error');
  assert.equal(r.count, r.successful + r.failed);
  // Retention keeps the last 10; every recorded measurement is distinct and in order.
  const starts = r.measurements.map((m) => Date.parse(m.startedAt!));
  assert.equal(new Set(starts).size, starts.length);
  assert.deepEqual(
    [...starts].sort((a, b) => a - b),
    starts,
  );
  for (let i = 1; i < r.measurements.length; i++) {
    assert.ok(Date.parse(r.measurements[i].startedAt!) >= Date.parse(r.measurements[i - 1].finishedAt!), 'measurements do not overlap');
  }
  // Each recorded measurement is one request; a request cut off by a kill is at most one extra per kill.
  assert.ok(requests >= r.count && requests <= r.count + 2, `requests ${requests} vs measurements ${r.count}`);
});

test('SIGKILL while a Job measurement is in flight: the same Job is awaited after the restart, none made twice', async () => {
  sluice ??= await spawnSluice(stack, ns, logFile);
  await createAnalysisRun(stack.kube, ns, 'job-survivor', {
    metrics: [
      {
        name: 'smoke',
        provider: {
          job: {
            spec: {
              backoffLimit: 0,
              template: {
                metadata: { annotations: { 'kwok.x-k8s.io/status': 'custom' } },
                spec: { restartPolicy: 'Never', containers: [{ name: 'check', image: 'busybox' }] },
              },
            },
          },
        },
      },
    ],
  });
  const run = await eventually('the Job measurement is in flight', async () => {
    const r = await stack.kube.get(Resources.analysisRun, ns, 'job-survivor');
    return r.status?.metricResults?.[0]?.measurements?.[0]?.metadata?.['job-name'] ? r : undefined;
  });
  await sluice.kill('SIGKILL');
  sluice = await spawnSluice(stack, ns, logFile);

  // Let the Job succeed the way kubelet would report it.
  const pod = await eventually(
    'the Job has a pod',
    async () => (await stack.kube.list(Resources.pod, ns, { labelSelector: `analysisrun.argoproj.io/uid=${run.metadata.uid}` })).items[0],
  );
  const now = new Date().toISOString();
  await stack.kube.patch(
    Resources.pod,
    ns,
    pod.metadata.name,
    {
      status: {
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'check',
            image: 'busybox',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: now, finishedAt: now } },
          },
        ],
      },
    },
    { subresource: 'status' },
  );
  const done = await waitForRun(stack.kube, ns, 'job-survivor', ['Successful', 'Failed', 'Error', 'Inconclusive'], 60_000);
  const { items: jobs } = await stack.kube.list(Resources.job, ns, { labelSelector: `analysisrun.argoproj.io/uid=${run.metadata.uid}` });
  console.log('job-survivor:', done.status.phase, 'jobs', jobs.map((j) => j.metadata.name).join(','));
  assert.equal(done.status.phase, 'Successful');
  assert.equal(jobs.length, 1, 'one Job across the restart');
  assert.equal(done.status.metricResults[0].count, 1);
  assert.equal(done.status.metricResults[0].measurements.length, 1);
});
