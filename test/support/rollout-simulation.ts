// Drives the pure rollout decision the way the rollout workflow does, on a fake cluster
// whose pods may become ready late, with analyses, commands and new revisions at given
// points, and records what a user would call a bug: a rollout that never settles, a
// field written back and forth, availability taken below what the spec allows.
// Used by the convergence properties and by the unit tests their shrunk cases became.
import type { Decision, EarlierRules, RolloutAction } from '../../domain/rollouts/actions';
import { decideRollout } from '../../domain/rollouts/decide';
import { replicasOf, selectedHash } from '../../domain/rollouts/observed';
import { progressFromStatus, type AnalysisPhase, type RolloutProgress } from '../../domain/rollouts/progress';
import { rolloutBudgets } from '../../domain/argo/int-or-percent';
import type { RolloutSpec } from '../../domain/rollouts/types';
import { FakeCluster } from './fake-cluster';

export type Command = 'promote' | 'promoteFull' | 'abort' | 'retry' | 'pause' | 'resume' | 'newRevision';

export interface Scenario {
  spec: RolloutSpec;
  /** Pods that become available per ReplicaSet per quiet pass; 0: at once. */
  readyRate: number;
  /** The verdicts of the analyses, in the order they are started (then Successful). */
  analysisOutcomes: (AnalysisPhase | 'Running')[];
  /** Commands, each at a pass counted from the first image change. */
  events: { at: number; command: Command }[];
}

export interface SimulationResult {
  decision: Decision;
  cluster: FakeCluster;
  passes: number;
  /** Everything that went wrong, in words; empty when the run was good. */
  problems: string[];
  log: string[];
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const PASS_MS = 100;
const MAX_PASSES = 3000;

/** A fake cluster whose new pods become available `rate` at a time, when it ticks. */
export class SlowCluster extends FakeCluster {
  constructor(
    spec: RolloutSpec,
    public rate: number,
  ) {
    super(spec);
    this.podsBecomeAvailable = rate === 0;
  }

  /** Pods come up; true when any did. */
  tick(): boolean {
    let moved = false;
    for (const rs of this.replicaSets) {
      if (rs.availableReplicas < rs.specReplicas) {
        rs.availableReplicas = Math.min(rs.specReplicas, rs.availableReplicas + this.rate);
        rs.readyReplicas = rs.availableReplicas;
        moved = true;
      }
    }
    return moved;
  }
}

export function servicesFor(spec: RolloutSpec): string[] {
  const c = spec.strategy?.canary;
  const bg = spec.strategy?.blueGreen;
  return [c?.canaryService, c?.stableService, bg?.activeService, bg?.previewService].filter((s): s is string => !!s);
}

/** The field each action writes, as `object field`, and the value it writes there. */
function writes(a: RolloutAction): [string, string][] {
  switch (a.kind) {
    case 'scaleReplicaSet':
      return [[`${a.name} spec.replicas`, String(a.replicas)]];
    case 'setServiceSelector':
      return [[`service ${a.service} selector`, String(a.hash)]];
    case 'setTrafficWeight':
      return [['router weight', String(a.weight)]];
    case 'setScaleDownDeadline':
      return [[`${a.name} scale-down-deadline`, a.deadline === null ? 'none' : 'set']];
    case 'setPodMetadata':
      return [[`${a.name} pod metadata`, JSON.stringify(a.metadata)]];
    default:
      return [];
  }
}

export function simulate(s: Scenario, trace = false, earlier: EarlierRules = {}): SimulationResult {
  const spec = structuredClone(s.spec);
  const cluster = new SlowCluster(spec, s.readyRate);
  for (const name of servicesFor(spec)) cluster.addService(name);
  const replicas = replicasOf(cluster.snapshot());
  const canary = spec.strategy?.canary;
  const floor = canary ? replicas - rolloutBudgets(replicas, canary.maxSurge, canary.maxUnavailable).maxUnavailable : replicas;
  const problems: string[] = [];
  const log: string[] = [];
  let now = T0;
  let progress: RolloutProgress = progressFromStatus(undefined);
  let decision!: Decision;
  let outcomes = 0;
  let images = 0;
  const events = [...s.events].sort((a, b) => a.at - b.at);
  // Writes within one window (no command, verdict or timer between them) must not go back.
  let window: Map<string, string[]> = new Map();
  const external = (what: string) => {
    log.push(what);
    window = new Map();
  };

  const updating = () => progress.currentHash !== progress.stableHash;
  const run = (command: Command): boolean => {
    const p = progress;
    switch (command) {
      case 'promote':
        if (p.aborted || p.pauseConditions.length === 0) return false;
        p.pauseConditions = [];
        return true;
      case 'promoteFull':
        if (p.aborted || !updating()) return false;
        p.promoteFull = true;
        return true;
      case 'abort':
        if (p.aborted || !updating()) return false;
        Object.assign(p, { aborted: true, abortedAt: new Date(now).toISOString(), pauseConditions: [] });
        return true;
      case 'retry':
        if (!p.aborted) return false;
        Object.assign(p, { aborted: false, abortedAt: undefined, stepIndex: 0, pauseStartedAt: undefined, pauseConditions: [] });
        return true;
      case 'pause':
        if (cluster.spec.paused) return false;
        cluster.spec.paused = true;
        return true;
      case 'resume':
        if (!cluster.spec.paused) return false;
        delete cluster.spec.paused;
        return true;
      case 'newRevision':
        cluster.setImage(`demo:v${++images}`);
        return true;
    }
  };

  /** The workflow's part for analyses: start with the next verdict, stop, forget. */
  const runAnalyses = (d: Decision) => {
    const p = progress;
    p.analyses ??= [];
    for (const req of d.startAnalyses ?? []) {
      const phase = s.analysisOutcomes[outcomes++] ?? 'Successful';
      p.analyses.push({ key: req.key, runName: `run-${outcomes}`, phase, message: phase === 'Failed' ? 'assessed Failed' : '' });
    }
    for (const key of d.stopAnalyses ?? []) {
      const rec = p.analyses.find((a) => a.key === key);
      if (rec && rec.phase === 'Running') rec.phase = 'Error';
      if (!key.startsWith(`${p.currentHash}/`)) p.analyses = p.analyses.filter((a) => a.key !== key);
    }
  };

  const activeAvailable = () => {
    const snap = cluster.snapshot();
    if (canary) return snap.replicaSets.reduce((n, rs) => n + rs.availableReplicas, 0);
    const hash = selectedHash(snap.services.find((svc) => svc.name === spec.strategy?.blueGreen?.activeService));
    return snap.replicaSets.find((rs) => rs.podTemplateHash === hash)?.availableReplicas ?? 0;
  };

  let routerWeight = 0;
  let started = false;
  let sinceUpdate = 0;
  let passes = 0;
  for (; passes < MAX_PASSES; passes++) {
    now += PASS_MS;
    if (started) sinceUpdate++;
    while (started && events.length > 0 && events[0].at <= sinceUpdate) {
      const e = events.shift()!;
      if (run(e.command)) external(`pass ${passes}: ${e.command}`);
    }
    decision = decideRollout(cluster.snapshot(), progress, now, earlier);
    const moved = ['stepIndex', 'currentHash', 'stableHash', 'aborted'] as const;
    if (moved.some((k) => decision.progress[k] !== progress[k])) window = new Map(); // on to the next step
    progress = decision.progress;
    runAnalyses(decision);
    cluster.status = decision.status;

    const before = activeAvailable();
    if (trace) log.push(`pass ${passes} ${decision.summary}: ${JSON.stringify(decision.actions)}`);
    for (const a of decision.actions) {
      for (const [field, value] of writes(a)) {
        const seen = window.get(field) ?? [];
        if (seen.length > 0 && seen[seen.length - 1] !== value && seen.includes(value)) {
          problems.push(`flapping: ${field} written ${[...seen, value].join(' → ')} (pass ${passes})`);
        }
        window.set(field, [...seen, value]);
      }
      cluster.apply(a);
    }
    const after = activeAvailable();
    for (const a of decision.actions) if (a.kind === 'setTrafficWeight') routerWeight = a.weight;
    const canaryPods = cluster.replicaSets.find((rs) => rs.podTemplateHash === progress.currentHash)?.availableReplicas ?? 0;
    // A setCanaryScale sizes the canary apart from its traffic, the user's call, with effects
    // that last until the canary has caught up after it: not judged here.
    const sizedApart = (canary?.steps ?? []).slice(0, progress.stepIndex + 1).some((step) => step.setCanaryScale && !step.setCanaryScale.matchTrafficWeight);
    if (started && routerWeight > 0 && canaryPods === 0 && progress.currentHash !== progress.stableHash && !sizedApart) {
      problems.push(`the router sends ${routerWeight}% to a canary with no available pods (pass ${passes})`);
    }
    // Only scaling may lower availability (unless a setCanaryScale says so); pods never had are no loss.
    if (started && after < Math.min(before, floor) && !sizedApart)
      problems.push(`availability dropped from ${before} to ${after} (floor ${floor}) at pass ${passes}`);
    if (problems.length > 0) break;
    if (decision.actions.length > 0) continue;

    if (!started) {
      if (cluster.tick()) continue;
      if (decision.status.phase !== 'Healthy') {
        problems.push(`the first revision did not become Healthy: ${decision.status.phase} ${decision.status.message ?? ''}`);
        break;
      }
      started = true;
      run('newRevision');
      external(`pass ${passes}: first image change`);
      continue;
    }
    if (events.length > 0) {
      sinceUpdate = Math.max(sinceUpdate, events[0].at - 1);
      continue;
    }
    if (cluster.tick()) continue;
    const running = progress.analyses?.find((a) => a.phase === 'Running');
    if (running) {
      running.phase = 'Successful';
      external(`pass ${passes}: analysis ${running.key} Successful`);
      continue;
    }
    if (decision.wakeAt !== undefined) {
      now = Math.max(now, decision.wakeAt);
      external(`pass ${passes}: timer`);
      continue;
    }
    // At rest. An operator who promotes every pause and resumes a user pause.
    if (cluster.spec.paused && run('resume')) {
      external(`pass ${passes}: resume (to finish)`);
      continue;
    }
    if (progress.pauseConditions.length > 0 && run('promote')) {
      external(`pass ${passes}: promote (to finish)`);
      continue;
    }
    break;
  }
  if (passes >= MAX_PASSES) problems.push(`no rest after ${MAX_PASSES} passes: ${decision.summary}`);
  if (problems.length === 0) problems.push(...restProblems(cluster, decision));
  return { decision, cluster, passes, problems, log };
}

/** What a settled rollout looks like: Healthy on the newest revision, or aborted back on stable. */
function restProblems(cluster: FakeCluster, d: Decision): string[] {
  const snap = cluster.snapshot();
  const replicas = replicasOf(snap);
  const { phase, message } = d.status;
  const p = d.progress;
  const problems: string[] = [];
  let home: string | undefined;
  if (phase === 'Healthy') {
    if (p.currentHash !== snap.podTemplateHash || p.stableHash !== p.currentHash) problems.push(`Healthy but not on the newest revision`);
    home = p.currentHash;
  } else if (phase === 'Degraded' && p.aborted && !message?.startsWith('ProgressDeadlineExceeded')) {
    home = p.stableHash;
  } else {
    return [`settled ${phase}: ${message ?? ''} (${d.summary})`];
  }
  // Argo: abortScaleDownDelaySeconds 0 behind a router keeps the aborted canary's pods up.
  const keptCanary =
    p.aborted && snap.spec.strategy?.canary?.trafficRouting && snap.spec.strategy.canary.abortScaleDownDelaySeconds === 0 ? p.currentHash : undefined;
  for (const rs of snap.replicaSets) {
    if (rs.podTemplateHash === keptCanary) continue;
    const want = rs.podTemplateHash === home ? replicas : 0;
    if (rs.specReplicas !== want || rs.availableReplicas !== want)
      problems.push(`settled ${phase} with ${rs.name} at ${rs.specReplicas} (${rs.availableReplicas} available), expected ${want}`);
  }
  for (const svc of snap.services) {
    const hash = selectedHash(svc);
    if (hash !== home) problems.push(`settled ${phase} with Service ${svc.name} selecting ${hash}, expected ${home}`);
  }
  return problems;
}
