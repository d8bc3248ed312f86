// One workflow per AnalysisRun (ID analysisrun/<namespace>/<name>). Every metric is a
// loop of its own: wait on a durable timer until the next measurement is due (Argo's
// rule: last finishedAt + interval, or 10 s after an Error), take it as one activity,
// count it, assess the run, write status (at once when the phase changes, else in the
// next workflow task, inside the next measurement's activity, see STATUS_LAG_MS). The workflow's state is the status it
// writes, so continueAsNew carries it and a fresh start resumes from the object.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type RetryPolicy,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { AnalysisActivities, AnalysisRunRef, LoadedAnalysisRun, MeasureRequest } from '../activities/analysis';
import { argsWithoutSecrets, fieldPathValue, resolveMetricArgs } from '../domain/analysis/args';
import {
  assessRun,
  dryRunMetrics,
  measurementLimits,
  newMetricResult,
  nextMeasurementDelay,
  recordMeasurement,
  trimMeasurements,
  validateMetrics,
  isTerminating,
} from '../domain/analysis/assessment';
import {
  isCompleted,
  type AnalysisPhase,
  type AnalysisRunStatus,
  type Argument,
  type Measurement,
  type Metric,
  type MetricResult,
} from '../domain/analysis/types';
import { analysisRunNudgeSignal } from './definitions';

const kubeCalls = proxyActivities<AnalysisActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

// A Prometheus or web measurement takes milliseconds, so it runs as a local activity: no
// round trip through the server's task queues. It is recorded in history (queryPrometheus,
// callWebMetric); a worker lost mid-task means the task is retried elsewhere and the
// measurement taken again, and recorded once. The status write after it waits until the
// history has it (see statusWrites). A provider error is a measurement
// Error, not an activity failure; retries cover only lost workers and the API server.
const measurementRetry: RetryPolicy = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s' };
const quickMeasurements = (timeoutSeconds: number) =>
  proxyLocalActivities<AnalysisActivities>({ startToCloseTimeout: `${timeoutSeconds + 15}s`, retry: measurementRetry });
const statusWriteOptions = { startToCloseTimeout: '10s', retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' } } as const;
// The status write is an ordinary activity: it is scheduled only when the workflow task
// that took the measurement completes, so the status never shows a measurement that the
// history does not have. Written locally, a worker killed between the write and the
// task's completion took that measurement again and the status lost the first one.
const statusWrites = proxyActivities<AnalysisActivities>(statusWriteOptions);
// A status whose measurements the history already has (taken in an earlier workflow task)
// is written by a local activity: no activity dispatch and no workflow task of its own.
const localStatusWrites = proxyLocalActivities<AnalysisActivities>(statusWriteOptions);
const localKubeCalls = proxyLocalActivities<AnalysisActivities>(statusWriteOptions);

const jobMeasurements = proxyActivities<AnalysisActivities>({
  startToCloseTimeout: '24h',
  heartbeatTimeout: '5s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

export interface AnalysisRunWorkflowInput extends AnalysisRunRef {
  /** Carried across continueAsNew. */
  carried?: { uid: string; status: AnalysisRunStatus; terminate: boolean };
  /** Measurements before continuing as new (tests set it low). */
  measurementsPerRun?: number;
  /** How long a measurement may wait to show on the status (STATUS_LAG_MS; tests set it low). */
  statusLagMs?: number;
}

export interface AnalysisRunOutcome {
  phase: AnalysisPhase;
  message: string;
}

const SUPPORTED_PROVIDERS = ['prometheus', 'web', 'job'];

/**
 * A woken workflow takes a while to reach its measurement (the server fires the timer,
 * queues the task, the worker picks it up and starts the local activity): under load,
 * seconds. So the timer fires this much early and the activity waits the rest in-process.
 * The lead adapts to the lateness seen (up by how late a measurement started, down by a
 * tenth when on time), within a quarter of the interval and a second: a woken workflow
 * then holds its task and an activity slot only briefly.
 */
const MAX_LEAD_MS = 1000;
const INITIAL_LEAD_MS = 100;
/**
 * The lead of a run's second measurement (analysis-status-in-measurement): runs started
 * together come due together, and with the lead at 100 ms their second measurements were
 * the late ones (p99 ~1 s behind, later rounds < 250 ms once the lead had adapted). It
 * decays by a tenth per measurement on time.
 */
const FIRST_LEAD_MS = MAX_LEAD_MS;
const ON_TIME_TOLERANCE_MS = 20;

/**
 * A measurement that decides nothing new (the run and every metric keep their phase) is not
 * written at once: its status goes with the next workflow task, which a measurement due
 * within this bound brings anyway; a later one gets a timer of its own at this bound. So a
 * measurement shows on the status at most this long after it was taken (plus the time a
 * woken workflow takes to run), while a new phase is written at once.
 */
const STATUS_LAG_MS = 10_000;
/**
 * Metrics due within this much of each other wake in the same workflow task (the later
 * ones wait the rest in their activity, as with the lead above).
 */
const SHARED_WAKE_MS = 1000;

/** What a status decides: the run's phase and message, and which metrics have completed how. */
const decisionKey = (s: AnalysisRunStatus) => JSON.stringify([s.phase, s.message ?? '', s.metricResults.map((r) => (isCompleted(r.phase) ? r.phase : ''))]);
/**
 * The same, without counting metrics that have no result yet (analysis-status-in-measurement):
 * a metric's first measurement decides nothing new either.
 */
const completionKey = (s: AnalysisRunStatus) =>
  JSON.stringify([s.phase, s.message ?? '', s.metricResults.filter((r) => isCompleted(r.phase)).map((r) => [r.name, r.phase])]);

/** Bounds history: each measurement adds about ten events. */
const MEASUREMENTS_PER_RUN = 500;

/** What the watcher has told the workflow about its object. */
interface ObjectNews {
  terminate: boolean;
  deleted: boolean;
  latestUid?: string;
}

export async function analysisRunWorkflow(input: AnalysisRunWorkflowInput): Promise<AnalysisRunOutcome> {
  const news: ObjectNews = { terminate: input.carried?.terminate ?? false, deleted: false };
  let uid = '';
  setHandler(analysisRunNudgeSignal, (nudge) => {
    if (nudge.uid && uid && nudge.uid !== uid) {
      news.latestUid = nudge.uid; // deleted and created again: a new run to take
      return;
    }
    if (nudge.deleted) news.deleted = true;
    if (nudge.terminate) news.terminate = true;
  });
  const outcome = await analyse(input, news, (u) => (uid = u));
  // The object was replaced by a new one of the same name (same workflow ID): run that one.
  if (news.latestUid) await continueAsNew<typeof analysisRunWorkflow>({ namespace: input.namespace, name: input.name });
  return outcome;
}

async function analyse(input: AnalysisRunWorkflowInput, news: ObjectNews, setUid: (uid: string) => void): Promise<AnalysisRunOutcome> {
  const ref: AnalysisRunRef = { namespace: input.namespace, name: input.name };
  const id = `${ref.namespace}/${ref.name}`;
  // Statuses that decide nothing new wait for the next workflow task, written there locally,
  // and metrics due together share a wake: runs started before replay without either.
  const fewerTasks = patched('analysis-fewer-tasks');
  // The load runs locally in the first task, and a status the history already has goes with
  // the next quick measurement, in its local activity (MeasureRequest.statusFirst): the first
  // status too, decided from the load. Runs started before replay without it.
  const carry = fewerTasks && patched('analysis-status-in-measurement');
  const loaded: LoadedAnalysisRun = await (carry ? localKubeCalls : kubeCalls).loadAnalysisRun(ref);
  if (!loaded.exists) return { phase: 'Error', message: `AnalysisRun ${id} not found` };
  const carried = input.carried?.uid === loaded.uid ? input.carried : undefined;
  const uid = loaded.uid;
  setUid(uid);
  const spec = loaded.spec;
  if (spec.terminate) news.terminate = true;
  const prior = carried?.status ?? (loaded.status as AnalysisRunStatus | undefined);
  let status: AnalysisRunStatus = {
    phase: prior?.phase ?? 'Pending',
    metricResults: prior?.metricResults ?? [],
    startedAt: prior?.startedAt ?? new Date().toISOString(),
    ...(prior?.message ? { message: prior.message } : {}),
    ...(prior?.completedAt ? { completedAt: prior.completedAt } : {}),
  };

  // ---- status writes, in order, coalesced
  let pending: AnalysisRunStatus | undefined;
  /** The workflow task (by history length) in which `pending` was decided. */
  let pendingTask = 0;
  /** `pending` decides nothing new: it waits for a later workflow task. */
  let deferred = false;
  let queuedDecision = '';
  let writer: Promise<void> | undefined;
  let writtenJson = ''; // the last status written (analysis-fewer-tasks): the same one is not written twice
  let lost = false; // deleted or replaced: a status write was refused
  // Workflow time stands still during local activities; their own timestamps say how far
  // the wall clock moved, so timers are not stretched by the time the activities took.
  let clock = 0;
  const now = () => Math.max(Date.now(), clock);
  const gone = () => lost || news.deleted || news.latestUid !== undefined;
  const task = () => workflowInfo().historyLength;
  // Whether the pending status may be written now: written locally when an earlier task
  // decided it (the history has its measurements), else by an ordinary activity, which is
  // scheduled only once this task is in the history; a deferred one waits for a later task.
  const writable = () => !!pending && !gone() && !(deferred && task() <= pendingTask);
  const writeLoop = async () => {
    while (writable()) {
      const s = pending!;
      const locally = fewerTasks && task() > pendingTask;
      pending = undefined;
      deferred = false;
      const json = fewerTasks ? JSON.stringify(s) : '';
      if (json && json === writtenJson) continue;
      try {
        const written = await (locally ? localStatusWrites : statusWrites).writeAnalysisRunStatus(ref, uid, s);
        if (!written) lost = true;
        else if (typeof written === 'string') clock = Math.max(clock, Date.parse(written));
        if (written) writtenJson = json;
      } catch (err) {
        // Refused (e.g. too large): the next write carries the state again; the run goes on.
        log.warn('status write refused', { analysisRun: id, error: String(err) });
      }
    }
    writer = undefined;
  };
  /**
   * Queues the status. `deferrable`: a quick measurement's, which may wait for the next task
   * if it decides nothing new. `committed` (analysis-status-in-measurement): the history
   * already has all it shows (the first status, from the load), so it may go locally in this
   * very task, with the measurement that follows.
   */
  const publish = (deferrable = false, committed = false) => {
    pending = status;
    pendingTask = committed ? task() - 1 : task();
    const decision = carry ? completionKey(status) : decisionKey(status);
    deferred = (fewerTasks && deferrable && decision === queuedDecision) || committed;
    queuedDecision = decision;
    if (!writer && writable() && !committed) writer = writeLoop();
  };
  /** Whether a deferred status may go locally now: a later task than the one that decided it. */
  const deferredWritable = () => !writer && deferred && writable();
  /**
   * A deferred status for the measurement about to be taken to write first. Nothing else
   * can write meanwhile: any later status is decided in this task, so it waits for the task
   * to complete, which waits for the measurement.
   */
  const takeDeferred = (): { status: AnalysisRunStatus; json: string } | undefined => {
    if (!deferredWritable()) return undefined;
    const s = pending!;
    pending = undefined;
    deferred = false;
    const json = JSON.stringify(s);
    return json === writtenJson ? undefined : { status: s, json };
  };
  /** A deferred status, at the start of a later task: written there, locally, before going on. */
  const writeDeferred = async () => {
    if (!deferredWritable()) return;
    writer = writeLoop();
    await writer;
  };
  const flush = async () => {
    deferred = false;
    if (!writer && writable()) writer = writeLoop();
    while (writer) await writer;
  };

  const finish = async (): Promise<AnalysisRunOutcome> => {
    status.completedAt ??= new Date().toISOString();
    publish();
    await flush();
    setCurrentDetails(`**${id}**: ${status.phase}${status.message ? ` — ${status.message}` : ''}`);
    if (!gone()) await expireAfterTtl(ref, uid, spec.ttlStrategy, status.phase, status.completedAt, gone);
    return { phase: status.phase, message: status.message ?? '' };
  };

  if (isCompleted(status.phase)) return finish();

  // ---- resolve and validate once; secrets stay placeholders here
  let metrics: Metric[];
  let runArgs: Argument[];
  let dryRun: Set<string>;
  let limits: Map<string, number>;
  try {
    runArgs = (spec.args ?? []).map((a) =>
      a.value === undefined && a.valueFrom?.fieldRef
        ? { name: a.name, value: fieldPathValue({ metadata: loaded.metadata, spec }, a.valueFrom.fieldRef.fieldPath) }
        : a,
    );
    metrics = (spec.metrics ?? []).map((m) => resolveMetricArgs(m, argsWithoutSecrets(runArgs)));
  } catch (err) {
    status = { ...status, phase: 'Error', message: `Unable to resolve metric arguments: ${(err as Error).message}` };
    return finish();
  }
  try {
    validateMetrics(metrics);
    metrics.forEach((m, i) => {
      const kind = Object.keys(m.provider).find((k) => m.provider[k] != null);
      if (kind && !SUPPORTED_PROVIDERS.includes(kind))
        throw new Error(`metrics[${i}] (${m.name}): provider ${kind} is not supported by Sluice (supported: ${SUPPORTED_PROVIDERS.join(', ')})`);
    });
    dryRun = dryRunMetrics(spec.dryRun, metrics);
    limits = measurementLimits(spec.measurementRetention, metrics);
  } catch (err) {
    status = { ...status, phase: 'Error', message: `Analysis spec invalid: ${(err as Error).message}` };
    return finish();
  }

  const results = () => status.metricResults;
  const terminating = () => isTerminating(news.terminate, results());
  let measurementsThisRun = 0;
  let moveOn = false; // continueAsNew wanted: loops stop between measurements
  let argumentError: string | undefined;

  const reassess = (deferrable = false, committed = false) => {
    const a = assessRun(metrics, trimMeasurements(results(), limits), dryRun, news.terminate);
    status = { ...status, metricResults: a.results, phase: a.phase, runSummary: a.runSummary, dryRunSummary: a.dryRunSummary };
    if (a.message) status.message = a.message;
    else delete status.message;
    if (argumentError) status = { ...status, phase: 'Error', message: `Unable to resolve metric arguments: ${argumentError}` };
    if (isCompleted(status.phase)) status.completedAt ??= new Date().toISOString();
    setCurrentDetails(
      `**${id}**: ${status.phase}; ${results()
        .map((r) => `${r.name} ${r.count}/${r.successful}✓/${r.failed}✗/${r.error}!`)
        .join(', ')}`,
    );
    publish(deferrable, committed);
  };

  // Metrics due together wake together: a loop about to sleep joins a wake already set for
  // at most SHARED_WAKE_MS before its own time, instead of a timer (and a task) of its own.
  const stopped = () => terminating() || moveOn || gone();
  const wakes: { at: number; fired: boolean }[] = [];
  // Only quick metrics join: their activity waits in-process until the measurement is due.
  const sleepUntilDue = async (wait: number, quick: boolean) => {
    if (!fewerTasks || !quick) {
      await condition(stopped, wait);
      return;
    }
    const at = now() + wait;
    const shared = wakes.find((w) => w.at <= at && w.at >= at - SHARED_WAKE_MS);
    if (shared) {
      await condition(() => stopped() || shared.fired);
      return;
    }
    const wake = { at, fired: false };
    wakes.push(wake);
    await condition(stopped, wait);
    wake.fired = true;
    wakes.splice(wakes.indexOf(wake), 1);
  };

  // Results in the order of the metrics, whichever was measured first.
  const order = (name: string) => metrics.findIndex((m) => m.name === name);
  const setResult = (r: MetricResult) => {
    const others = results().filter((x) => x.name !== r.name);
    status = { ...status, metricResults: [...others, r].sort((a, b) => order(a.name) - order(b.name)) };
  };

  async function measure(
    index: number,
    metric: Metric,
    r: MetricResult,
    inFlight?: Measurement,
    notBefore?: number,
    statusFirst?: AnalysisRunStatus,
  ): Promise<Measurement> {
    const req: MeasureRequest = {
      run: { ...ref, uid },
      metric: spec.metrics[index],
      args: runArgs,
      measurementNumber: r.count + r.error + 1,
      inFlight,
      ...(notBefore !== undefined ? { notBefore } : {}),
      ...(statusFirst ? { statusFirst } : {}),
    };
    const p = metric.provider;
    if (p.prometheus) return quickMeasurements(p.prometheus.timeout ?? 30).queryPrometheus(req);
    if (p.web) return quickMeasurements(p.web.timeoutSeconds && p.web.timeoutSeconds > 0 ? p.web.timeoutSeconds : 10).callWebMetric(req);
    if (p.job) {
      // Create the Job, show the measurement in flight with the Job's name, wait for it;
      // if the run terminates meanwhile, the Job is deleted.
      let started = inFlight?.metadata?.['job-name'] ? inFlight : undefined;
      if (!started) {
        const created = await kubeCalls.startJobMetric(req);
        if (created.phase !== 'Running') return created;
        started = inFlight ? { ...created, startedAt: inFlight.startedAt } : created;
      }
      setResult({ ...r, measurements: [...r.measurements, started] });
      publish();
      const scope = new CancellationScope();
      void condition(terminating).then(() => scope.cancel());
      try {
        return await scope.run(() => jobMeasurements.runJobMetric({ ...req, inFlight: started }));
      } catch (err) {
        if (!isCancellation(err)) throw err;
        return kubeCalls.terminateJobMetric({ ...req, inFlight: started });
      }
    }
    throw ApplicationFailure.nonRetryable(`metric ${metric.name}: no supported provider`); // validated above
  }

  async function runMetric(index: number): Promise<void> {
    const metric = metrics[index];
    const quick = !!(metric.provider.prometheus || metric.provider.web);
    let lead = carry ? FIRST_LEAD_MS : INITIAL_LEAD_MS;
    let measuredSinceTimer = false;
    for (;;) {
      if (terminating() || moveOn || argumentError || gone()) return;
      const r = results().find((x) => x.name === metric.name) ?? newMetricResult(metric.name, dryRun.has(metric.name));
      if (isCompleted(r.phase)) return;
      const last = r.measurements[r.measurements.length - 1];
      const inFlight = last && !isCompleted(last.phase) ? last : undefined;
      let due: number | undefined;
      if (!inFlight) {
        const delay = nextMeasurementDelay(metric, r.measurements.length > 0 ? r : undefined);
        if (delay === undefined) return;
        const from = last?.finishedAt ?? status.startedAt!;
        due = Date.parse(from) + delay;
        // Before analysis-fewer-tasks, the timer started after the status write, for what remains.
        if (measuredSinceTimer && !fewerTasks) await flush();
        const early = quick ? Math.min(lead, delay / 4, MAX_LEAD_MS) : 0;
        let wait = due - now() - early;
        // Each measurement is recorded (its workflow task completed) before the next one starts.
        if (measuredSinceTimer && wait < 1) wait = 1;
        const lag = input.statusLagMs ?? STATUS_LAG_MS;
        // The first status, when this metric does not measure at once: written before the wait.
        if (carry && wait > 0) await writeDeferred();
        if (fewerTasks && deferred && wait > lag) {
          // The next measurement is far: the status gets a task of its own within the bound.
          await condition(stopped, lag);
          if (stopped()) return;
          await writeDeferred();
          wait = due - now() - early;
        }
        if (wait > 0) await sleepUntilDue(wait, quick);
        if (stopped()) return;
      }
      // A status deferred by an earlier task goes first, locally: in the measurement's own
      // local activity when it is a quick one (analysis-status-in-measurement).
      const carried = carry && quick ? takeDeferred() : undefined;
      if (fewerTasks && !(carry && quick)) await writeDeferred();
      let m: Measurement;
      try {
        const notBefore = quick ? due : undefined;
        m = await measure(index, metric, inFlight ? { ...r, measurements: r.measurements.slice(0, -1) } : r, inFlight, notBefore, carried?.status);
        if (carried) writtenJson = carried.json;
        measuredSinceTimer = true;
        if (notBefore !== undefined && m.startedAt) {
          const late = Date.parse(m.startedAt) - notBefore;
          lead = late > ON_TIME_TOLERANCE_MS ? Math.min(MAX_LEAD_MS, lead + late) : Math.max(ON_TIME_TOLERANCE_MS, lead * 0.9);
        }
      } catch (err) {
        // A local activity's failure may arrive unwrapped; a regular one's as its cause.
        const cause = err instanceof ActivityFailure ? err.cause : err;
        if (cause instanceof ApplicationFailure && cause.type === 'AnalysisRunGone') {
          lost = true; // the carried status was refused: deleted or replaced
          return;
        }
        if (cause instanceof ApplicationFailure && cause.type === 'ArgumentError') {
          argumentError = cause.message;
          reassess();
          return;
        }
        throw err;
      }
      const base = results().find((x) => x.name === metric.name) ?? r;
      const withoutInFlight = inFlight || metric.provider.job ? { ...base, measurements: base.measurements.filter((x) => isCompleted(x.phase)) } : base;
      if (m.finishedAt) clock = Math.max(clock, Date.parse(m.finishedAt));
      setResult(recordMeasurement(withoutInFlight, m));
      reassess(quick);
      measurementsThisRun++;
      if (measurementsThisRun >= (input.measurementsPerRun ?? MEASUREMENTS_PER_RUN) || workflowInfo().continueAsNewSuggested) moveOn = true;
    }
  }

  if (status.phase === 'Pending') status = { ...status, phase: 'Running' };
  reassess(false, carry);
  await Promise.all(metrics.map((_m, i) => runMetric(i)));
  if (gone()) return { phase: 'Error', message: `AnalysisRun ${id} was deleted` };

  if (moveOn && !terminating() && !isCompleted(status.phase)) {
    await flush();
    await continueAsNew<typeof analysisRunWorkflow>({
      ...ref,
      carried: { uid, status, terminate: news.terminate },
      measurementsPerRun: input.measurementsPerRun,
      statusLagMs: input.statusLagMs,
    });
  }
  reassess();
  if (!isCompleted(status.phase)) {
    // Every loop has stopped, so nothing more will be measured: terminate decides.
    news.terminate = true;
    reassess();
  }
  return finish();
}

/** ttlStrategy: the object is deleted this long after the run completed. */
async function expireAfterTtl(
  ref: AnalysisRunRef,
  uid: string,
  ttl: { secondsAfterCompletion?: number; secondsAfterFailure?: number; secondsAfterSuccess?: number } | undefined,
  phase: AnalysisPhase,
  completedAt: string,
  gone: () => boolean,
): Promise<void> {
  if (!ttl) return;
  let seconds: number | undefined;
  if (phase === 'Successful' && ttl.secondsAfterSuccess !== undefined) seconds = ttl.secondsAfterSuccess;
  else if (phase === 'Failed' && ttl.secondsAfterFailure !== undefined) seconds = ttl.secondsAfterFailure;
  else seconds = ttl.secondsAfterCompletion;
  if (seconds === undefined) return;
  const wait = Date.parse(completedAt) + seconds * 1000 - Date.now();
  if (wait > 0) await condition(gone, wait);
  if (!gone()) await kubeCalls.deleteAnalysisRun(ref, uid);
}
