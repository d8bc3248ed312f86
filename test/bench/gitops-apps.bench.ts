// Benchmark (prints figures; not a pass/fail test): N Applications (default 1,000), each
// one ConfigMap from one shared repository, created at once. Measures the time until all
// are Synced and Healthy, applications per second, the process's resident memory, a
// no-op reconcile pass over all of them, and as the reference, in the same run,
// `kubectl apply --server-side` of the same N ConfigMaps.
//   node dist/test/bench/gitops-apps.bench.js            (SLUICE_BENCH_APPS=200 for fewer)
// BENCH_PEER=flux: then the same applications on Flux (test/bench/flux-peer.ts), and the ratios.
// BENCH_TIMELINE=1 also prints where the time went: per activity type and for workflow tasks,
// the wait in the task queue (scheduled → started) and the run time, over the app workflows
// (and their first sync children, in code from before syncs ran inside them), and the slowest app's history.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { inform } from '../../k8s/informer';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { applicationNudgeSignal, applicationWorkflowId, syncWorkflowId } from '../../workflows/definitions';
import { configFromEnv } from '../../worker/config';
import { startSluice } from '../../cmd/process';
import { createNamespace, kubectl, testStack } from '../support/stack';
import { apiserverRequests, cpuByProgram, printCpuDeltas, printRequestDeltas } from './bench-support';
import { compareWithFlux, fluxPeerAsked } from './flux-peer';

const N = Number(process.env.SLUICE_BENCH_APPS ?? 1000);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function main() {
  const stack = await testStack();
  const ns = await createNamespace(stack.kube, 'bench');
  const refNs = await createNamespace(stack.kube, 'bench-ref');
  const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-repo-'));
  process.env.SLUICE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-home-'));
  const configMap = (i: number, namespace?: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n${namespace ? `  namespace: ${namespace}\n` : ''}data:\n  index: "${i}"\n`;
  for (let i = 0; i < N; i++) {
    fs.mkdirSync(path.join(repoDir, `app-${i}`));
    fs.writeFileSync(path.join(repoDir, `app-${i}`, 'configmap.yaml'), configMap(i));
  }
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: repoDir,
      env: { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@b', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@b' },
    });
  git(['init', '--quiet']);
  git(['add', '-A']);
  git(['commit', '--quiet', '-m', 'bench']);

  // Reference: the same ConfigMaps with kubectl's server-side apply, in one call.
  const refFile = path.join(os.tmpdir(), `sluice-bench-ref-${process.pid}.yaml`);
  fs.writeFileSync(refFile, Array.from({ length: N }, (_, i) => configMap(i, refNs)).join('---\n'));
  const refStarted = Date.now();
  await kubectl(stack, ['apply', '--server-side', '-f', refFile]);
  const referenceMs = Date.now() - refStarted;

  const config = {
    ...configFromEnv({}),
    temporalAddress: stack.temporalAddress,
    taskQueue: `sluice-${ns}`,
    watchNamespace: ns,
    apiPort: 0,
    maxCachedWorkflows: N + 100,
    applicationTimings: { reconcileMs: 3_600_000, jitterMs: 0 },
  };
  const sluice = await startSluice(config, stack.kube, () => undefined);
  const rssBefore = process.memoryUsage().rss;

  // The Applications as a watch delivers them: polling with a LIST of all N every second
  // loaded the API server and this process with work Sluice does not do (a few seconds of
  // CPU per pass at 1,000). Each copy is stamped with when it arrived.
  const apps = new Map<string, KubeObject>();
  const doneAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const watching = new AbortController();
  void inform(
    { kube: stack.kube, resource: Resources.application, namespace: ns, signal: watching.signal, log: (msg, f) => console.error(msg, f) },
    (type, app) => {
      if (type === 'DELETED') apps.delete(app.metadata.name);
      else apps.set(app.metadata.name, app);
      seenAt.set(app.metadata.name, Date.now());
      if (app.status?.sync?.status === 'Synced' && app.status?.health?.status === 'Healthy' && !doneAt.has(app.metadata.name))
        doneAt.set(app.metadata.name, Date.now());
    },
  );

  const cpuBefore = cpuByProgram();
  const requestsBefore = process.env.BENCH_APISERVER ? await apiserverRequests(stack.kube) : undefined;
  const started = Date.now();
  await inBatches([...Array(N).keys()], 50, (i) =>
    stack.kube.create(Resources.application, ns, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: `app-${i}`, namespace: ns },
      spec: {
        project: 'default',
        source: { repoURL: `file://${repoDir}`, targetRevision: 'HEAD', path: `app-${i}` },
        destination: { server: 'https://kubernetes.default.svc', namespace: ns },
        syncPolicy: { automated: { prune: true } },
      },
    }),
  );
  const createdMs = Date.now() - started;
  let peakRss = 0;
  while (doneAt.size < N) {
    await new Promise((r) => setTimeout(r, 1000));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.stdout.write(`\r  ${doneAt.size}/${N} Synced and Healthy after ${seconds(Date.now() - started)}   `);
    if (Date.now() - started > 30 * 60_000) throw new Error('gave up after 30 minutes');
  }
  const syncedMs = Math.max(...doneAt.values()) - started;
  console.log('');
  const cpuSynced = cpuByProgram();
  const requestsSynced = requestsBefore && (await apiserverRequests(stack.kube));

  // A no-op reconcile pass: every Application refreshed, nothing to change.
  const passStarted = Date.now();
  const passMonotonic = process.hrtime.bigint() / 1000n;
  const since = new Date(passStarted).toISOString();
  await inBatches([...Array(N).keys()], 100, (i) =>
    sluice.client.workflow
      .getHandle(applicationWorkflowId({ namespace: ns, name: `app-${i}` }))
      .signal(applicationNudgeSignal, { reason: 'bench reconcile pass', refresh: 'normal', askedAt: Date.now() }),
  );
  const signalledMs = Date.now() - passStarted;
  let lastReconciled = 0;
  for (let reconciled = 0; reconciled < N;) {
    await new Promise((r) => setTimeout(r, 200));
    reconciled = 0;
    for (const a of apps.values()) {
      if ((a.status?.reconciledAt ?? '') < since) continue;
      reconciled++;
      lastReconciled = Math.max(lastReconciled, seenAt.get(a.metadata.name) ?? 0);
    }
    if (Date.now() - passStarted > 10 * 60_000) throw new Error('reconcile pass gave up after 10 minutes');
  }
  const passMs = lastReconciled - passStarted;
  const passTimes = [...apps.values()].map((a) => (seenAt.get(a.metadata.name) ?? 0) - passStarted).sort((a, b) => a - b);
  // For a --cpu-prof of this process: V8's profile timestamps are this clock's microseconds.
  if (process.execArgv.some((a) => a.startsWith('--cpu-prof')))
    console.error(`no-op pass window (monotonic µs): ${passMonotonic} ${process.hrtime.bigint() / 1000n}`);
  const cpuPassed = cpuByProgram();
  if (requestsBefore && requestsSynced) {
    printRequestDeltas('until all were synced', requestsBefore, requestsSynced);
    printRequestDeltas('during the no-op pass', requestsSynced, await apiserverRequests(stack.kube));
  }
  if (process.env.BENCH_TIMELINE) {
    const slowest = [...doneAt.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    await printBreakdown(sluice.client, ns, [...doneAt.keys()], slowest, started);
  }

  console.log(`applications:                 ${N} (one ConfigMap each, one shared repository)`);
  console.log(`created in:                   ${seconds(createdMs)}`);
  console.log(`all Synced and Healthy after: ${seconds(syncedMs)}  (target ≤ 60 s)`);
  console.log(`applications per second:      ${(N / (syncedMs / 1000)).toFixed(1)}`);
  console.log(
    `reference kubectl apply --server-side of ${N} ConfigMaps: ${seconds(referenceMs)}  (ratio ${(syncedMs / referenceMs).toFixed(1)}×, target ≤ 10×)`,
  );
  console.log(
    `no-op reconcile pass:         ${seconds(passMs)}  (target ≤ 15 s at 1,000; all signalled after ${seconds(signalledMs)}, half reconciled after ${seconds(passTimes[Math.floor(passTimes.length / 2)] ?? 0)})`,
  );
  printCpuDeltas('until all were synced', cpuBefore, cpuSynced);
  printCpuDeltas('during the no-op pass', cpuSynced, cpuPassed);
  // Every program the bench started (not the hypervisor's steal), so this includes the bench's own watch and signals.
  const perApp = (before: Map<string, number>, after: Map<string, number>) =>
    ([...after].filter(([k]) => !k.startsWith('(')).reduce((sum, [k, v]) => sum + v - (before.get(k) ?? 0), 0) * 1000) / N;
  console.log(
    `CPU per Application, all processes: ${perApp(cpuBefore, cpuSynced).toFixed(0)} ms until all were synced, ${perApp(cpuSynced, cpuPassed).toFixed(1)} ms in the no-op pass`,
  );
  console.log(
    `resident memory (this process: worker, watcher, API and the bench): ${Math.round(rssBefore / 2 ** 20)} MiB before, ${Math.round(peakRss / 2 ** 20)} MiB peak`,
  );

  // After the figures above (it reads every app's history): workflow tasks that waited past
  // the sticky queue's schedule-to-start timeout (redelivered on the normal queue with the
  // whole history) or past their start-to-close timeout (redone).
  const timeouts = await taskTimeouts(sluice.client, ns, N, passStarted);
  console.log(`workflow task timeouts until all were synced: ${timeouts.synced}`);
  console.log(`workflow task timeouts in the no-op pass:     ${timeouts.pass}`);

  watching.abort();
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  await stack.kube.delete(Resources.namespace, undefined, refNs).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 3000)); // the deletions end the workflows
  await sluice.stop();
  fs.rmSync(repoDir, { recursive: true, force: true });
  fs.rmSync(refFile, { force: true });
  await stack.stop();

  // BENCH_PEER=flux: the same applications on Flux, on a control plane of its own once Sluice's is gone; prints both and the ratios.
  if (fluxPeerAsked()) await compareWithFlux({ apps: N, firstSyncMs: syncedMs, passMs, cpu: [cpuBefore, cpuSynced, cpuPassed] }, (i) => configMap(i));
}

/** Workflow task timeouts in every app's history, before and after `splitAt` (epoch ms), by kind, and how many apps had one. */
async function taskTimeouts(client: Client, ns: string, n: number, splitAt: number): Promise<{ synced: string; pass: string }> {
  const counts = [0, 1].map(() => ({ sticky: 0, stickyApps: 0, startToClose: 0, startToCloseApps: 0 }));
  await inBatches([...Array(n).keys()], 20, async (i) => {
    const events = (await client.workflow.getHandle(applicationWorkflowId({ namespace: ns, name: `app-${i}` })).fetchHistory()).events ?? [];
    const seen = [0, 1].map(() => ({ sticky: false, startToClose: false }));
    for (const e of events) {
      const timedOut = e.workflowTaskTimedOutEventAttributes;
      if (!timedOut) continue;
      const phase = timeOf(e) < splitAt ? 0 : 1;
      if (timedOut.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START) {
        counts[phase]!.sticky++;
        seen[phase]!.sticky = true;
      } else {
        counts[phase]!.startToClose++;
        seen[phase]!.startToClose = true;
      }
    }
    seen.forEach((s, phase) => {
      if (s.sticky) counts[phase]!.stickyApps++;
      if (s.startToClose) counts[phase]!.startToCloseApps++;
    });
  });
  const say = (c: (typeof counts)[number]) =>
    `${c.sticky} schedule-to-start (sticky queue) in ${c.stickyApps} apps, ${c.startToClose} start-to-close in ${c.startToCloseApps} apps`;
  return { synced: say(counts[0]!), pass: say(counts[1]!) };
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];
const timeOf = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
const idOf = (v: unknown) => Number(v ?? 0);
const typeOf = (e: HistoryEvent) => String(temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? e.eventType);

/** Queue waits and run times by activity type and for workflow tasks, until each app first synced; the slowest app's events. */
async function printBreakdown(client: Client, ns: string, apps: string[], slowest: string, started: number): Promise<void> {
  const stats = new Map<string, { n: number; wait: number; run: number; maxWait: number }>();
  const add = (what: string, wait: number, run: number) => {
    const s = stats.get(what) ?? { n: 0, wait: 0, run: 0, maxWait: 0 };
    s.n++;
    s.wait += wait;
    s.run += run;
    s.maxWait = Math.max(s.maxWait, wait);
    stats.set(what, s);
  };
  const firstEvent: number[] = [];
  for (const app of apps) {
    for (const [kind, id] of [
      ['app', applicationWorkflowId({ namespace: ns, name: app })],
      ['sync', syncWorkflowId({ namespace: ns, name: app }, 1)],
    ] as const) {
      let events: HistoryEvent[];
      try {
        events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
      } catch {
        continue;
      }
      if (kind === 'app' && events[0]) firstEvent.push(timeOf(events[0]) - started);
      const byId = new Map(events.map((e) => [idOf(e.eventId), e]));
      for (const e of events) {
        const type = typeOf(e);
        const at = timeOf(e);
        if (at > started + 10 * 60_000) break;
        if (e.activityTaskStartedEventAttributes) {
          const scheduled = byId.get(idOf(e.activityTaskStartedEventAttributes.scheduledEventId));
          const done = events.find(
            (x) =>
              idOf(
                x.activityTaskCompletedEventAttributes?.startedEventId ??
                  x.activityTaskFailedEventAttributes?.startedEventId ??
                  x.activityTaskTimedOutEventAttributes?.startedEventId,
              ) === idOf(e.eventId),
          );
          const name = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
          add(`${kind} activity ${name}`, at - timeOf(scheduled!), done ? timeOf(done) - at : 0);
        } else if (e.workflowTaskStartedEventAttributes) {
          const scheduled = byId.get(idOf(e.eventId) - 1);
          const next = byId.get(idOf(e.eventId) + 1);
          add(`${kind} workflow task`, scheduled ? at - timeOf(scheduled) : 0, next ? timeOf(next) - at : 0);
          if (next && typeOf(next).includes('TIMED_OUT')) add(`${kind} workflow task timed out`, 0, 0);
        } else if (e.markerRecordedEventAttributes) add(`${kind} local activity ${e.markerRecordedEventAttributes.markerName}`, 0, 0);
        else if (type.includes('START_CHILD_WORKFLOW_EXECUTION_INITIATED')) {
          const startedChild = events.find((x) => idOf(x.childWorkflowExecutionStartedEventAttributes?.initiatedEventId) === idOf(e.eventId));
          if (startedChild) add(`${kind} child start`, timeOf(startedChild) - at, 0);
        }
      }
    }
  }
  firstEvent.sort((a, b) => a - b);
  console.error(
    `app workflows started after creation began: first ${firstEvent[0]} ms, median ${firstEvent[Math.floor(firstEvent.length / 2)]} ms, last ${firstEvent[firstEvent.length - 1]} ms`,
  );
  console.error('what (count): mean queue wait / max queue wait / mean run, in ms');
  for (const [what, s] of [...stats.entries()].sort())
    console.error(`  ${what} (${s.n}): ${Math.round(s.wait / s.n)} / ${s.maxWait} / ${Math.round(s.run / s.n)}`);
  console.error(`slowest app ${slowest}:`);
  for (const id of [applicationWorkflowId({ namespace: ns, name: slowest }), syncWorkflowId({ namespace: ns, name: slowest }, 1)]) {
    // A sync runs inside the app's workflow now: there is no sync workflow to show.
    const events =
      (
        await client.workflow
          .getHandle(id)
          .fetchHistory()
          .catch(() => undefined)
      )?.events ?? [];
    for (const e of events) {
      const at = timeOf(e) - started;
      if (at > 10 * 60_000) break;
      const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? e.markerRecordedEventAttributes?.markerName ?? '';
      console.error(`${String(at).padStart(8)} ms  ${id.split('/')[0]} ${typeOf(e).replace('EVENT_TYPE_', '')} ${name}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
