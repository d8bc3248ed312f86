// startRolloutAnalysis / RolloutAnalysisHandle from inside a workflow, against the real
// Temporal server, with the Kubernetes and provider activities kept in memory: the run
// object is created with Argo's name and labels, its workflow runs as a child, and the
// verdict, a missing template and terminate reach the calling workflow.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { ApplicationFailure } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { testWorkflowEnvironment } from '../support/workflow-env';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { rolloutAnalysisRunName, type AnalysisActivities, type RolloutAnalysisInput } from '../../activities/analysis';
import { resolveRolloutArgs } from '../../domain/analysis/args';
import { buildRunSpec } from '../../domain/analysis/templates';
import { repoRoot } from '../support/paths';
import type { AnalysisPhase, AnalysisRunSpec, AnalysisRunStatus, AnalysisTemplateSpec, Measurement } from '../../domain/analysis/types';
import { analysisRunWorkflow } from '../../workflows/analysis-run';
import { rolloutAnalysisProbe, rolloutAnalysisTwice } from './analysis-test-workflows';

let env: TestWorkflowEnvironment;
let workflowBundle: { code: string };

before(async () => {
  env = await testWorkflowEnvironment();
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./analysis-test-workflows'), logger: new DefaultLogger('WARN') });
});
after(() => env?.teardown());

interface StoredRun {
  labels: Record<string, string>;
  owner: string;
  spec: AnalysisRunSpec;
  status?: AnalysisRunStatus;
}

/** An in-memory cluster: templates, runs, and a scripted Prometheus. */
function memoryActivities(
  templates: Record<string, AnalysisTemplateSpec>,
  phases: () => AnalysisPhase,
): { runs: Map<string, StoredRun>; activities: Partial<AnalysisActivities> } {
  const runs = new Map<string, StoredRun>();
  const activities: Partial<AnalysisActivities> = {
    async createRolloutAnalysisRun(input: RolloutAnalysisInput) {
      const named = input.analysis.templates.map((t) => {
        const spec = templates[t.templateName];
        if (!spec)
          throw ApplicationFailure.nonRetryable(`AnalysisTemplate "${t.templateName}" in namespace ${input.rollout.namespace} not found`, 'TemplateNotFound');
        return { name: t.templateName, clusterScope: !!t.clusterScope, spec };
      });
      const spec = buildRunSpec(named, resolveRolloutArgs(input.analysis.args ?? [], input.podHashes, {}));
      const name = rolloutAnalysisRunName(input);
      if (!runs.has(name))
        runs.set(name, { labels: { 'rollouts-pod-template-hash': input.podHashes.latest, 'rollout-type': input.kind }, owner: input.rollout.uid, spec });
      return { name };
    },
    async loadAnalysisRun(ref) {
      const run = runs.get(ref.name);
      const metadata = { name: ref.name, namespace: ref.namespace, labels: run?.labels ?? {}, annotations: {} };
      return run
        ? { exists: true, uid: `uid-${ref.name}`, metadata, spec: run.spec, status: run.status }
        : { exists: false, uid: '', metadata, spec: { metrics: [] } };
    },
    async writeAnalysisRunStatus(ref, _uid, status) {
      runs.get(ref.name)!.status = status;
      return new Date().toISOString();
    },
    async queryPrometheus(req): Promise<Measurement> {
      const t = new Date().toISOString();
      return { phase: phases(), value: `[${req.args.find((a) => a.name === 'hash')?.value ?? ''}]`, startedAt: t, finishedAt: t };
    },
    async readAnalysisRunOutcome(ref) {
      const run = runs.get(ref.name);
      return { exists: !!run, phase: run?.status?.phase, message: run?.status?.message ?? '' };
    },
  };
  return { runs, activities };
}

const templates: Record<string, AnalysisTemplateSpec> = {
  'error-rate': {
    args: [{ name: 'hash' }],
    metrics: [
      {
        name: 'error-rate',
        interval: '200ms',
        count: 3,
        successCondition: 'result[0] < 0.05',
        provider: { prometheus: { address: 'http://prom', query: 'x{hash="{{args.hash}}"}' } },
      },
    ],
  },
  forever: { metrics: [{ name: 'forever', interval: '200ms', provider: { prometheus: { address: 'http://prom', query: 'up' } } }] },
};

function input(templateName: string, stepIndex = 1): RolloutAnalysisInput {
  return {
    rollout: { namespace: 'shop', name: 'checkout', uid: 'ro-uid' },
    analysis: { templates: [{ templateName }], args: [{ name: 'hash', valueFrom: { podTemplateHashValue: 'Latest' } }] },
    kind: 'Step',
    stepIndex,
    revision: '2',
    podHashes: { stable: 'aaa111', latest: 'bbb222' },
  };
}

/**
 * As the real quick measurements do: a status the workflow hands to the measurement
 * (statusFirst) is written first, by the activities' own status write.
 */
function carrying(activities: Partial<AnalysisActivities>): Partial<AnalysisActivities> {
  const measure = activities.queryPrometheus!;
  return {
    ...activities,
    async queryPrometheus(req) {
      if (req.statusFirst) await activities.writeAnalysisRunStatus!(req.run, req.run.uid, req.statusFirst);
      return measure(req);
    },
  };
}

async function probe(activities: Partial<AnalysisActivities>, args: [RolloutAnalysisInput, number?]) {
  const taskQueue = `analysis-wf-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: carrying(activities) });
  return worker.runUntil(env.client.workflow.execute(rolloutAnalysisProbe, { taskQueue, workflowId: `probe-${taskQueue}`, args }));
}

test('a step analysis: run named like Argo, child workflow, Successful after count measurements', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  const result = await probe(activities, [input('error-rate')]);
  assert.deepEqual(result, { phase: 'Successful', message: '', runName: 'checkout-bbb222-2-1' });
  const run = runs.get('checkout-bbb222-2-1')!;
  assert.deepEqual(run.labels, { 'rollouts-pod-template-hash': 'bbb222', 'rollout-type': 'Step' });
  assert.equal(run.status!.metricResults[0].count, 3);
  assert.equal(run.status!.metricResults[0].measurements[0].value, '[bbb222]', 'podTemplateHashValue Latest reached the metric');
  if (process.env.SLUICE_RECORD_HISTORIES) {
    // The child's history, replayed by replay.test.ts against future workflow code.
    const history = await env.client.workflow.getHandle('analysisrun/shop/checkout-bbb222-2-1').fetchHistory();
    fs.writeFileSync(path.join(repoRoot, 'test', 'fixtures', 'histories', 'analysis-run.json'), historyToJSON(history));
  }
});

test('a failing analysis: Failed with a message naming the metric', async () => {
  const { activities } = memoryActivities(templates, () => 'Failed');
  const result = await probe(activities, [input('error-rate', 3)]);
  assert.equal((result as { phase: string }).phase, 'Failed');
  assert.equal((result as { message: string }).message, 'Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)');
});

test('an unknown template: the rollout gets an error naming it, and no run exists', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  const result = await probe(activities, [input('no-such-template')]);
  assert.deepEqual(result, { error: 'AnalysisTemplate "no-such-template" in namespace shop not found' });
  assert.equal(runs.size, 0);
});

test('terminate from the rollout: an interval-only run ends Successful, "Run Terminated"', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  const result = await probe(activities, [{ ...input('forever'), kind: 'Background', stepIndex: undefined }, 2500]);
  assert.deepEqual(result, { phase: 'Successful', message: 'Run Terminated', runName: 'checkout-bbb222-2' });
  const measured = runs.get('checkout-bbb222-2')!.status!.metricResults[0];
  assert.ok(measured.count >= 1, JSON.stringify(measured));
});

test('continueAsNew mid-run carries the counts: 5 measurements over three runs of the workflow', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  runs.set('long', {
    labels: {},
    owner: '',
    spec: { args: [{ name: 'hash', value: 'h' }], metrics: templates['error-rate'].metrics!.map((m) => ({ ...m, count: 5 })) },
  });
  const taskQueue = `analysis-can-${Date.now()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: carrying(activities) });
  const outcome = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(analysisRunWorkflow, {
      taskQueue,
      workflowId: `analysisrun/shop/long-${taskQueue}`,
      args: [{ namespace: 'shop', name: 'long', measurementsPerRun: 2 }],
    });
    const result = await handle.result();
    const { executions } = await collectRuns(handle.workflowId);
    return { result, executions };
  });
  assert.deepEqual(outcome.result, { phase: 'Successful', message: '' });
  assert.equal(outcome.executions, 3, 'two continueAsNew');
  const r = runs.get('long')!.status!.metricResults[0];
  assert.equal(r.count, 5);
  assert.equal(r.measurements.length, 5);
});

async function collectRuns(workflowId: string): Promise<{ executions: number }> {
  let executions = 0;
  for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) executions++;
  return { executions };
}

test('the same analysis asked for twice while it runs: one run, both handles get its verdict', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  const taskQueue = `analysis-twice-${Date.now()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: carrying(activities) });
  const results = await worker.runUntil(
    env.client.workflow.execute(rolloutAnalysisTwice, { taskQueue, workflowId: `probe-${taskQueue}`, args: [input('error-rate', 7)] }),
  );
  assert.deepEqual(results, [
    { phase: 'Successful', message: '', runName: 'checkout-bbb222-2-7' },
    { phase: 'Successful', message: '', runName: 'checkout-bbb222-2-7' },
  ]);
  assert.equal(runs.size, 1);
  assert.equal(runs.get('checkout-bbb222-2-7')!.status!.metricResults[0].count, 3, 'measured once, not twice');
});

test('reattaching to a run that completed meanwhile: its verdict, without measuring again', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  const done: AnalysisRunStatus = {
    phase: 'Failed',
    message: 'Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)',
    metricResults: [],
    startedAt: new Date().toISOString(),
    completedAt: new Date().toISOString(),
  };
  runs.set('checkout-bbb222-2-9', { labels: {}, owner: 'ro-uid', spec: { metrics: templates['error-rate'].metrics! }, status: done });
  let measured = 0;
  const counting = { ...activities, queryPrometheus: async (req: any) => (measured++, activities.queryPrometheus!(req)) };
  const result = await probe(counting, [{ ...input('error-rate', 9), reattachTo: 'checkout-bbb222-2-9' }]);
  assert.deepEqual(result, { phase: 'Failed', message: done.message, runName: 'checkout-bbb222-2-9' });
  assert.equal(measured, 0);
});

test('measurements are due at the previous finishedAt + interval, and the activity is told so (it waits the rest in-process)', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  const asked: (number | undefined)[] = [];
  const onTime = {
    ...activities,
    async queryPrometheus(req: Parameters<AnalysisActivities['queryPrometheus']>[0]): Promise<Measurement> {
      asked.push(req.notBefore);
      const wait = (req.notBefore ?? 0) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return activities.queryPrometheus!(req);
    },
  };
  await probe(onTime, [input('error-rate', 5)]);
  const status = runs.get('checkout-bbb222-2-5')!.status!;
  const ms = status.metricResults[0].measurements;
  assert.equal(ms.length, 3);
  assert.equal(asked[0], Date.parse(status.startedAt!), 'the first is due at once (no initialDelay)');
  for (let i = 1; i < ms.length; i++) {
    assert.equal(asked[i], Date.parse(ms[i - 1].finishedAt!) + 200, `measurement ${i + 1} is due 200 ms after the previous finished`);
    assert.ok(Date.parse(ms[i].startedAt!) >= asked[i]!, 'and does not start before it is due');
  }
});

/** Events of a workflow's history by type (TIMER_STARTED, ACTIVITY_TASK_SCHEDULED, ...). */
async function eventCounts(workflowId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const e of (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
    const type = String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace('EVENT_TYPE_', '');
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

test('two metrics due together share their wakes; a measurement that decides nothing new is written in the next task, locally', async () => {
  const pair: AnalysisTemplateSpec = {
    args: [{ name: 'hash' }],
    metrics: ['first', 'second'].map((name) => ({ ...templates['error-rate'].metrics![0], name })),
  };
  const { runs, activities } = memoryActivities({ ...templates, pair }, () => 'Successful');
  const written: AnalysisRunStatus[] = [];
  const recording = {
    ...activities,
    async writeAnalysisRunStatus(...args: Parameters<AnalysisActivities['writeAnalysisRunStatus']>) {
      written.push(structuredClone(args[2]));
      return activities.writeAnalysisRunStatus!(...args);
    },
  };
  const result = await probe(recording, [input('pair', 11)]);
  assert.deepEqual(result, { phase: 'Successful', message: '', runName: 'checkout-bbb222-2-11' });
  const status = runs.get('checkout-bbb222-2-11')!.status!;
  assert.deepEqual(
    status.metricResults.map((r) => [r.name, r.count]),
    [
      ['first', 3],
      ['second', 3],
    ],
  );
  const counts = await eventCounts('analysisrun/shop/checkout-bbb222-2-11');
  // Two rounds after the first: one timer each when shared, two each when not.
  assert.ok((counts.get('TIMER_STARTED') ?? 0) <= 3, `timers: ${counts.get('TIMER_STARTED')}`);
  // One ordinary activity: the verdict's write. The load, Running and the statuses between
  // went locally, Running and those between inside the next measurement's activity.
  assert.equal(counts.get('ACTIVITY_TASK_SCHEDULED'), 1);
  // Markers: the two patches, the load, a local activity per measurement (no status write
  // of its own between them), and at most one local write: when both metrics complete in
  // one wake, the first's completion goes out with the task and the verdict after it.
  const markers = counts.get('MARKER_RECORDED') ?? 0;
  assert.ok(markers >= 2 + 1 + 6 && markers <= 2 + 1 + 6 + 1, `markers: ${markers}`);
  // Every status written shows no fewer measurements than the one before.
  const total = (s: AnalysisRunStatus) => s.metricResults.reduce((n, r) => n + r.count, 0);
  for (let i = 1; i < written.length; i++) assert.ok(total(written[i]) >= total(written[i - 1]), JSON.stringify(written.map(total)));
  assert.ok(
    written.some((s) => s.phase === 'Running' && total(s) > 0),
    'measurements show before the verdict',
  );
  assert.deepEqual([written[0].phase, total(written[0])], ['Running', 0], 'Running shows first, before any measurement');
});

test('a measurement far from the next one shows on the status within the lag bound, on a timer of its own', async () => {
  const { runs, activities } = memoryActivities(templates, () => 'Successful');
  runs.set('slow', {
    labels: {},
    owner: '',
    spec: { args: [{ name: 'hash', value: 'h' }], metrics: templates['error-rate'].metrics!.map((m) => ({ ...m, interval: '3s', count: 3 })) },
  });
  const writes: { at: number; count: number }[] = [];
  const recording = {
    ...activities,
    async writeAnalysisRunStatus(...args: Parameters<AnalysisActivities['writeAnalysisRunStatus']>) {
      writes.push({ at: Date.now(), count: args[2].metricResults[0]?.count ?? 0 });
      return activities.writeAnalysisRunStatus!(...args);
    },
  };
  const taskQueue = `analysis-lag-${Date.now()}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: carrying(recording) });
  const result = await worker.runUntil(
    env.client.workflow.execute(analysisRunWorkflow, {
      taskQueue,
      workflowId: `analysisrun/shop/slow-${taskQueue}`,
      args: [{ namespace: 'shop', name: 'slow', statusLagMs: 500 }],
    }),
  );
  assert.deepEqual(result, { phase: 'Successful', message: '' });
  const ms = runs.get('slow')!.status!.metricResults[0].measurements;
  // The second measurement shows about 500 ms after it was taken, well before the third.
  const second = writes.find((w) => w.count === 2);
  assert.ok(second, JSON.stringify(writes));
  const after = second.at - Date.parse(ms[1].finishedAt!);
  assert.ok(after >= 400 && after < 2500, `written ${after} ms after the measurement`);
  assert.ok(second.at < Date.parse(ms[2].startedAt!), 'before the next measurement');
});
