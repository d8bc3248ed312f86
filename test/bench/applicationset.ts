// Benchmark (prints figures; not a pass/fail test): one ApplicationSet with a list generator
// of N elements (default 1,000), one ConfigMap each from one shared repository, beside the
// same N Applications created directly (gitops-apps.bench's work), measured in the same run
// on the same stack, each phase with a Sluice of its own. Prints the time until all N
// Applications exist, until all are Synced and Healthy, what the ApplicationSet adds
// (target ≤ 10%), and the duration of a no-change pass of the ApplicationSet over the N
// Applications (target < 2 s), read from the workflow's history: from the pass activity's
// scheduling to the completion of its status write.
//   node dist/test/bench/applicationset.js    (SLUICE_BENCH_APPS=200 for fewer;
//   SLUICE_BENCH_APPSET_FIRST=1 runs the ApplicationSet phase first)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { inform } from '../../k8s/informer';
import { applicationSetWorkflowId } from '../../workflows/definitions';
import { APPSET_REFRESH_ANNOTATION } from '../../domain/argo/names';
import { configFromEnv } from '../../worker/config';
import { startSluice } from '../../cmd/process';
import { createNamespace, testStack, type TestStack } from '../support/stack';
import { cpuByProgram, inBatches, percentile, printCpuDeltas } from './bench-support';

const N = Number(process.env.SLUICE_BENCH_APPS ?? 1000);
const NO_CHANGE_PASSES = 5;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One directory with one ConfigMap per Application, committed. */
function configMapRepo(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-repo-'));
  for (let i = 0; i < n; i++) {
    fs.mkdirSync(path.join(dir, `app-${i}`));
    fs.writeFileSync(path.join(dir, `app-${i}`, 'configmap.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  index: "${i}"\n`);
  }
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
    });
  git(['init', '--quiet']);
  git(['add', '-A']);
  git(['commit', '--quiet', '-m', 'bench']);
  return dir;
}

interface PhaseResult {
  existMs: number;
  syncedMs: number;
  cpu: Map<string, number>;
  cpuAfter: Map<string, number>;
}

/** A Sluice for one namespace and a watch of its Applications; `start` creates the work, the rest waits. */
async function phase(
  stack: TestStack,
  what: string,
  start: (ns: string) => Promise<void>,
  after?: (ns: string, client: Client, apps: Map<string, KubeObject>) => Promise<void>,
): Promise<PhaseResult> {
  const ns = await createNamespace(stack.kube, `bench-${what}`);
  const sluice = await startSluice(
    {
      ...configFromEnv({}),
      temporalAddress: stack.temporalAddress,
      taskQueue: `sluice-${ns}`,
      watchNamespace: ns,
      apiPort: 0,
      maxCachedWorkflows: N + 100,
      applicationTimings: { reconcileMs: 3_600_000, jitterMs: 0 },
    },
    stack.kube,
    () => undefined,
  );
  // The Applications as a watch delivers them, each stamped with when it first existed and
  // when it was first seen Synced and Healthy.
  const apps = new Map<string, KubeObject>();
  const existsAt = new Map<string, number>();
  const doneAt = new Map<string, number>();
  const watching = new AbortController();
  void inform(
    { kube: stack.kube, resource: Resources.application, namespace: ns, signal: watching.signal, log: (msg, f) => console.error(msg, f) },
    (type, app) => {
      const name = app.metadata.name;
      if (type === 'DELETED') return void apps.delete(name);
      apps.set(name, app);
      if (!existsAt.has(name)) existsAt.set(name, Date.now());
      if (app.status?.sync?.status === 'Synced' && app.status?.health?.status === 'Healthy' && !doneAt.has(name)) doneAt.set(name, Date.now());
    },
  );

  const cpu = cpuByProgram();
  const started = Date.now();
  await start(ns);
  while (doneAt.size < N) {
    await new Promise((r) => setTimeout(r, 1000));
    process.stdout.write(`\r  ${what}: ${existsAt.size}/${N} exist, ${doneAt.size}/${N} Synced and Healthy after ${seconds(Date.now() - started)}   `);
    if (Date.now() - started > 30 * 60_000) throw new Error(`${what}: gave up after 30 minutes`);
  }
  console.log('');
  const result = {
    existMs: Math.max(...existsAt.values()) - started,
    syncedMs: Math.max(...doneAt.values()) - started,
    cpu,
    cpuAfter: cpuByProgram(),
  };
  await after?.(ns, sluice.client, apps);
  watching.abort();
  // The Applications stay (their workflows idle on hour-long timers, costing no CPU); the
  // stack goes at the end.
  await sluice.stop();
  return result;
}

const applicationManifest = (ns: string, repoDir: string, i: number) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name: `app-${i}`, namespace: ns },
  spec: {
    project: 'default',
    source: { repoURL: `file://${repoDir}`, targetRevision: 'HEAD', path: `app-${i}` },
    destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    syncPolicy: { automated: { prune: true } },
  },
});

const applicationSetManifest = (ns: string, repoDir: string) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'ApplicationSet',
  metadata: { name: 'bench', namespace: ns },
  spec: {
    generators: [{ list: { elements: Array.from({ length: N }, (_, i) => ({ i: String(i) })) } }],
    template: {
      metadata: { name: 'app-{{i}}' },
      spec: {
        project: 'default',
        source: { repoURL: `file://${repoDir}`, targetRevision: 'HEAD', path: 'app-{{i}}' },
        destination: { server: 'https://kubernetes.default.svc', namespace: ns },
        syncPolicy: { automated: { prune: true } },
      },
    },
  },
});

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];
const timeOf = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

interface Pass {
  scheduledAt: number;
  /** The pass activity: scheduled → completed, and its own run (started → completed). */
  readMs: number;
  readRunMs: number;
  /**
   * Scheduled → the workflow task that ends the pass (it starts the wait's timer, or schedules
   * the next pass at once): the whole pass, status write included.
   */
  totalMs: number;
  activities: string[];
}

/** The passes of an ApplicationSet workflow's current run, from its history. */
async function passes(client: Client, workflowId: string): Promise<Pass[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const out: Pass[] = [];
  let current: Pass | undefined;
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const name = scheduled.activityType?.name ?? '?';
      if (name === 'appSetPass') {
        if (current && current.totalMs === 0) current.totalMs = timeOf(e) - current.scheduledAt;
        current = { scheduledAt: timeOf(e), readMs: 0, readRunMs: 0, totalMs: 0, activities: [] };
        out.push(current);
      }
      current?.activities.push(name);
    }
    if (e.timerStartedEventAttributes && current && current.totalMs === 0) current.totalMs = timeOf(e) - current.scheduledAt;
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed && current) {
      const sched = byId.get(Number(completed.scheduledEventId));
      const startedEv = byId.get(Number(completed.startedEventId));
      if (sched?.activityTaskScheduledEventAttributes?.activityType?.name === 'appSetPass') {
        current.readMs = timeOf(e) - current.scheduledAt;
        current.readRunMs = startedEv ? timeOf(e) - timeOf(startedEv) : 0;
      }
    }
  }
  return out;
}

async function main() {
  const stack = await testStack();
  process.env.SLUICE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-home-'));
  const repoDir = configMapRepo(N);

  const direct = async () =>
    phase(stack, 'apps', (ns) => inBatches([...Array(N).keys()], 50, (i) => stack.kube.create(Resources.application, ns, applicationManifest(ns, repoDir, i))));

  let syncPasses: Pass[] = [];
  const noChange: Pass[] = [];
  const viaAppSet = async () =>
    phase(
      stack,
      'appset',
      async (ns) => void (await stack.kube.create(Resources.applicationSet, ns, applicationSetManifest(ns, repoDir))),
      async (ns, client) => {
        const workflowId = applicationSetWorkflowId({ namespace: ns, name: 'bench' });
        syncPasses = await passes(client, workflowId);
        // No-change passes: each asked for with Argo's refresh annotation, once the one before is written.
        for (let k = 0; k < NO_CHANGE_PASSES; k++) {
          await new Promise((r) => setTimeout(r, 2000));
          const askedAt = Date.now();
          await stack.kube.patch(Resources.applicationSet, ns, 'bench', { metadata: { annotations: { [APPSET_REFRESH_ANNOTATION]: 'true' } } });
          for (;;) {
            await new Promise((r) => setTimeout(r, 250));
            const done = (await passes(client, workflowId)).find((p) => p.scheduledAt >= askedAt && p.totalMs > 0);
            if (done) {
              noChange.push(done);
              break;
            }
            if (Date.now() - askedAt > 120_000) throw new Error('no-change pass: none seen after 2 minutes');
          }
        }
      },
    );

  const first = process.env.SLUICE_BENCH_APPSET_FIRST ? 'appset' : 'apps';
  const a = first === 'apps' ? await direct() : undefined;
  const s = await viaAppSet();
  const d = a ?? (await direct());

  console.log(
    `Applications:                                ${N} (one ConfigMap each, one shared repository), ${first === 'apps' ? 'direct first' : 'ApplicationSet first'}`,
  );
  console.log(`direct: all exist (created) after:           ${seconds(d.existMs)}`);
  console.log(`direct: all Synced and Healthy after:        ${seconds(d.syncedMs)}`);
  console.log(`ApplicationSet: all exist after:             ${seconds(s.existMs)}`);
  console.log(`ApplicationSet: all Synced and Healthy after: ${seconds(s.syncedMs)}`);
  const added = (s.syncedMs / d.syncedMs - 1) * 100;
  console.log(`what the ApplicationSet adds:                ${added.toFixed(1)}%  (target ≤ 10%)`);
  const during = syncPasses.filter((p) => p.totalMs > 0);
  console.log(
    `ApplicationSet passes until all were synced: ${syncPasses.length} (pass activity run p50 ${Math.round(
      percentile(
        during.map((p) => p.readRunMs),
        50,
      ),
    )} ms, max ${Math.max(0, ...during.map((p) => p.readRunMs))} ms; whole pass max ${Math.max(0, ...during.map((p) => p.totalMs))} ms)`,
  );
  const totals = noChange.map((p) => p.totalMs);
  console.log(
    `no-change pass over ${N} Applications:       p50 ${percentile(totals, 50)} ms, max ${Math.max(...totals)} ms  (target < 2000 ms; ${NO_CHANGE_PASSES} passes: ${noChange
      .map((p) => `${p.totalMs} ms [read+plan ${p.readRunMs} ms run, ${p.readMs} ms with queueing; ${p.activities.join(', ')}]`)
      .join('; ')})`,
  );
  printCpuDeltas('direct, until all were synced', d.cpu, d.cpuAfter);
  printCpuDeltas('ApplicationSet, until all were synced', s.cpu, s.cpuAfter);

  fs.rmSync(repoDir, { recursive: true, force: true });
  await stack.stop();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
