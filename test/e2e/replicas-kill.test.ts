// Two Sluice replicas on one cluster and one Temporal, each with its watchers, worker and
// API, as deploy/ runs them; 20 Rollouts go through a canary and 20 Applications sync
// while one replica is SIGKILLed. Everything completes on the survivor, and nothing is
// done twice or undone: one ReplicaSet per revision, one sync per Application, and no
// status that goes back (a step index within a revision, a revision, a history).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeObject, type ResourceRef } from '../../k8s/kube-client';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { createNamespace, deleteNamespace, eventually, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';

const N = 20;
let stack: TestStack;
let ns: string;
let repo: GitFixture;
const processes: SluiceProcess[] = [];
const watches = new AbortController();
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-replicas-kill-'));

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'replicas-kill');
  const files: Record<string, string> = {};
  for (let i = 0; i < N; i++) {
    files[`replicas/app-${i}/config.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-${i}\ndata:\n  n: "${i}"\n`;
  }
  repo = examplesRepo(() => '');
  repo.commit('one directory per Application', files);
});

after(async () => {
  watches.abort();
  for (const p of processes) await p.kill('SIGKILL').catch(() => undefined);
  if (ns) await deleteNamespace(stack.kube, ns);
  repo?.remove();
  await stack?.stop();
  fs.rmSync(logDir, { recursive: true, force: true });
});

function rollout(i: number, image: string): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: `ro-${i}`, namespace: ns },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 2,
      selector: { matchLabels: { app: `ro-${i}` } },
      template: { metadata: { labels: { app: `ro-${i}` } }, spec: { containers: [{ name: 'app', image }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '8s' } }] } },
    },
  } as KubeObject;
}

function application(i: number): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: `app-${i}`, namespace: ns },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, path: `replicas/app-${i}`, targetRevision: 'HEAD' },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
      syncPolicy: { automated: {} },
    },
  } as KubeObject;
}

test('two replicas, one SIGKILLed mid-way: 20 rollouts and 20 syncs complete, nothing twice, no status backwards', async () => {
  const backwards: string[] = [];
  const rsAdded = new Map<string, number>();
  const configAdded = new Map<string, number>();
  const lastStep = new Map<string, { hash: string; step: number; revisions: string[] }>();
  const lastHistory = new Map<string, number>();
  const watch = (res: ResourceRef, onEvent: (type: string, obj: KubeObject) => void) =>
    void stack.kube.watch(res, ns, { timeoutSeconds: 600 }, (ev) => onEvent(ev.type, ev.object as KubeObject), watches.signal).catch(() => undefined);
  watch(Resources.replicaSet, (type, rs) => {
    const key = `${rs.metadata.ownerReferences?.[0]?.name}/${rs.metadata.labels?.['rollouts-pod-template-hash']}`;
    if (type === 'ADDED') rsAdded.set(key, (rsAdded.get(key) ?? 0) + 1);
  });
  watch(Resources.configMap, (type, cm) => {
    if (type === 'ADDED' && cm.metadata.name.startsWith('config-')) configAdded.set(cm.metadata.name, (configAdded.get(cm.metadata.name) ?? 0) + 1);
  });
  // The Rollouts' and Applications' statuses, read every 100 ms while the test runs.
  const seeRollout = (ro: KubeObject) => {
    const s = ro.status as { currentPodHash?: string; currentStepIndex?: number } | undefined;
    if (!s?.currentPodHash) return;
    const name = ro.metadata.name;
    const last = lastStep.get(name) ?? { hash: '', step: -1, revisions: [] };
    const step = s.currentStepIndex ?? -1;
    if (last.hash === s.currentPodHash && step < last.step) backwards.push(`${name}: step ${last.step} → ${step}`);
    if (last.hash !== s.currentPodHash && last.revisions.includes(s.currentPodHash)) backwards.push(`${name}: back to revision ${s.currentPodHash}`);
    const revisions = last.revisions.includes(s.currentPodHash) ? last.revisions : [...last.revisions, s.currentPodHash];
    lastStep.set(name, { hash: s.currentPodHash, step, revisions });
  };
  const seeApplication = (app: KubeObject) => {
    const entries = ((app.status as { history?: unknown[] } | undefined)?.history ?? []).length;
    const before = lastHistory.get(app.metadata.name) ?? 0;
    if (entries < before) backwards.push(`${app.metadata.name}: history ${before} → ${entries}`);
    lastHistory.set(app.metadata.name, entries);
  };
  const polling = (async () => {
    while (!watches.signal.aborted) {
      const [rollouts, apps] = await Promise.all([stack.kube.list(Resources.rollout, ns), stack.kube.list(Resources.application, ns)]).catch(() => [
        { items: [] },
        { items: [] },
      ]);
      rollouts.items.forEach(seeRollout);
      apps.items.forEach(seeApplication);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  // Two replicas, each with its own state directory, as two pods would have.
  for (const name of ['a', 'b']) {
    const home = path.join(logDir, `home-${name}`);
    processes.push(
      await spawnSluice(stack, ns, path.join(logDir, `sluice-${name}.log`), undefined, { SLUICE_HOME: home, SLUICE_REPLICA_ID: `replica-${name}` }),
    );
  }
  await Promise.all(Array.from({ length: N }, (_, i) => stack.kube.create(Resources.rollout, ns, rollout(i, 'demo:blue'))));
  const healthy = async (i: number) => {
    const s = (await stack.kube.get(Resources.rollout, ns, `ro-${i}`)).status;
    return s?.phase === 'Healthy' && s.stableRS === s.currentPodHash ? (s.currentPodHash as string) : undefined;
  };
  const first = await eventually(
    '20 rollouts Healthy',
    async () => {
      const hashes = await Promise.all(Array.from({ length: N }, (_, i) => healthy(i)));
      return hashes.every(Boolean) ? hashes : undefined;
    },
    90_000,
    500,
  );

  // A new revision for every rollout and 20 Applications at once; the kill lands while they are under way.
  await Promise.all([
    ...Array.from({ length: N }, (_, i) =>
      stack.kube.patch(Resources.rollout, ns, `ro-${i}`, { spec: { template: { spec: { containers: [{ name: 'app', image: 'demo:yellow' }] } } } }),
    ),
    ...Array.from({ length: N }, (_, i) => stack.kube.create(Resources.application, ns, application(i))),
  ]);
  const diagnose = async (err: Error) => {
    const { items } = await stack.kube.list(Resources.rollout, ns);
    const rollouts = items.map((ro) => {
      const s = ro.status as Record<string, any> | undefined;
      return `${ro.metadata.name} ${s?.phase} ${s?.currentPodHash} step ${s?.currentStepIndex} ${s?.message ?? ''}`;
    });
    const logs = ['a', 'b'].map((n) =>
      fs
        .readFileSync(path.join(logDir, `sluice-${n}.log`), 'utf8')
        .split('\n')
        .filter((l) => !l.includes('"debug"'))
        .slice(-15)
        .join('\n'),
    );
    throw new Error(`${err.message}\n${rollouts.join('\n')}\nwatched: ${JSON.stringify([...lastStep])}\n${logs.join('\n----\n')}`);
  };
  await eventually(
    'some rollouts in their canary',
    async () => {
      const { items } = await stack.kube.list(Resources.rollout, ns);
      return (
        items.filter((ro) => {
          const s = ro.status as Record<string, any> | undefined;
          return s?.currentPodHash && s.currentPodHash !== first[Number(ro.metadata.name.slice(3))] && s.currentStepIndex >= 1;
        }).length >= 1
      );
    },
    60_000,
    100,
  ).catch(diagnose);
  const done = (await Promise.all(Array.from({ length: N }, async (_, i) => (await healthy(i)) !== first[i]))).filter(Boolean).length;
  await processes[0].kill('SIGKILL');
  const killedAt = Date.now();
  console.log(`killed replica a with ${done}/${N} rollouts done, ${configAdded.size}/${N} Applications applied`);

  await eventually(
    'every rollout promoted and every Application synced on the survivor',
    async () => {
      const rollouts = await stack.kube.list(Resources.rollout, ns);
      const apps = await stack.kube.list(Resources.application, ns);
      const promoted = rollouts.items.filter((ro) => {
        const s = ro.status as Record<string, any> | undefined;
        return s?.phase === 'Healthy' && s.stableRS === s.currentPodHash && s.currentPodHash !== first[Number(ro.metadata.name.slice(3))];
      }).length;
      const synced = apps.items.filter((a) => {
        const s = a.status as Record<string, any> | undefined;
        return s?.operationState?.phase === 'Succeeded' && s.sync?.status === 'Synced' && s.health?.status === 'Healthy';
      }).length;
      return promoted === N && synced === N;
    },
    120_000,
    500,
  ).catch(diagnose);
  console.log(`all done ${Date.now() - killedAt} ms after the kill`);

  watches.abort();
  await polling;
  assert.deepEqual(backwards, [], 'no status went backwards');
  assert.equal([...lastStep.values()].filter((l) => l.revisions.length === 2).length, N, 'the watch saw every rollout move to its new revision');
  for (let i = 0; i < N; i++) {
    const rsCount = [...rsAdded.entries()].filter(([k]) => k.startsWith(`ro-${i}/`));
    assert.equal(rsCount.length, 2, `ro-${i}: one ReplicaSet per revision (${rsCount.map(([k]) => k).join(', ')})`);
    for (const [k, n] of rsCount) assert.equal(n, 1, `${k} created ${n} times`);
    assert.equal(configAdded.get(`config-${i}`), 1, `config-${i} created once`);
    const app = await stack.kube.get(Resources.application, ns, `app-${i}`);
    assert.equal((app.status as { history: unknown[] }).history.length, 1, `app-${i}: one sync`);
  }
});
