// SIGTERM drains (what a Deployment's rolling update or a node drain sends): the worker
// stops polling and finishes the task it is running, the API stops accepting, answers the
// request in progress and ends its event streams, and the process exits 0 within its grace
// period. The measurement that was in flight is recorded once: the next process goes on
// from it without asking the endpoint again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Connection, Client } from '@temporalio/client';
import { analysisRunWorkflowId } from '../../workflows/definitions';
import { Resources } from '../../k8s/kube-client';
import { createAnalysisRun, waitForRun } from '../support/analysis-fixtures';
import { ensureAdminToken } from '../support/api-token';
import { createNamespace, eventually, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

const GRACE_SECONDS = 20;

let stack: TestStack;
let ns: string;
let sluice: SluiceProcess | undefined;
let server: http.Server;
let connection: Connection | undefined;
const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-drain-')), 'sluice.log');

/** The endpoint holds each answer until the test lets it go, so the measurement is in flight when SIGTERM lands. */
const held: http.ServerResponse[] = [];
let requests = 0;
let holding = true;
const answer = (res: http.ServerResponse) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ statusCode: '200' }));
};

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-drain');
  server = http.createServer((_req, res) => {
    requests++;
    if (holding) held.push(res);
    else answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  await sluice?.kill('SIGKILL');
  await connection?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await stack?.stop();
});

/** A POST whose body is not all sent yet: the server has the request open (it said 100 Continue). */
async function openRequest(apiUrl: string, token: string): Promise<{ finish(): Promise<{ status: number; body: string }> }> {
  const body = JSON.stringify({ zen: 'a request in progress when the process is told to stop' });
  const url = new URL('/api/webhook', apiUrl);
  let resolveResponse!: (r: { status: number; body: string }) => void;
  let rejectResponse!: (err: Error) => void;
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => ((resolveResponse = resolve), (rejectResponse = reject)));
  const req = http.request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
    },
    (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body: text }));
      res.on('error', rejectResponse);
    },
  );
  req.on('error', rejectResponse);
  await new Promise<void>((resolve, reject) => {
    req.once('continue', resolve);
    req.once('error', reject);
    req.flushHeaders();
  });
  req.write(body.slice(0, 10));
  return {
    finish() {
      req.end(body.slice(10));
      return response;
    },
  };
}

test('SIGTERM: the in-flight measurement and API request finish, streams end, no new connections, exit 0 within the grace', async () => {
  const token = await ensureAdminToken(stack.kube);
  sluice = await spawnSluice(stack, ns, logFile, undefined, { SLUICE_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) });
  const child = sluice.child;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await createAnalysisRun(stack.kube, ns, 'drained', {
    metrics: [{ name: 'health', interval: '1s', count: 2, successCondition: 'result == "200"', provider: { web: { url, jsonPath: '{$.statusCode}' } } }],
  });
  await eventually('the first measurement is in flight', async () => held.length === 1, 60_000, 20);

  // An event stream and a request in progress, both open when the signal lands.
  const stream = await fetch(`${sluice.apiUrl}/api/v1/stream?watch=rollouts`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(stream.status, 200);
  const reader = stream.body!.getReader();
  assert.match(new TextDecoder().decode((await reader.read()).value), /event: rollouts/);
  const streamEnded = (async () => {
    while (!(await reader.read()).done);
    return Date.now();
  })();
  const inProgress = await openRequest(sluice.apiUrl, token);

  const sent = Date.now();
  child.kill('SIGTERM');
  await eventually('the process says it drains', async () => /worker draining/.test(fs.readFileSync(logFile, 'utf8')), 10_000, 20);
  // No new connection is accepted while the old request and the measurement are still open.
  await eventually(
    'a new connection is refused',
    async () => {
      try {
        await fetch(`${sluice!.apiUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
        return false;
      } catch {
        return true;
      }
    },
    10_000,
    100,
  );
  assert.equal(child.exitCode, null, 'the process waits for what is in flight');
  assert.ok((await streamEnded) - sent < GRACE_SECONDS * 1000, 'the event stream was ended');

  const answered = await inProgress.finish();
  // The route itself answered (no webhook headers: 400), not a reset or the closing server's 503.
  assert.equal(answered.status, 400, answered.body);
  assert.match(answered.body, /not a GitHub or GitLab webhook/);
  // However long the endpoint takes (within the grace), the worker waits for it.
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(child.exitCode, null, 'still draining the measurement');
  assert.doesNotMatch(fs.readFileSync(logFile, 'utf8'), /worker drained/);

  // The endpoint answers now; the worker finishes that measurement's task and exits.
  holding = false;
  for (const res of held.splice(0)) answer(res);
  const exit = await exited;
  console.log(`drain: exit code ${exit.code} signal ${exit.signal} after ${exit.at - sent} ms (grace ${GRACE_SECONDS} s), requests ${requests}`);
  assert.equal(exit.signal, null);
  assert.equal(exit.code, 0);
  assert.ok(exit.at - sent < GRACE_SECONDS * 1000, 'exited within the grace period');
  assert.match(fs.readFileSync(logFile, 'utf8'), /worker drained/);

  // The history has the measurement the draining worker took.
  connection = await Connection.connect({ address: stack.temporalAddress });
  const history = await new Client({ connection }).workflow.getHandle(analysisRunWorkflowId({ namespace: ns, name: 'drained' })).fetchHistory();
  const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes);

  assert.ok(markers.length >= 1, 'the in-flight measurement is in the history');
  assert.equal(requests, 1);

  // The next process goes on from there: one more measurement, none taken again.
  sluice = await spawnSluice(stack, ns, logFile);
  const run = await waitForRun(stack.kube, ns, 'drained', ['Successful', 'Failed', 'Error', 'Inconclusive'], 60_000);
  const r = run.status.metricResults[0];
  assert.equal(run.status.phase, 'Successful');
  assert.equal(r.count, 2);
  assert.equal(requests, 2, 'the measurement in flight at SIGTERM was not taken again');
  assert.ok((await stack.kube.get(Resources.analysisRun, ns, 'drained')).status?.phase === 'Successful');
});
