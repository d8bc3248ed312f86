// The Application workflow and its sync child against a real Temporal server, with
// activities stubbed: the order of a sync's steps (PreSync hook before the wave, the wave
// applied then awaited), the status projected after it, automated sync once per revision,
// and retry with backoff after a failed wave.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { ApplicationActivities } from '../../activities/application';
import type { SyncActivities } from '../../activities/sync';
import { prebuiltBundlePath } from '../../worker/worker';
import { applicationNudgeSignal, applicationWorkflowId, appHistoryQuery, appSyncUpdate } from '../../workflows/definitions';
import { ApplicationCommands } from '../../api/application-commands';
import type { ApplicationSpec, Comparison } from '../../domain/applications/types';
import { passStatus, syncExpected, type OperationState } from '../../domain/applications/reconcile';
import { applicationWorkflow } from '../../workflows/application';
import type { ApplicationTimings } from '../../workflows/application-run';
import { RECONCILE_LOOP_REASON, SELF_HEAL_LOOP_LIMIT } from '../../domain/applications/self-heal-loop';
import type { ManifestResource } from '../../domain/sync/resources';
import { eventually } from '../support/stack';
import { repoRoot } from '../support/paths';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await testWorkflowEnvironment();
});
after(() => env?.teardown());

const REV_A = 'a'.repeat(40);
const hook: ManifestResource = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {
    name: 'backup',
    namespace: 'shop',
    annotations: { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded' },
  },
};
const config: ManifestResource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' } };

/** A cluster in memory: a compare is OutOfSync until a wave has been applied and awaited healthy. */
const inSync: ManifestResource = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unchanged', namespace: 'shop' } };

interface StubOptions {
  failWaves?: number;
  withUnchanged?: boolean;
  /** What checkSyncWindows answers (mutable, so a test can open the window). */
  window?: { allowed: boolean; message?: string };
  /** Called as each wave is awaited (e.g. to close a window mid-sync, or to nudge the app). */
  onWave?: (workflowId: string) => void | Promise<void>;
  /** Something else changes the ConfigMap back at once: every compare finds it OutOfSync. */
  changedBack?: boolean;
  /** The Application's status already shows this operation Running, its wave applied (a task lost with its worker). */
  inProgress?: OperationState;
}

function stubs(spec: ApplicationSpec, calls: string[], statuses: any[], opts: StubOptions = {}, workflowId = '') {
  let applied = !!opts.inProgress;
  let failWaves = opts.failWaves ?? 0;
  // status.operationState as the object shows it while Running: what observe reports.
  let shown = opts.inProgress;
  const written = (status: any) => {
    if (status.operationState) shown = status.operationState.phase === 'Running' ? status.operationState : undefined;
    statuses.push(status);
  };
  const comparison = (): Comparison => {
    const synced = applied && !opts.changedBack;
    return compared(synced);
  };
  const compared = (synced: boolean): Comparison => ({
    revision: REV_A,
    resources: [
      {
        group: '',
        version: 'v1',
        kind: 'ConfigMap',
        namespace: 'shop',
        name: 'settings',
        status: synced ? 'Synced' : 'OutOfSync',
        health: synced ? { status: 'Healthy' } : { status: 'Missing' },
      },
      ...(opts.withUnchanged
        ? [
            {
              group: '',
              version: 'v1',
              kind: 'ConfigMap',
              namespace: 'shop',
              name: 'unchanged',
              status: 'Synced' as const,
              health: { status: 'Healthy' as const },
            },
          ]
        : []),
    ],
    syncStatus: synced ? 'Synced' : 'OutOfSync',
    health: synced ? 'Healthy' : 'Missing',
    kinds: ['|ConfigMap'],
  });
  const app: Partial<ApplicationActivities> = {
    async diffApplication() {
      return '';
    },
    async prepareSync() {
      calls.push('prepareSync');
      return { revision: REV_A, manifests: opts.withUnchanged ? [hook, config, inSync] : [hook, config], liveOnly: [] };
    },
    async writeApplicationStatus(_ref, status) {
      written(status);
    },
    async reconcileApplication(input) {
      const obs = { exists: true, generation: 1, spec, ...(shown ? { operationInProgress: shown } : {}) };
      // As the real pass: the post-sync compare says when it began reading the cluster.
      const read = input.fromServer ? { readSinceMs: Date.now() } : {};
      calls.push('compare');
      const c = comparison();
      const pass = passStatus({ spec, comparison: c, status: input.status, nowIso: new Date().toISOString(), reportReconcile: input.reportReconcile });
      if (!pass.write || syncExpected({ spec, comparison: c, lastAuto: input.lastAuto, nowMs: input.nowMs, requested: !!input.syncRequested }))
        return { obs, comparison: c, errorSince: pass.errorSince, ...read };
      written(pass.status);
      return { obs, comparison: c, errorSince: pass.errorSince, written: pass.key, ...read };
    },
    async recordApplicationEvent(_ref, ev) {
      calls.push(`event ${ev.reason}`);
    },
    async checkSyncWindows(input) {
      calls.push(`checkSyncWindows ${input.manual ? 'manual' : 'automated'}`);
      return opts.window ?? { allowed: true };
    },
    async awaitPruneConfirmation() {
      return true;
    },
  };
  const sync: SyncActivities = {
    async ensureNamespace() {},
    async applyWave(input) {
      calls.push(`applyWave ${input.manifests.map((m) => m.metadata.name).join(',')}`);
      return input.manifests.map((m) => ({
        group: '',
        version: 'v1',
        kind: m.kind,
        namespace: 'shop',
        name: m.metadata.name,
        status: 'Synced' as const,
        message: 'applied',
        syncPhase: input.phase,
      }));
    },
    async awaitWaveHealthy() {
      calls.push('awaitWaveHealthy');
      await opts.onWave?.(workflowId);
      if (failWaves-- > 0) return { healthy: false, message: 'ConfigMap/settings is Degraded' };
      applied = true;
      return { healthy: true, message: '' };
    },
    // Both steps in one, as the real one does (the calls read the same either way).
    async applyWaveAndLook(input) {
      const done = await sync.applyWave(input);
      return { applied: done, health: input.dryRun ? undefined : await sync.awaitWaveHealthy({ manifests: input.manifests, timeoutMs: input.lookMs }) };
    },
    async runHook(input) {
      calls.push(`runHook ${input.manifest.metadata.name}`);
    },
    async awaitHook(input) {
      calls.push(`awaitHook ${input.manifest.metadata.name}`);
      return { phase: 'Succeeded', message: 'job completed' };
    },
    async deleteResources(input) {
      calls.push(`delete ${input.manifests.map((m) => m.metadata.name).join(',')}`);
      return [];
    },
  };
  return { ...app, ...sync } as ApplicationActivities & SyncActivities;
}

async function runApp(
  spec: ApplicationSpec,
  opts: StubOptions,
  body: (h: { calls: string[]; statuses: any[]; workflowId: string }) => Promise<void>,
  reconcileMs = 600_000,
  timings: Partial<ApplicationTimings> = {},
) {
  const calls: string[] = [];
  const statuses: any[] = [];
  const taskQueue = `wf-app-${Date.now()}-${Math.round(Math.random() * 1e6)}`;
  const workflowId = `application/shop/web-${taskQueue}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: stubs(spec, calls, statuses, opts, workflowId),
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(applicationWorkflow, {
      taskQueue,
      workflowId,
      args: [{ namespace: 'shop', name: 'web', timings: { reconcileMs, jitterMs: 0, ...timings } }],
    });
    try {
      await body({ calls, statuses, workflowId });
    } finally {
      await handle.terminate('test done');
    }
  });
}

const automated: ApplicationSpec = {
  source: { repoURL: 'https://git.example.com/r', path: 'shop' },
  destination: { namespace: 'shop' },
  syncPolicy: { automated: { prune: true } },
};

test('automated sync: PreSync hook, then the wave applied and awaited; hook deleted; status Synced with history', async () => {
  await runApp(automated, {}, async ({ calls, statuses, workflowId }) => {
    const last = () => statuses[statuses.length - 1];
    await eventually(
      'status Synced after a Succeeded operation',
      async () => last()?.operationState?.phase === 'Succeeded' && last()?.sync?.status === 'Synced',
      20_000,
    );
    const syncSteps = calls.filter((c) => c !== 'compare' && !c.startsWith('checkSyncWindows'));
    assert.deepEqual(syncSteps, ['prepareSync', 'runHook backup', 'awaitHook backup', 'delete backup', 'applyWave settings', 'awaitWaveHealthy']);
    assert.equal(last().history.length, 1);
    assert.equal(last().history[0].revision, REV_A);
    assert.equal(statuses[0].operationState?.phase, 'Running', 'the pass that decides to sync leaves the first write to the operation');
    assert.equal(last().operationState.operation.initiatedBy.automated, true);
    // A nudge with nothing new: compared again, not synced again.
    await env.client.workflow.getHandle(workflowId).signal(applicationNudgeSignal, { reason: 'test' });
    await eventually('compared again', async () => calls.filter((c) => c === 'compare').length >= 3, 10_000);
    assert.equal(calls.filter((c) => c === 'prepareSync').length, 1);
    assert.equal((await env.client.workflow.getHandle(workflowId).query(appHistoryQuery)).length, 1);
    if (process.env.SLUICE_RECORD_HISTORIES) {
      // Guards determinism: test/workflow/replay.test.ts replays these against today's code.
      const dir = path.join(repoRoot, 'test', 'fixtures', 'histories');
      // The sync ran inside it (app-inline-sync); application-sync.json, a sync child from
      // before, stays as the history of runs that still start children.
      fs.writeFileSync(path.join(dir, 'application.json'), historyToJSON(await env.client.workflow.getHandle(workflowId).fetchHistory()));
    }
  });
});

test('nudges from the resources a sync changed need no pass of their own; a change of the Application still gets one', async () => {
  for (const [nudge, compares] of [
    // As the watcher sends them: when it saw the change (a sync inside the workflow gets
    // them after its post-sync compare, which covers a change seen before it began).
    [{ reason: 'ConfigMap settings added', managed: true }, 2], // the first compare and the one after the sync
    [{ reason: 'application modified' }, 3], // and one more for the Application's change
  ] as const) {
    const onWave = (workflowId: string) =>
      env.client.workflow.getHandle(workflowId).signal(applicationNudgeSignal, { ...nudge, ...('managed' in nudge ? { askedAt: Date.now() } : {}) });
    await runApp(automated, { onWave }, async ({ calls, statuses }) => {
      await eventually('status Synced after a Succeeded operation', async () => statuses[statuses.length - 1]?.operationState?.phase === 'Succeeded', 20_000);
      await new Promise((r) => setTimeout(r, 1500)); // time for a pass that should not happen
      assert.equal(calls.filter((c) => c === 'compare').length, compares, `${nudge.reason}: ${calls.join(', ')}`);
    });
  }
});

test('an operation the status shows Running that the workflow does not know (its task lost with a worker) is run again under its start, then Succeeded', async () => {
  const manual: ApplicationSpec = { ...automated, syncPolicy: {} };
  const startedAt = '2026-12-05T04:21:16Z';
  const inProgress: OperationState = {
    operation: { sync: { revision: REV_A }, initiatedBy: { automated: true } },
    phase: 'Running',
    message: 'syncing',
    startedAt,
  };
  await runApp(manual, { inProgress }, async ({ calls, statuses }) => {
    await eventually('the resumed operation Succeeded', async () => statuses.some((s) => s.operationState?.phase === 'Succeeded'), 20_000, 50);
    const done = statuses.find((s) => s.operationState?.phase === 'Succeeded');
    assert.equal(done.operationState.startedAt, startedAt, 'resumed under its own start');
    assert.equal(done.operationState.operation.initiatedBy.automated, true);
    assert.equal(done.sync.status, 'Synced');
    assert.equal(calls.filter((c) => c.startsWith('applyWave')).length, 1, `one sync: ${calls.join(' ')}`);
    // Once it shows Succeeded, nothing runs again.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(calls.filter((c) => c.startsWith('applyWave')).length, 1, `still one sync: ${calls.join(' ')}`);
  });
});

test('a nudged pass keeps the periodic reconcile timer, which still fires on time', async () => {
  await runApp(
    automated,
    {},
    async ({ calls, statuses, workflowId }) => {
      await eventually('status Synced after a Succeeded operation', async () => statuses[statuses.length - 1]?.operationState?.phase === 'Succeeded', 20_000);
      const handle = env.client.workflow.getHandle(workflowId);
      const compares = () => calls.filter((c) => c === 'compare').length;
      const before = compares();
      for (let i = 1; i <= 2; i++) {
        await handle.signal(applicationNudgeSignal, { reason: 'test' });
        await eventually(`nudged pass ${i}`, async () => compares() >= before + i, 10_000);
      }
      const events = (await handle.fetchHistory()).events ?? [];
      const types = events.map((e) => String(e.eventType));
      // Two patch markers, the runaway guard's and app-inline-sync (README § Changing workflow code); none per pass.
      assert.deepEqual(
        events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length,
        2,
        'the self-heal-loop-guard and app-inline-sync patches are recorded once per run',
      );
      assert.equal(
        types.filter((t) => t === String(temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_CANCELED)).length,
        0,
        'no timer was cancelled by the nudges',
      );
      assert.equal(
        types.filter((t) => t === String(temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED)).length,
        1,
        'one periodic timer across the nudged passes',
      );
      const reported = statuses.length;
      await eventually('the periodic reconcile ran and reported reconciledAt', async () => compares() >= before + 3 && statuses.length > reported, 15_000);
    },
    6_000,
  );
});

test('a failed wave is retried with backoff when retry allows, and the operation then Succeeds', async () => {
  const spec = { ...automated, syncPolicy: { ...automated.syncPolicy, retry: { limit: 2, backoff: { duration: '1s', factor: 2 } } } };
  await runApp(spec, { failWaves: 1 }, async ({ calls, statuses }) => {
    const last = () => statuses[statuses.length - 1];
    await eventually('Succeeded after a retry', async () => last()?.operationState?.phase === 'Succeeded', 20_000);
    assert.ok(
      statuses.some((s) => /retrying attempt #1/.test(s.operationState?.message ?? '')),
      'the retry was shown on the status',
    );
    assert.equal(calls.filter((c) => c === 'prepareSync').length, 2);
    assert.equal(last().operationState.retryCount, 1);
  });
});

test('ApplyOutOfSyncOnly=true applies only what the compare found out of sync', async () => {
  const spec = { ...automated, syncPolicy: { ...automated.syncPolicy, syncOptions: ['ApplyOutOfSyncOnly=true'] } };
  await runApp(spec, { withUnchanged: true }, async ({ calls, statuses }) => {
    await eventually('Succeeded', async () => statuses[statuses.length - 1]?.operationState?.phase === 'Succeeded', 20_000);
    assert.deepEqual(
      calls.filter((c) => c.startsWith('applyWave')),
      ['applyWave settings'],
    );
  });
});

test('a sync window holding back an automated sync: nothing applied, the operation shows the window; it runs once the window allows', async () => {
  const window = { allowed: false, message: "Sync operation blocked by sync window: deny window '* * * * *' for 1h is active" };
  await runApp(automated, { window }, async ({ calls, statuses, workflowId }) => {
    const last = () => statuses[statuses.length - 1];
    await eventually('the blocked operation on the status', async () => last()?.operationState?.message === window.message, 20_000);
    assert.equal(last().operationState.phase, 'Running');
    assert.equal(last().operationState.operation.initiatedBy.automated, true);
    assert.ok(calls.includes('checkSyncWindows automated'));
    assert.equal(calls.filter((c) => c === 'prepareSync').length, 0, 'no sync started');
    window.allowed = true;
    await env.client.workflow.getHandle(workflowId).signal(applicationNudgeSignal, { reason: 'test' });
    await eventually('synced once the window allows', async () => last()?.operationState?.phase === 'Succeeded', 20_000);
    assert.equal(calls.filter((c) => c === 'prepareSync').length, 1);
  });
});

test('a window closing while a sync runs does not interrupt it (checked only when an operation starts)', async () => {
  const window = { allowed: true, message: undefined as string | undefined };
  const spec = { ...automated, syncPolicy: { ...automated.syncPolicy, retry: { limit: 2, backoff: { duration: '1s', factor: 2 } } } };
  const close = () => void Object.assign(window, { allowed: false, message: 'Sync operation blocked by sync window: deny window closed meanwhile' });
  await runApp(spec, { window, failWaves: 1, onWave: close }, async ({ calls, statuses }) => {
    const last = () => statuses[statuses.length - 1];
    await eventually('Succeeded, through a retry, after the window closed', async () => last()?.operationState?.phase === 'Succeeded', 20_000);
    assert.equal(window.allowed, false, 'the window closed during the sync');
    assert.equal(calls.filter((c) => c.startsWith('checkSyncWindows')).length, 1, 'asked once, before the operation started');
    assert.equal(calls.filter((c) => c === 'prepareSync').length, 2, 'the retry ran too');
  });
});

test('runaway guard: a resource changed back after every self-heal stops self-heal with a ReconcileLoop condition and one Event; a manual sync resumes it', async () => {
  const spec: ApplicationSpec = { ...automated, syncPolicy: { automated: { prune: true, selfHeal: true } } };
  await runApp(
    spec,
    { changedBack: true },
    async ({ calls, statuses, workflowId }) => {
      const syncs = () => calls.filter((c) => c === 'prepareSync').length;
      const looping = (s: any) => (s?.conditions ?? []).some((c: any) => c.type === RECONCILE_LOOP_REASON);
      await eventually('the ReconcileLoop condition on the status', async () => looping(statuses[statuses.length - 1]), 30_000);
      // The first sync is the new revision's; the self-heals after it are counted.
      assert.equal(syncs(), 1 + SELF_HEAL_LOOP_LIMIT, 'stopped at the limit');
      const condition = statuses[statuses.length - 1].conditions.find((c: any) => c.type === RECONCILE_LOOP_REASON);
      assert.match(condition.message, /ConfigMap\/shop\/settings drifted from Git again after 10 self-heal syncs/);
      assert.equal(calls.filter((c) => c === `event ${RECONCILE_LOOP_REASON}`).length, 1);
      // Still stopped after more passes; nothing synced, no second Event.
      const handle = env.client.workflow.getHandle(workflowId);
      const compares = calls.filter((c) => c === 'compare').length;
      await handle.signal(applicationNudgeSignal, { reason: 'test' });
      await eventually('compared again', async () => calls.filter((c) => c === 'compare').length > compares, 10_000);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(syncs(), 1 + SELF_HEAL_LOOP_LIMIT);
      assert.equal(calls.filter((c) => c === `event ${RECONCILE_LOOP_REASON}`).length, 1);
      // Commands are still served: a manual sync runs and lifts the stop.
      await handle.executeUpdate(appSyncUpdate, { args: [{ prune: false }] });
      await eventually('the manual sync ran', async () => syncs() > 1 + SELF_HEAL_LOOP_LIMIT, 10_000);
      await eventually(
        'the condition gone after the manual sync',
        async () => statuses.some((s, i) => i > 0 && !looping(s) && looping(statuses[i - 1])),
        10_000,
      );
      if (process.env.SLUICE_RECORD_HISTORIES)
        fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'application-self-heal-loop.json'), historyToJSON(await handle.fetchHistory()));
    },
    600_000,
    { selfHealBackoffMs: 50 },
  );
});

test('history: more syncs than the run carries; the older entries are read back from the closed runs', async () => {
  const manual: ApplicationSpec = { source: automated.source, destination: automated.destination };
  const calls: string[] = [];
  const statuses: any[] = [];
  const taskQueue = `wf-app-hist-${Date.now()}`;
  const ref = { namespace: 'shop', name: `hist-${taskQueue}` };
  const workflowId = applicationWorkflowId(ref);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: prebuiltBundlePath },
    activities: stubs(manual, calls, statuses, {}, workflowId),
  });
  await worker.runUntil(async () => {
    // Two entries carried, a new run every 2 passes.
    const handle = await env.client.workflow.start(applicationWorkflow, {
      taskQueue,
      workflowId,
      args: [{ ...ref, timings: { reconcileMs: 600_000, jitterMs: 0 }, limits: { iterationsPerRun: 2, historyKept: 2 } }],
    });
    const SYNCS = 6;
    for (let id = 0; id < SYNCS; id++) {
      await eventually(
        `sync ${id} accepted`,
        async () => (await env.client.workflow.getHandle(workflowId).executeUpdate(appSyncUpdate, { args: [{}] })).message,
        20_000,
        200,
      );
      await eventually(`sync ${id} in the history`, async () => statuses.some((s) => s.history?.some((h: { id: number }) => h.id === id)), 20_000);
    }
    assert.equal((await env.client.workflow.getHandle(workflowId).query(appHistoryQuery)).length, 2, 'the run carries only the newest two');
    assert.notEqual((await env.client.workflow.getHandle(workflowId).describe()).runId, handle.firstExecutionRunId, 'the workflow continued as new');
    const history = await new ApplicationCommands(env.client).history(ref);
    assert.deepEqual(
      history.map((h) => h.id),
      [0, 1, 2, 3, 4, 5],
    );
    for (const h of history) assert.equal(h.revision, REV_A);
    assert.equal(calls.filter((c) => c === 'prepareSync').length, SYNCS, 'one sync per request');
    await env.client.workflow.getHandle(workflowId).terminate('test done');
  });
});
