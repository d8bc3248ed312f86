// What the analysis e2e tests measure: an exporter (prom-client) that Prometheus scrapes
// and whose error rate the test sets, a web endpoint the test switches between healthy
// and unhealthy, and the example templates rewritten for the test (address, app, intervals).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { parse } from 'yaml';
import { Resources, type KubeClient, type ObjectMeta } from '../../k8s/kube-client';
import type { AnalysisRunStatus } from '../../domain/analysis/types';
import { examplesDir } from './paths';
import { eventually } from './stack';

export interface Exporter {
  /** Fraction of requests answered 5xx from now on. */
  errorRate: number;
  port: number;
  stop(): Promise<void>;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** http_requests_total, http_request_duration_seconds and container CPU for pods `<app>-*`, 100 requests/s. */
export async function startExporter(app: string, targetsDir: string): Promise<Exporter> {
  const registry = new Registry();
  const requests = new Counter({ name: 'http_requests_total', help: 'requests', labelNames: ['app', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'latency',
    labelNames: ['app'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const cpu = new Counter({ name: 'container_cpu_usage_seconds_total', help: 'cpu', labelNames: ['pod'], registers: [registry] });
  const quota = new Gauge({ name: 'container_spec_cpu_quota', help: 'quota', labelNames: ['pod'], registers: [registry] });
  const pod = `${app}-7d9f-abcde`;
  quota.set({ pod }, 1);
  requests.inc({ app, status: '500' }, 0); // a 5xx series exists from the start, so the ratio is 0, not empty
  const state = { errorRate: 0 };
  let owed = 0;
  const traffic = setInterval(() => {
    for (let i = 0; i < 10; i++) {
      owed += state.errorRate;
      const failed = owed >= 1;
      if (failed) owed -= 1;
      requests.inc({ app, status: failed ? '500' : '200' });
      latency.observe({ app }, 0.08);
    }
    cpu.inc({ pod }, 0.02); // 20% of one CPU
  }, 100);
  const server = http.createServer((req, res) => {
    void registry.metrics().then((text) => {
      res.writeHead(200, { 'Content-Type': registry.contentType });
      res.end(text);
    });
  });
  const port = await listen(server);
  const file = path.join(targetsDir, `${app}.json`);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify([{ targets: [`127.0.0.1:${port}`], labels: { job: app } }]));
  fs.renameSync(`${file}.tmp`, file);
  return {
    get errorRate() {
      return state.errorRate;
    },
    set errorRate(v: number) {
      state.errorRate = v;
    },
    port,
    async stop() {
      clearInterval(traffic);
      fs.rmSync(file, { force: true });
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A health endpoint answering `{"statusCode": "<code>"}`; `httpStatus` is the HTTP status itself. */
export async function startHealthEndpoint(): Promise<{ url: string; reported: string; httpStatus: number; requests: number; stop(): Promise<void> }> {
  const state = { reported: '200', httpStatus: 200, requests: 0 };
  const server = http.createServer((_req, res) => {
    state.requests++;
    res.writeHead(state.httpStatus, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ statusCode: state.reported }));
  });
  const port = await listen(server);
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** An example AnalysisTemplate's spec, with every string passed through `rewrite`. */
export function exampleTemplateSpec(file: string, rewrite: (text: string) => string): any {
  const text = fs.readFileSync(path.join(examplesDir, 'rollouts', file), 'utf8');
  return parse(rewrite(text)).spec;
}

export async function createAnalysisRun(kube: KubeClient, namespace: string, name: string, spec: unknown, extra: Record<string, unknown> = {}): Promise<void> {
  await kube.create(Resources.analysisRun, namespace, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name, namespace, ...extra },
    spec,
  });
}

export interface AnalysisRunObject {
  metadata: ObjectMeta;
  spec: any;
  status: AnalysisRunStatus;
}

export async function waitForRun(kube: KubeClient, namespace: string, name: string, phases: string[], timeoutMs = 60_000): Promise<AnalysisRunObject> {
  return eventually(
    `AnalysisRun ${name} reaches ${phases.join(' or ')}`,
    async () => {
      const run = await kube.get(Resources.analysisRun, namespace, name);
      return phases.includes(run.status?.phase) ? (run as unknown as AnalysisRunObject) : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Waits until Prometheus answers `query` with at least one sample. */
export async function waitForSeries(prometheusUrl: string, query: string): Promise<void> {
  await eventually(
    `Prometheus has data for ${query}`,
    async () => {
      const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = (await res.json()) as any;
      return body.status === 'success' && body.data.result.length > 0;
    },
    30_000,
    250,
  );
}
