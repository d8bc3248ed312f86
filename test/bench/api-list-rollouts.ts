// Benchmark: GET /api/v1/rollouts with 1,000 Rollouts present, p50/p99, beside a
// direct LIST of the same Rollouts from the apiserver measured in the same run.
// The Rollouts are created straight in the apiserver (no workflows). Target: p99 ≤ 50 ms.
//   node dist/test/bench/api-list-rollouts.js            (starts its own stack)
//   source /tmp/<you>-env && node dist/test/bench/api-list-rollouts.js   (reuses one)
import type { FastifyInstance } from 'fastify';
import { Resources, resourcePath, type KubeObject } from '../../k8s/kube-client';
import { AccessControl } from '../../api/auth/access-control';
import { issueBootstrapToken } from '../../api/auth/bootstrap';
import type { RolloutCommands } from '../../api/rollout-commands';
import { buildApi } from '../../api/server';
import { createNamespace, testStack } from '../support/stack';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 1000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const REFERENCE_REQUESTS = Number(process.env.BENCH_REFERENCE_REQUESTS ?? 50);

function rollout(ns: string, i: number): KubeObject {
  const name = `bench-${String(i).padStart(4, '0')}`;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'argoproj/rollouts-demo:blue' }] } },
      strategy: { canary: { steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: '30s' } }] } },
    },
  };
}

const status = (i: number) => ({
  status: {
    phase: 'Healthy',
    currentStepIndex: 4,
    stableRS: `7f${i}c9d`,
    currentPodHash: `7f${i}c9d`,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    canary: { weights: { canary: { weight: 100, podTemplateHash: `7f${i}c9d` }, stable: { weight: 100, podTemplateHash: `7f${i}c9d` } } },
    conditions: [
      {
        type: 'Available',
        status: 'True',
        reason: 'AvailableReason',
        message: 'Rollout has minimum availability',
        lastTransitionTime: new Date().toISOString(),
        lastUpdateTime: new Date().toISOString(),
      },
    ],
  },
});

async function inBatches(n: number, width: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function measure(n: number, fn: () => Promise<void>): Promise<{ p50: number; p99: number; mean: number }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99), mean: samples.reduce((a, b) => a + b, 0) / samples.length };
}

// The continue token sits in the list's metadata, ahead of the items.
function extractContinue(text: string): string {
  const m = /"continue":"([^"]*)"/.exec(text.slice(0, 2000));
  return m?.[1] ?? '';
}

const fmt = (r: { p50: number; p99: number; mean: number }) =>
  `p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   mean ${r.mean.toFixed(1).padStart(6)} ms`;

async function main() {
  const stack = await testStack();
  let api: FastifyInstance | undefined;
  let ns: string | undefined;
  try {
    ns = await createNamespace(stack.kube, 'bench-list');
    const sluiceNs = await createNamespace(stack.kube, 'bench-sluice');
    const started = Date.now();
    await inBatches(ROLLOUTS, 32, async (i) => {
      const ro = rollout(ns!, i);
      await stack.kube.create(Resources.rollout, ns, ro);
      await stack.kube.patch(Resources.rollout, ns, ro.metadata.name, status(i), { subresource: 'status' });
    });
    console.log(`created ${ROLLOUTS} Rollouts (with status) in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // Readers for the cold path: each account's first list is computed (RBAC per item
    // through policy.default role:readonly, then serialised), not served from the memo.
    const COLD = 30;
    const readers = Array.from({ length: COLD }, (_, i) => `reader-${i}`);
    await stack.kube.create(Resources.configMap, sluiceNs, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'sluice-cm' },
      data: Object.fromEntries(readers.map((r) => [`accounts.${r}`, 'apiKey'])),
    });
    await stack.kube.create(Resources.configMap, sluiceNs, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'sluice-rbac-cm' },
      data: { 'policy.default': 'role:readonly', 'policy.csv': '' },
    });

    // The list route needs no Temporal; the commands are never called here.
    api = buildApi({ kube: stack.kube, commands: {} as RolloutCommands, sluiceNamespace: sluiceNs });
    const url = await api.listen({ host: '127.0.0.1', port: 0 });
    const { token } = await issueBootstrapToken(stack.kube, sluiceNs);
    const headers = { authorization: `Bearer ${token}` };

    const get = async (path: string) => {
      const res = await fetch(url + path, { headers });
      const body = (await res.json()) as { items: unknown[] };
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(body)}`);
      return body;
    };
    const nsPath = `/api/v1/rollouts?namespace=${ns}`;
    for (let waited = 0; (await get(nsPath)).items.length < ROLLOUTS; waited++) {
      if (waited > 100) throw new Error('the API never saw every Rollout');
      await new Promise((r) => setTimeout(r, 100));
    }
    const bytes = JSON.stringify(await get(nsPath)).length;
    for (let i = 0; i < 20; i++) await get(nsPath);

    // Both sides are timed to the last byte of the body, unparsed: parsing is the client's cost.
    const fetchBody = async (path: string) => {
      const res = await fetch(url + path, { headers });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    };
    const listPath = resourcePath(Resources.rollout, ns) + '?limit=500';
    const access = new AccessControl(stack.kube, sluiceNs);
    const readerTokens = await Promise.all(readers.map(async (r) => (await access.issueToken(r, 3600)).token));
    let reader = 0;
    const cold = await measure(COLD, async () => {
      const res = await fetch(url + nsPath, { headers: { authorization: `Bearer ${readerTokens[reader++]}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`GET ${nsPath} as a reader: ${res.status}`);
    });
    const viaApi = await measure(REQUESTS, () => fetchBody(nsPath));
    const viaApiAll = await measure(REQUESTS, () => fetchBody('/api/v1/rollouts'));
    const direct = await measure(REFERENCE_REQUESTS, async () => {
      // The same pages KubeClient.list fetches (500 a page), as text.
      let cont = '';
      do {
        const page = await stack.kube.getText(listPath + (cont ? `&continue=${encodeURIComponent(cont)}` : ''));
        cont = extractContinue(page.text);
      } while (cont);
    });

    console.log(
      `\nGET of the rollout list, ${ROLLOUTS} Rollouts, response ${(bytes / 1024).toFixed(0)} KiB, admin token; bodies timed to the last byte, unparsed`,
    );
    console.log(`  Sluice API  GET /api/v1/rollouts?namespace=…   ${fmt(viaApi)}   (${REQUESTS} requests)`);
    console.log(`  Sluice API  GET /api/v1/rollouts (all)         ${fmt(viaApiAll)}   (${REQUESTS} requests)`);
    console.log(`  Sluice API  first GET per account (cold)       ${fmt(cold)}   (${COLD} accounts: RBAC for every item, then serialised)`);
    console.log(`  reference   apiserver LIST rollouts (direct)   ${fmt(direct)}   (${REFERENCE_REQUESTS} requests)`);
    console.log(`\ntarget p99 ≤ 50 ms: ${viaApi.p99 <= 50 ? 'met' : 'NOT met'} (p99 ${viaApi.p99.toFixed(1)} ms)`);
  } finally {
    await api?.close();
    if (ns) await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
    await stack.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
