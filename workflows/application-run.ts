// The state of one run of applicationWorkflow, in one object with named transitions: what
// asked for a pass, the requested and held syncs, the last comparison and status written,
// and what continueAsNew carries. No Temporal calls here: the workflow waits, calls
// activities and starts children, and tells this object what happened.
import type { CancellationScope } from '@temporalio/workflow';
import type { ApplicationObservation, ReconcileInput, ReconcileResult } from '../activities/application';
import {
  afterComparison,
  decideAutoSync,
  historyEntry,
  projectStatus,
  reconcileJitterMs,
  refreshAskedWhen,
  retryDelayMs,
  startedOperation,
  statusKey,
  syncedSource,
  type LastAutoSync,
  type OperationState,
} from '../domain/applications/reconcile';
import {
  detectSelfHealLoop,
  RECONCILE_LOOP_REASON,
  rememberSelfHeal,
  selfHealLoopHolds,
  specKeyOf,
  type ApplicationEvent,
  type SelfHeal,
  type SelfHealLoop,
} from '../domain/applications/self-heal-loop';
import { isMultiSource } from '../domain/applications/sources';
import { instanceName } from '../domain/applications/tracking';
import type { ApplicationRef, ApplicationSpec, Comparison, HistoryEntry, ObjectRef, SyncRequest, SyncResult } from '../domain/applications/types';
import type { ApplicationNudge } from './definitions';

export interface ApplicationTimings {
  reconcileMs: number;
  jitterMs: number;
  hookTimeoutMs: number;
  waveTimeoutMs: number;
  /** Argo's self-heal backoff (domain default when absent). */
  selfHealBackoffMs?: number;
}

export const DEFAULT_TIMINGS: ApplicationTimings = { reconcileMs: 120_000, jitterMs: 60_000, hookTimeoutMs: 600_000, waveTimeoutMs: 600_000 };

/** What survives continueAsNew. */
export interface CarriedState {
  syncCount: number;
  kinds: string[];
  /** The tracked objects the last compare found; a new workflow lists them once. */
  known?: ObjectRef[];
  history: HistoryEntry[];
  lastAuto?: LastAutoSync;
  operationState?: OperationState;
  lastGood?: Comparison;
  errorSince?: string;
  /** The runaway guard's recent self-heals, and its stop while it holds (domain/applications/self-heal-loop.ts). */
  selfHeals?: SelfHeal[];
  selfHealLoop?: SelfHealLoop;
}

export interface ApplicationWorkflowInput extends ApplicationRef {
  timings?: Partial<ApplicationTimings>;
  state?: CarriedState;
  /** Tests only: continue as new sooner and carry fewer history entries, to show history read from closed runs. */
  limits?: { iterationsPerRun?: number; historyKept?: number };
}

export interface PendingSync {
  request: SyncRequest;
  initiatedBy: { username?: string; automated?: boolean };
  /** A rollback's source (the one recorded in history). */
  rollbackTo?: HistoryEntry;
  /** An operation resumed from the Application's status keeps its start (and so its hooks' names). */
  startedAt?: string;
}

/** How soon a sync held by a sync window asks again (a window may open any minute). */
const SYNC_WINDOW_RECHECK_MS = 30_000;
const HISTORY_KEPT = 200;

export class ApplicationRun {
  readonly ref: ApplicationRef;
  readonly id: string;
  readonly instance: string;
  readonly timings: ApplicationTimings;
  readonly carried: CarriedState;
  spec: ApplicationSpec = {};
  summary = 'starting';
  /** The comparison the last pass made (or the one after the last sync). */
  comparison?: Comparison;
  /** The operation in progress, cancelled by a terminate. */
  syncing?: CancellationScope;
  terminating = false;
  /** How long to sleep before the next periodic pass. */
  waitMs = 0;

  /** Something asked for a pass (a nudge, a refresh, a request). */
  private dirty = true;
  private refresh: 'normal' | 'hard' | undefined;
  /** When the pending refresh was asked for: Git is read as of then. */
  private refreshAskedAt: number | undefined;
  /**
   * Something other than a managed resource's change asked for a pass since the last full
   * one (the Application changed, a refresh): a compare of the cluster alone does not cover it.
   */
  private beyondCluster = false;
  /** A sync just ended and its compare is fresh: decide again from it (unless something asked meanwhile). */
  private afterSync = false;
  private readonly pending: PendingSync[] = [];
  /** A manual sync (an Argo-style operation) a sync window holds back until it allows it. */
  private held: PendingSync | undefined;
  /** Shown as operationState while a sync window holds a sync back (Argo: Running, "Sync operation blocked by sync window"). */
  private blocked: OperationState | undefined;
  private lastStatusJson = '';
  /** The status must report reconciledAt even if nothing else changed (the periodic reconcile, a refresh). */
  private reportReconcile = true;
  /** The workflow time the last pass was decided for (the pass applied the decision as of then). */
  private decidedAtMs = 0;
  /** The runaway guard is on (false when replaying runs started before it: README § Changing workflow code). */
  guarded = false;
  /** Syncs run inside this workflow (false when replaying runs started before: they ran a child workflow per sync). */
  inlineSync = false;
  /** When the last compare that read the cluster from the API server began reading (the worker's clock). */
  private clusterReadSinceMs = 0;
  /** The Event the guard's stop asks to record, taken by the workflow. */
  private loopEvent: ApplicationEvent | undefined;

  constructor(private readonly input: ApplicationWorkflowInput) {
    this.ref = { namespace: input.namespace, name: input.name };
    this.id = `${input.namespace}/${input.name}`;
    this.instance = instanceName(this.ref);
    this.timings = { ...DEFAULT_TIMINGS, ...input.timings };
    this.carried = input.state ?? { syncCount: 0, kinds: [], history: [] };
  }

  // ---- requests (signal and update handlers)

  nudged(n: ApplicationNudge, nowMs: number): void {
    // A sync inside this workflow runs in one workflow task with its post-sync compare, so
    // its resources' nudges arrive after that compare, which read the cluster after them.
    if (this.inlineSync && n.managed && !n.refresh && n.askedAt !== undefined && n.askedAt <= this.clusterReadSinceMs) return;
    this.dirty = true;
    if (!n.managed || n.refresh) this.beyondCluster = true;
    if (n.refresh === 'hard' || (n.refresh && !this.refresh)) this.refresh = n.refresh;
    if (n.refresh) this.refreshAskedAt ??= refreshAskedWhen(nowMs, n.askedAt);
  }

  refreshAsked(hard: boolean | undefined, askedAt: number | undefined, nowMs: number): void {
    this.refresh = hard ? 'hard' : (this.refresh ?? 'normal');
    this.refreshAskedAt ??= refreshAskedWhen(nowMs, askedAt);
    this.dirty = true;
    this.beyondCluster = true;
  }

  syncAsked(sync: PendingSync): void {
    this.pending.push(sync);
    this.dirty = true;
  }

  /** Why an operation cannot be asked for now, if it cannot. */
  refusal(): string | undefined {
    return this.syncing ? `another operation is already in progress on application ${this.id}` : undefined;
  }

  // ---- wait

  /** Whether the loop has work without waiting. */
  hasWork(): boolean {
    return this.dirty || this.pending.length > 0 || this.afterSync;
  }

  /** Whether a request arrived while waiting. */
  asked(): boolean {
    return this.dirty || this.pending.length > 0;
  }

  /** Woken: by the periodic timer (which reports reconciledAt even when nothing changed) or a request. */
  woke(byTimer: boolean): void {
    this.reportReconcile = byTimer;
  }

  // ---- observe

  /**
   * Starts a pass: the comparison a sync just made when nothing asked since, else undefined
   * (observe and compare again, with passInput).
   */
  startPass(): Comparison | undefined {
    const reuse = this.afterSync && !this.dirty && this.pending.length === 0;
    this.afterSync = false;
    this.dirty = false;
    if (reuse) return this.comparison;
    this.beyondCluster = false;
    return undefined;
  }

  /** The one-step pass's input; the refresh it carries is taken. `nowMs`: the workflow time the pass is decided for. */
  passInput(nowMs: number, fromServer?: boolean): ReconcileInput {
    const reportReconcile = this.reportReconcile || this.refresh !== undefined;
    this.decidedAtMs = nowMs;
    const input: ReconcileInput = {
      app: this.ref,
      instance: this.instance,
      kinds: this.carried.kinds,
      known: this.carried.known,
      hard: this.refresh === 'hard',
      refreshAskedAt: this.refreshAskedAt,
      reportReconcile,
      status: {
        operationState: this.blocked ?? this.carried.operationState,
        history: this.carried.history,
        lastGood: this.carried.lastGood,
        errorSince: this.carried.errorSince,
        lastWritten: this.lastStatusJson,
        ...(this.carried.selfHealLoop ? { reconcileLoop: this.carried.selfHealLoop.message } : {}),
      },
      syncRequested: this.pending.length > 0 || this.held !== undefined,
      lastAuto: this.carried.lastAuto,
      ...this.selfHealOptions(),
      nowMs,
      ...(fromServer ? { fromServer: true } : {}),
    };
    this.refresh = undefined;
    this.refreshAskedAt = undefined;
    return input;
  }

  /** What the pass saw: the comparison, or undefined when the Application is gone. */
  passed(result: ReconcileResult, reportedReconcile: boolean): Comparison | undefined {
    const { obs } = result;
    if (!obs.exists || !result.comparison) return undefined;
    if (result.readSinceMs !== undefined) this.clusterReadSinceMs = result.readSinceMs;
    this.spec = obs.spec;
    this.takeOperation(obs);
    this.resumeOperation(obs);
    if (result.written !== undefined) {
      this.lastStatusJson = result.written;
      this.reportReconcile = false;
    } else if (reportedReconcile || obs.refresh) this.reportReconcile = true; // not written: a sync is expected to write it
    this.comparison = result.comparison;
    this.noteComparison(result.comparison, result.errorSince);
    return result.comparison;
  }

  /** An Argo-style `operation` written on the Application becomes a pending sync. */
  private takeOperation(obs: ApplicationObservation): void {
    if (!obs.operation?.sync) return;
    const op = obs.operation.sync;
    this.pending.push({
      request: {
        revision: op.revision,
        prune: op.prune,
        dryRun: op.dryRun,
        resources: op.resources?.map((r) => `${r.group ?? ''}/${r.kind}/${r.namespace ?? ''}/${r.name}`),
      },
      initiatedBy: obs.operation.initiatedBy ?? { username: 'kubectl' },
    });
  }

  /**
   * An operation the status shows Running that this workflow neither runs nor holds: one
   * whose starting task was lost with its worker (the survivor's replay decided afresh and
   * found nothing to do), or one Argo CD left running. Left alone it would show Running for
   * ever; it is run again, as Argo CD resumes an operation in progress, under the same start.
   */
  private resumeOperation(obs: ApplicationObservation): void {
    const state = obs.operationInProgress;
    if (!state || this.pending.length > 0 || this.held) return;
    if (state.startedAt === this.carried.operationState?.startedAt || state.startedAt === this.blocked?.startedAt) return;
    const sync = state.operation.sync;
    this.pending.push({
      request: { revision: sync.revision, prune: sync.prune, dryRun: sync.dryRun, resources: sync.resources },
      initiatedBy: state.operation.initiatedBy ?? { username: 'kubectl' },
      startedAt: state.startedAt,
    });
  }

  /** `errorSeenAt`: when a new ComparisonError was first seen (the one-step pass says when it saw it). */
  private noteComparison(c: Comparison, errorSeenAt: string | undefined): void {
    this.carried.kinds = c.kinds;
    if (c.live) this.carried.known = c.live;
    const after = afterComparison(c, this.carried, errorSeenAt ?? new Date().toISOString());
    this.carried.lastGood = after.lastGood;
    this.carried.errorSince = after.errorSince;
  }

  // ---- decide

  /** The sync to start now, if any: one asked for, one a sync window held, or an automated one due; else when to look again. */
  decide(compared: Comparison): { next?: PendingSync; retryInMs?: number } {
    const next = this.pending.shift() ?? this.held;
    this.held = undefined;
    if (next) return { next };
    this.releaseSelfHealLoop(compared);
    let auto = decideAutoSync(this.spec, compared, this.carried.lastAuto, this.decidedAtMs, this.selfHealOptions().selfHeal);
    if (auto.sync && auto.selfHeal && this.guarded) auto = this.selfHealing(compared) ?? auto;
    this.summary = `${compared.error ? 'ComparisonError' : compared.syncStatus}, ${compared.health}; ${auto.reason}`;
    if (auto.sync)
      return { next: { request: { prune: !!this.spec.syncPolicy?.automated?.prune, revision: compared.revision }, initiatedBy: { automated: true } } };
    return { retryInMs: auto.retryInMs };
  }

  // ---- the runaway guard (domain/applications/self-heal-loop.ts)

  private selfHealOptions(): { selfHeal?: { backoffMs?: number; stopped?: string } } {
    const backoffMs = this.timings.selfHealBackoffMs;
    const stopped = this.carried.selfHealLoop?.message;
    if (backoffMs === undefined && stopped === undefined) return {};
    return { selfHeal: { ...(backoffMs !== undefined ? { backoffMs } : {}), ...(stopped !== undefined ? { stopped } : {}) } };
  }

  /** The stop lets go at a new revision or spec. */
  private releaseSelfHealLoop(compared: Comparison): void {
    const loop = this.carried.selfHealLoop;
    if (loop && !selfHealLoopHolds(loop, compared.revision, specKeyOf(this.spec))) this.forgetSelfHeals();
  }

  /** Records a self-heal about to start; when it makes a loop, refuses it: the guard stops self-heal and asks for an Event. */
  private selfHealing(compared: Comparison): { sync: false; reason: string } | undefined {
    const nowMs = this.decidedAtMs;
    const heal: SelfHeal = { revision: compared.revision ?? '', specKey: specKeyOf(this.spec), atMs: nowMs, resources: this.outOfSyncKeys() ?? [] };
    this.carried.selfHeals = rememberSelfHeal(this.carried.selfHeals ?? [], heal, nowMs);
    const loop = detectSelfHealLoop(this.carried.selfHeals, nowMs);
    if (!loop) return undefined;
    this.carried.selfHealLoop = loop;
    this.loopEvent = {
      name: `${this.ref.name}.${nowMs.toString(16)}`,
      reason: RECONCILE_LOOP_REASON,
      message: loop.message,
      at: new Date(nowMs).toISOString(),
    };
    return { sync: false, reason: loop.message };
  }

  private forgetSelfHeals(): void {
    this.carried.selfHeals = undefined;
    this.carried.selfHealLoop = undefined;
  }

  /** The Event the guard asked for, once. */
  takeLoopEvent(): ApplicationEvent | undefined {
    const event = this.loopEvent;
    this.loopEvent = undefined;
    return event;
  }

  /** The sync windows' verdict on `next`: the sync to start, or none (held when manual) and when to ask again. */
  windowed(next: PendingSync, gate: { allowed: boolean; message?: string }, nowIso: string): { next?: PendingSync; retryInMs?: number } {
    if (gate.allowed) {
      this.blocked = undefined;
      return { next };
    }
    const message = gate.message ?? 'Sync operation blocked by sync window';
    this.blocked = { ...startedOperation(next.request, next.initiatedBy, this.spec, this.blocked?.startedAt ?? nowIso), message };
    if (!next.initiatedBy.automated) this.held = next; // automated syncs are decided afresh each time
    this.summary = message;
    return { retryInMs: SYNC_WINDOW_RECHECK_MS };
  }

  /** Nothing wants to sync any more: a sync window's block is no longer shown. */
  nothingToSync(): void {
    this.blocked = undefined;
  }

  // ---- act: an operation

  /** The operation starts: its operationState, and the spec it syncs (a rollback's source). */
  operationStarted(op: PendingSync, startedAt: string): ApplicationSpec {
    this.carried.operationState = startedOperation(op.request, op.initiatedBy, this.spec, startedAt);
    if (!op.initiatedBy.automated) this.forgetSelfHeals(); // a person synced: self-heal starts afresh
    this.summary = `syncing${op.request.revision ? ` to ${op.request.revision.slice(0, 7)}` : ''}`;
    this.terminating = false;
    const rollback = op.rollbackTo;
    if (!rollback) return this.spec;
    return rollback.sources ? { ...this.spec, sources: rollback.sources } : { ...this.spec, source: rollback.source };
  }

  /** The number of the next sync child (sync/<ns>/<app>/<n>). */
  nextSyncNumber(): number {
    return ++this.carried.syncCount;
  }

  /** The delay before retrying a sync that did not succeed, or undefined when it is not retried. */
  retryDelay(op: PendingSync, result: SyncResult, attempt: number): number | undefined {
    if (result.phase === 'Succeeded' || this.terminating || op.request.dryRun) return undefined;
    const delay = retryDelayMs(this.spec.syncPolicy?.retry, attempt);
    if (delay === undefined) return undefined;
    this.carried.operationState = {
      ...this.carried.operationState!,
      message: `${result.message} (retrying attempt #${attempt} in ${Math.round(delay / 1000)}s)`,
      retryCount: attempt,
    };
    return delay;
  }

  retrying(attempt: number): void {
    this.carried.operationState!.retryCount = attempt;
  }

  operationEnded(op: PendingSync, synced: ApplicationSpec, result: SyncResult, startedAt: string, finishedAt: string, nowMs: number): void {
    const state = this.carried;
    state.operationState = {
      ...state.operationState!,
      phase: result.phase,
      message: result.message,
      finishedAt,
      syncResult: { resources: result.resources, ...syncedSource(synced, result.revision) },
    };
    if (op.initiatedBy.automated) state.lastAuto = { revision: result.revision || (op.request.revision ?? ''), atMs: nowMs, phase: result.phase };
    const deployed = isMultiSource(synced) ? synced.sources : synced.source;
    if (result.phase === 'Succeeded' && !op.request.dryRun && deployed) {
      state.history.push(historyEntry(state.history, result.revision, deployed, startedAt, finishedAt, op.initiatedBy));
      const kept = this.input.limits?.historyKept ?? HISTORY_KEPT;
      if (state.history.length > kept) state.history.splice(0, state.history.length - kept);
    }
    this.summary = `sync ${result.phase}: ${result.message}`;
    // The managed resources the sync itself changed have nudged this workflow meanwhile;
    // the compare that follows reads the cluster after all of that, so those nudges need no
    // pass of their own. A change of the Application, a refresh or a later nudge still does.
    if (!this.beyondCluster) this.dirty = false;
  }

  /** The compare after a sync has run: the next pass decides from it, and reads again only if something asked meanwhile. */
  comparedAfterSync(): void {
    this.afterSync = true;
  }

  // ---- project

  /** The status to write, unless it is the one last written and no reconcile must be reported. */
  statusToWrite(nowIso: string): { status: Record<string, unknown>; key: string } | undefined {
    if (!this.comparison) return undefined;
    const state = this.carried;
    const status = projectStatus({
      spec: this.spec,
      comparison: this.comparison,
      lastGood: state.lastGood,
      operationState: this.blocked ?? state.operationState,
      history: state.history,
      reconciledAt: nowIso,
      errorSince: state.errorSince,
      reconcileLoop: state.selfHealLoop?.message,
    });
    const key = statusKey(status);
    return key === this.lastStatusJson && !this.reportReconcile ? undefined : { status, key };
  }

  statusWritten(key: string): void {
    this.lastStatusJson = key;
  }

  /** The pass is over: sleep until asked, or for `retryInMs`, or until the next periodic reconcile. */
  passEnded(retryInMs: number | undefined): void {
    this.reportReconcile = false;
    this.waitMs = retryInMs ?? this.timings.reconcileMs + reconcileJitterMs(this.id, this.timings.jitterMs);
  }

  /** Nothing would be lost by continuing as new now. */
  canContinueAsNew(): boolean {
    return this.pending.length === 0 && !this.held;
  }

  continueAsNewInput(): ApplicationWorkflowInput {
    return { ...this.ref, timings: this.input.timings, state: this.carried, ...(this.input.limits ? { limits: this.input.limits } : {}) };
  }

  outOfSyncKeys(): string[] | undefined {
    return this.comparison?.resources.filter((r) => r.status === 'OutOfSync').map((r) => `${r.group}/${r.kind}/${r.namespace}/${r.name}`);
  }
}
