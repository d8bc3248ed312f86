// Signals per object change with 1 and with 3 Sluice replicas (issue 16): every replica
// runs watchers, and the load they put on Temporal must not grow with the replica count
// (target: 3 replicas send < 1.5× the signals of 1). Each round: a fresh namespace,
// `replicas` Sluice processes on one task queue, 20 Rollouts created (20 changes), then a
// new image for each (20 more, each a canary of two steps), and 10 Applications created
// (automated sync); three rounds: 1 replica, 3 with SLUICE_REPLICA_SHARDS=off (each signals
// every change, as before sharding), 3 sharded. The figure is the sum of sluice_temporal_signals_total over the
// replicas' /metrics, divided by the changes made.
//   node dist/test/bench/replica-signals.js   (BENCH_ROLLOUTS, BENCH_APPS to resize)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { examplesRepo } from '../support/git-fixture';
import { createNamespace, deleteNamespace, eventually, spawnSluice, testStack, type SluiceProcess } from '../support/stack';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 20);
const APPS = Number(process.env.BENCH_APPS ?? 10);

async function signalsSent(processes: SluiceProcess[]): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (const p of processes) {
    const text = await (await fetch(`${p.apiUrl}/metrics`)).text();
    for (const m of text.matchAll(/^sluice_temporal_signals_total\{call="([^"]+)",signal="([^"]+)"\} (\d+)/gm)) {
      const key = `${m[1]} ${m[2]}`;
      sums.set(key, (sums.get(key) ?? 0) + Number(m[3]));
    }
  }
  return sums;
}
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const delta = (after: Map<string, number>, before: Map<string, number>) =>
  new Map([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0));

async function main() {
  const stack = await testStack();
  const repo = examplesRepo(() => '');
  const files: Record<string, string> = {};
  for (let i = 0; i < APPS; i++) files[`bench/app-${i}/config.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-${i}\ndata:\n  n: "${i}"\n`;
  repo.commit('apps', files);
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-replicas-'));
  const results: { label: string; create: number; update: number; apps: number; detail: string }[] = [];
  try {
    const rounds = [
      { label: '1', replicas: 1, shards: 'on' },
      { label: '3 unsharded', replicas: 3, shards: 'off' },
      { label: '3 sharded', replicas: 3, shards: 'on' },
    ];
    for (const { label, replicas, shards } of rounds) {
      const ns = await createNamespace(stack.kube, `bench-replicas-${replicas}`);
      const processes: SluiceProcess[] = [];
      for (let r = 0; r < replicas; r++) {
        const env = { SLUICE_HOME: path.join(logDir, `home-${ns}-${r}`), SLUICE_REPLICA_SHARDS: shards, SLUICE_REPLICA_ID: `replica-${r}` };
        processes.push(await spawnSluice(stack, ns, path.join(logDir, `${ns}-${r}.log`), undefined, env));
      }
      try {
        const rollout = (i: number, image: string): KubeObject => ({
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Rollout',
          metadata: { name: `ro-${i}`, namespace: ns },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: `ro-${i}` } },
            template: { metadata: { labels: { app: `ro-${i}` } }, spec: { containers: [{ name: 'app', image }] } },
            strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] } },
          },
        });
        const allHealthy = (image: string) =>
          eventually(
            `${ROLLOUTS} rollouts Healthy on ${image}`,
            async () => {
              const { items } = await stack.kube.list(Resources.rollout, ns);
              return (
                items.length === ROLLOUTS &&
                items.every((ro) => {
                  const s = ro.status as Record<string, any> | undefined;
                  const spec = ro.spec as { template: { spec: { containers: { image: string }[] } } };
                  return (
                    s?.phase === 'Healthy' &&
                    s.stableRS === s.currentPodHash &&
                    spec.template.spec.containers[0].image === image &&
                    s.observedGeneration === String(ro.metadata.generation)
                  );
                })
              );
            },
            180_000,
            500,
          );
        const t0 = await signalsSent(processes);
        await Promise.all(Array.from({ length: ROLLOUTS }, (_, i) => stack.kube.create(Resources.rollout, ns, rollout(i, 'demo:1'))));
        await allHealthy('demo:1');
        const t1 = await signalsSent(processes);
        await Promise.all(
          Array.from({ length: ROLLOUTS }, (_, i) =>
            stack.kube.patch(Resources.rollout, ns, `ro-${i}`, { spec: { template: { spec: { containers: [{ name: 'app', image: 'demo:2' }] } } } }),
          ),
        );
        await allHealthy('demo:2');
        const t2 = await signalsSent(processes);
        await Promise.all(
          Array.from({ length: APPS }, (_, i) =>
            stack.kube.create(Resources.application, ns, {
              apiVersion: 'argoproj.io/v1alpha1',
              kind: 'Application',
              metadata: { name: `app-${i}`, namespace: ns },
              spec: {
                project: 'default',
                source: { repoURL: repo.url, path: `bench/app-${i}`, targetRevision: 'HEAD' },
                destination: { server: 'https://kubernetes.default.svc', namespace: ns },
                syncPolicy: { automated: {} },
              },
            }),
          ),
        );
        await eventually(
          `${APPS} Applications synced`,
          async () => {
            const { items } = await stack.kube.list(Resources.application, ns);
            return items.length === APPS && items.every((a) => (a.status as Record<string, any> | undefined)?.operationState?.phase === 'Succeeded');
          },
          180_000,
          500,
        );
        // Let the status writes that follow a sync settle before counting.
        await new Promise((r) => setTimeout(r, 3000));
        const t3 = await signalsSent(processes);
        results.push({
          label,
          create: total(delta(t1, t0)) / ROLLOUTS,
          update: total(delta(t2, t1)) / ROLLOUTS,
          apps: total(delta(t3, t2)) / APPS,
          detail: [...delta(t3, t0)].map(([k, v]) => `${k}=${v}`).join(' '),
        });
      } finally {
        for (const p of processes) await p.kill('SIGTERM');
        await deleteNamespace(stack.kube, ns);
      }
    }
  } finally {
    repo.remove();
    await stack.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
  }
  console.log(`\nsignals to Temporal per object change (${ROLLOUTS} rollouts, ${APPS} applications)`);
  console.log('replicas      rollout created  rollout new image  application created   (all signals)');
  for (const r of results)
    console.log(`${r.label.padEnd(14)}${r.create.toFixed(2).padEnd(17)}${r.update.toFixed(2).padEnd(19)}${r.apps.toFixed(2).padEnd(22)}${r.detail}`);
  const [one, ...threes] = results;
  const ratio = (a: number, b: number) => (a > 0 ? (b / a).toFixed(2) : 'n/a');
  for (const three of threes)
    console.log(
      `ratio ${three.label} : 1  created ${ratio(one.create, three.create)}  new image ${ratio(one.update, three.update)}  applications ${ratio(one.apps, three.apps)}  (target < 1.5)`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
