// The web and Prometheus providers against real servers: a local HTTP endpoint that
// records what it was sent, and the stack's Prometheus. Each case is one measurement.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { prometheusProvider } from '../../activities/metric-providers/prometheus';
import type { MeasurementContext } from '../../activities/metric-providers/provider';
import { webProvider } from '../../activities/metric-providers/web';
import type { Metric } from '../../domain/analysis/types';
import { testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let server: http.Server;
let base: string;
const seen: { method: string; headers: http.IncomingHttpHeaders; body: string; url: string }[] = [];

before(async () => {
  stack = await testStack({ prometheus: true });
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, headers: req.headers, body, url: req.url! });
      if (req.url === '/fail') return void res.writeHead(503).end('down');
      if (req.url === '/text') return void res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('{}'), 3000);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data: { ratio: 0.02, ok: true, items: [3, 4] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await stack?.stop();
});

const ctx = (metric: Metric): MeasurementContext => ({
  run: { namespace: 'n', name: 'r', uid: 'u' },
  metric,
  measurementNumber: 1,
  kube: stack.kube,
  heartbeat: () => undefined,
  signal: new AbortController().signal,
});

test('web: POST with jsonBody and headers; jsonPath narrows the JSON answer', async () => {
  const m = await webProvider.run(
    ctx({
      name: 'w',
      successCondition: 'result < 0.05',
      provider: { web: { url: `${base}/q`, method: 'POST', jsonBody: { query: 'x' }, headers: [{ key: 'X-Token', value: 't' }], jsonPath: '{$.data.ratio}' } },
    }),
  );
  assert.deepEqual([m.phase, m.value], ['Successful', '0.02']);
  const req = seen.at(-1)!;
  assert.equal(req.method, 'POST');
  assert.equal(req.headers['x-token'], 't');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(req.body), { query: 'x' });
  const items = await webProvider.run(
    ctx({ name: 'w', successCondition: 'len(result) == 2', provider: { web: { url: `${base}/q`, jsonPath: '{.data.items}' } } }),
  );
  assert.deepEqual([items.phase, items.value], ['Successful', '[3,4]']);
});

test('web: non-2xx, timeout and a GET with a body are Errors; a text body is the result as a string', async () => {
  const fail = await webProvider.run(ctx({ name: 'w', provider: { web: { url: `${base}/fail` } } }));
  assert.deepEqual([fail.phase, fail.message], ['Error', 'received non 2xx response code: 503']);
  const slow = await webProvider.run(ctx({ name: 'w', provider: { web: { url: `${base}/slow`, timeoutSeconds: 1 } } }));
  assert.equal(slow.phase, 'Error');
  assert.match(slow.message!, /timeout/);
  const get = await webProvider.run(ctx({ name: 'w', provider: { web: { url: `${base}/q`, body: 'x' } } }));
  assert.deepEqual([get.phase, get.message], ['Error', 'Body/JSONBody can only be used with POST or PUT WebMetric Method types']);
  const text = await webProvider.run(ctx({ name: 'w', successCondition: 'result == "ok"', provider: { web: { url: `${base}/text` } } }));
  assert.deepEqual([text.phase, text.value], ['Successful', 'ok']);
});

test('prometheus: scalar, vector, empty vector, a bad query, headers sent', async () => {
  const prom = (query: string, successCondition?: string) =>
    prometheusProvider.run(ctx({ name: 'p', successCondition, provider: { prometheus: { address: stack.prometheusUrl, query } } }));
  const scalar = await prom('scalar(vector(2))', 'result == 2');
  assert.deepEqual([scalar.phase, scalar.value], ['Successful', '2']);
  const vector = await prom('vector(1) + 0.5', 'result[0] == 1.5');
  assert.deepEqual([vector.phase, vector.value], ['Successful', '[1.5]']);
  const empty = await prom('up{job="no-such-job"}', 'len(result) == 0');
  assert.deepEqual([empty.phase, empty.value], ['Successful', '[]']);
  const emptyCompared = await prom('up{job="no-such-job"}', 'result[0] < 1');
  assert.equal(emptyCompared.phase, 'Error');
  const bad = await prom('sum(', 'true');
  assert.equal(bad.phase, 'Error');
  assert.match(bad.message!, /prometheus query failed: bad_data/);
  await prometheusProvider.run(
    ctx({ name: 'p', provider: { prometheus: { address: base, query: 'up', headers: [{ key: 'Authorization', value: 'Bearer abc' }] } } }),
  );
  const req = seen.at(-1)!;
  assert.equal(req.headers.authorization, 'Bearer abc');
  assert.match(req.url, /^\/api\/v1\/query\?query=up$/);
});
