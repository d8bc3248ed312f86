// The state of one run of rolloutWorkflow, in one object with named transitions: the
// rollout's progress, its last observation, the commands read from the status, the status
// writes queued behind the loop, and when to look again. No Temporal calls here: the
// workflow waits, calls activities and starts analyses, and tells this object what happened.
import type { RolloutAnalysisHandle } from './rollout-analysis';
import type { Decision } from '../domain/rollouts/actions';
import { progressFromStatus, type RolloutProgress } from '../domain/rollouts/progress';
import type { RolloutSnapshot, RolloutStatus } from '../domain/rollouts/types';
import { detectFlap, haltedStatus, progressKey, RECONCILE_LOOP_REASON, rememberWrites, writesOf, type WriteRecord } from '../domain/rollouts/runaway';
import { recordRevision, type RevisionRecord } from '../domain/rollouts/revision-history';
import { onlyCountsChanged } from '../domain/rollouts/status-decision';
import type { RolloutEvent } from '../activities/rollout';
import type { RolloutRef } from './definitions';

/** The runaway guard stopped this rollout: where it stood then, and the status that says why. */
export interface RolloutHalt {
  /** progressKey when it stopped: a spec change or a command that moves the rollout resumes it. */
  progress: string;
  /** Which field flapped, between which values. */
  message: string;
  status: RolloutStatus;
}

export interface RolloutWorkflowInput extends RolloutRef {
  progress?: RolloutProgress;
  lastStatusJson?: string;
  /** Whether the Sluice search attributes exist in this Temporal namespace. */
  useSearchAttributes?: boolean;
  /** The runaway guard's window of recent writes, and its stop, if it stopped the rollout. */
  writes?: WriteRecord[];
  halt?: RolloutHalt;
  /** The newest revisions and how they ended; older ones are in the closed runs' inputs. */
  revisions?: RevisionRecord[];
  /** Tests only: continue as new sooner and carry fewer revisions, to show history read from closed runs. */
  limits?: { iterationsPerRun?: number; revisionsKept?: number };
}

/** Safety net for a missed watch event; normally a nudge arrives within milliseconds. */
const RESYNC_MS = 60_000;
/**
 * A rollout at rest (Healthy, or Paused until someone promotes it) changes only through
 * its objects and commands, which nudge it; a busy safety net there would cost every idle
 * rollout a workflow task a minute, and a replay once it has left the cache. Argo
 * Rollouts resyncs every 15 minutes.
 */
const AT_REST_RESYNC_MS = 15 * 60_000;
const RESTART_POLL_MS = 2_000;
/**
 * How long a deferred status may wait for the next workflow task: the ReplicaSet events its
 * pass's scaling causes normally bring one sooner (the watcher's interim nudges come within
 * a second), and this bounds how long the new step or phase stays unseen if they do not.
 */
const DEFERRED_STATUS_MS = 1_000;
/**
 * Since `steady-wait`: the deferred status's bound is a timer of its own, kept until the status
 * is written, and longer than the watcher's interim nudge (1 s after the first ReplicaSet event
 * of the pass's scaling), which normally brings the task that writes it. At 1 s the two raced,
 * and the timer's task was followed by the nudge's (a second task for one refresh).
 */
export const DEFERRED_STATUS_BACKSTOP_MS = 2_000;

export class RolloutRun {
  readonly ref: RolloutRef;
  readonly id: string;
  progress: RolloutProgress | undefined;
  summary = 'starting';
  /** Something changed (a nudge, a command, an analysis ended): look again. */
  changed = true;
  waitMs = 0;
  /**
   * Handles of the analyses this run started or re-attached to; not carried across
   * continueAsNew (the records in progress are), so they are re-attached by name.
   */
  readonly analysisHandles = new Map<string, RolloutAnalysisHandle>();

  private lastSnapshot: RolloutSnapshot | undefined;
  /** The status that last landed on the object. */
  private lastStatusJson: string;
  /** The status last queued for writing (landed or not). */
  private requestedStatusJson: string;
  /** The newest status not yet sent; it replaces any older one still waiting. */
  private unsent: RolloutStatus | undefined;
  /**
   * Moves on with every event that comes with a new workflow task (a nudge, a command, the
   * wait's timer, an ordinary activity's completion): a status queued at an earlier count
   * was decided in a task that the history has now. Only ever an under-count, so at worst
   * a status takes the ordinary way it would have taken anyway.
   */
  private task = 0;
  /** `task` when the unsent status was queued. */
  private unsentTask = 0;
  /** The unsent status waits for the next workflow task (`deferStatus`). */
  private deferredTask: number | undefined;
  private writing = false;
  /** A pass ran while a write was in flight, so it could not read the commands on the status. */
  private commandsUnread = false;
  private indexed = '';
  private lastActionsJson = '';
  private writes: WriteRecord[];
  private halt: RolloutHalt | undefined;
  revisions: RevisionRecord[];

  constructor(private readonly input: RolloutWorkflowInput) {
    this.ref = { namespace: input.namespace, name: input.name };
    this.id = `${input.namespace}/${input.name}`;
    this.progress = input.progress;
    this.lastStatusJson = input.lastStatusJson ?? '';
    this.requestedStatusJson = this.lastStatusJson;
    this.writes = input.writes ?? [];
    this.halt = input.halt;
    this.revisions = input.revisions ?? [];
  }

  get iterationsPerRun(): number | undefined {
    return this.input.limits?.iterationsPerRun;
  }

  // ---- commands (updates); validators throw what they refuse

  observed(): { p: RolloutProgress; snap: RolloutSnapshot } {
    if (!this.progress || !this.lastSnapshot) throw new Error(`rollout ${this.id} has not been observed yet`);
    return { p: this.progress, snap: this.lastSnapshot };
  }

  updating(): boolean {
    return !!this.progress && this.progress.currentHash !== this.progress.stableHash;
  }

  /** How long to wait for a change before looking again; not long while a deferred status waits for the next task. */
  waitFor(): number {
    return this.deferredTask !== undefined && this.unsent ? Math.min(this.waitMs, DEFERRED_STATUS_MS) : this.waitMs;
  }

  /** Whether a status waits for the next workflow task (`deferStatus`). */
  deferring(): boolean {
    return this.deferredTask !== undefined && !!this.unsent;
  }

  /** A nudge, the wait's timer or a command: each comes with a new workflow task. */
  newTask(): void {
    this.task++;
  }

  /** A command changed the progress: look again, and answer `message`. */
  commanded(message: string): { message: string } {
    this.changed = true;
    this.newTask();
    return { message };
  }

  checkPromote(full: boolean | undefined): void {
    const { p } = this.observed();
    if (p.aborted) throw new Error(`rollout ${this.id} is aborted; retry it first`);
    if (full) {
      if (!this.updating()) throw new Error(`rollout ${this.id} has no update in progress`);
      return;
    }
    if (p.pauseConditions.length === 0) throw new Error(`rollout ${this.id} is not paused`);
  }

  promote(full: boolean | undefined): { message: string } {
    const { p } = this.observed();
    if (full) p.promoteFull = true;
    else p.pauseConditions = [];
    return this.commanded(full ? `rollout ${this.id} fully promoted` : `rollout ${this.id} promoted`);
  }

  checkAbort(): void {
    if (!this.updating()) throw new Error(`rollout ${this.id} has no update in progress to abort`);
    if (this.observed().p.aborted) throw new Error(`rollout ${this.id} is already aborted`);
  }

  abort(nowIso: string): { message: string } {
    abortProgress(this.observed().p, nowIso);
    this.resume();
    return this.commanded(`rollout ${this.id} aborted`);
  }

  checkRetry(): void {
    if (!this.observed().p.aborted) throw new Error(`rollout ${this.id} is not aborted`);
  }

  retry(): { message: string } {
    const { p } = this.observed();
    retryProgress(p);
    p.pauseConditions = [];
    this.resume();
    return this.commanded(`rollout ${this.id} retried`);
  }

  // ---- observe and decide

  /** What the pass observed; the commands written onto the status are read unless our own write is still on its way. */
  seen(snap: RolloutSnapshot, nowIso: string): RolloutProgress {
    this.lastSnapshot = snap;
    this.progress ??= progressFromStatus(snap.status);
    // Commands written onto the status are told apart from our own writes by comparing
    // with the last status that landed; with a write in flight that comparison would
    // mistake our pending status for a user's edit, so it waits for the write.
    if (this.writing) this.commandsUnread = true;
    else if (this.lastStatusJson) applyStatusCommands(this.progress, JSON.parse(this.lastStatusJson) as RolloutStatus, snap.status, nowIso);
    return this.progress;
  }

  decided(decision: Decision, snap: RolloutSnapshot, nowIso: string): void {
    this.progress = decision.progress;
    this.summary = decision.summary;
    // Pure bookkeeping (no call), so runs recorded before it replay unchanged.
    this.revisions = recordRevision(this.revisions, snap, decision.progress, nowIso, this.input.limits?.revisionsKept);
  }

  /** The status after the pass's actions: a refused action degrades it, a finished restart is recorded. */
  acted(snap: RolloutSnapshot, status: RolloutStatus, outcome: { failure?: string; restartDone?: boolean }): RolloutStatus {
    if (outcome.failure) status = { ...status, phase: 'Degraded', message: `ReplicaSetError: ${outcome.failure}` };
    if (outcome.restartDone) {
      this.progress!.restartedAt = snap.spec.restartAt;
      status = { ...status, restartedAt: this.progress!.restartedAt };
    }
    return status;
  }

  // ---- the runaway guard (domain/rollouts/runaway.ts)

  /**
   * Whether the guard still holds the rollout: it lets go once the spec changed (a new
   * generation) or a command moved the rollout (abort, retry, promote), which all change
   * where it stands.
   */
  holding(snap: RolloutSnapshot): boolean {
    if (!this.halt) return false;
    if (progressKey(snap.generation, this.progress!) === this.halt.progress) return true;
    this.resume();
    return false;
  }

  /** A pass the guard held: no decision, no action; the status that says why, and a long wait (nudges still wake it). */
  held(): RolloutStatus {
    this.summary = `stopped: ${this.halt!.message}`;
    this.waitMs = AT_REST_RESYNC_MS;
    return this.halt!.status;
  }

  /**
   * Records the pass's writes; when one field flaps, the guard stops the rollout and
   * returns the status and the Event that say so.
   */
  wrote(snap: RolloutSnapshot, decision: Decision, status: RolloutStatus, nowMs: number): { status: RolloutStatus; event: RolloutEvent } | undefined {
    const key = progressKey(snap.generation, decision.progress);
    this.writes = rememberWrites(this.writes, writesOf(snap, decision.actions, nowMs, key), nowMs);
    const flap = decision.actions.length > 0 ? detectFlap(this.writes, nowMs) : undefined;
    if (!flap) return undefined;
    const at = new Date(nowMs).toISOString();
    this.halt = { progress: key, message: flap.message, status: haltedStatus(status, flap, at) };
    this.summary = `stopped: ${flap.message}`;
    // Named from the workflow's clock, as Kubernetes names events (<object>.<hex time>).
    const event: RolloutEvent = {
      name: `${snap.name}.${nowMs.toString(16)}`,
      uid: snap.uid,
      type: 'Warning',
      reason: RECONCILE_LOOP_REASON,
      message: flap.message,
      at,
    };
    return { status: this.halt.status, event };
  }

  private resume(): void {
    this.halt = undefined;
    this.writes = [];
  }

  // ---- project: status writes, in order, one at a time, behind the loop

  /**
   * Queues `status` unless it is the one last queued; true when a writer must be started.
   * `defer`: a status that decides something new waits for the next workflow task instead
   * of an ordinary activity of its own (see `deferStatus`); so does any status queued in
   * the same task after one was deferred.
   */
  queueStatus(status: RolloutStatus, defer = false): boolean {
    const json = JSON.stringify(status);
    if (json === this.requestedStatusJson) return false;
    this.requestedStatusJson = json;
    this.unsent = status;
    this.unsentTask = this.task;
    if (this.writing) return false;
    if ((defer || this.deferredTask === this.task) && !this.locallyWritable(status) && this.stillProgressing(status)) {
      this.deferredTask = this.task;
      return false;
    }
    this.deferredTask = undefined;
    this.writing = true;
    return true;
  }

  /**
   * A deferred status, in a later workflow task: true when a writer must be started for it
   * (it goes locally). `now`: whatever the task (before continuing as new).
   */
  deferredDue(now = false): boolean {
    if (this.writing || !this.unsent || this.deferredTask === undefined || (this.deferredTask === this.task && !now)) return false;
    this.deferredTask = undefined;
    this.writing = true;
    return true;
  }

  /**
   * Deferred are only the statuses of a rollout that stays Progressing (a new step, say): a
   * new phase (Paused, Healthy, Degraded) is what users and tests act on, so it goes at once.
   */
  private stillProgressing(status: RolloutStatus): boolean {
    return status.phase === 'Progressing' && !!this.lastStatusJson && (JSON.parse(this.lastStatusJson) as RolloutStatus).phase === 'Progressing';
  }

  /**
   * An ordinary write ended, in a new task: a status queued meanwhile is due now and goes
   * from the loop (locally), which is woken for it.
   */
  ordinaryWriteEnded(): void {
    this.writing = false;
    if (this.unsent) {
      this.deferredTask = -1;
      this.changed = true;
    }
    if (this.commandsUnread) this.changed = true;
    this.commandsUnread = false;
  }

  /** Whether the history already has what `status` decides: queued in an earlier task, or new only in its counts. */
  private locallyWritable(status: RolloutStatus): boolean {
    if (this.task !== this.unsentTask) return true;
    return onlyCountsChanged(this.lastStatusJson ? (JSON.parse(this.lastStatusJson) as RolloutStatus) : undefined, status);
  }

  /**
   * The next status to send, or undefined when the writer is done (then a pass that could
   * not read commands looks again). `locally`: it may be written from inside the current
   * workflow task, because the history already has what it decides: it was queued in an
   * earlier task, or it differs from the status that landed only in counts.
   */
  nextToSend(): { status: RolloutStatus; locally: boolean } | undefined {
    const next = this.unsent;
    this.unsent = undefined;
    if (next) return { status: next, locally: this.locallyWritable(next) };
    this.writing = false;
    if (this.commandsUnread) this.changed = true;
    this.commandsUnread = false;
    return undefined;
  }

  /**
   * A status landed. `ordinary`: through an ordinary activity, whose completion opens a
   * new workflow task, so a status still queued was decided in a task the history has.
   */
  statusLanded(status: RolloutStatus, ordinary = false): void {
    this.lastStatusJson = JSON.stringify(status);
    if (ordinary) this.newTask();
  }

  /** Refused (not retried): the next pass tries again. */
  statusRefused(): void {
    this.requestedStatusJson = this.lastStatusJson;
  }

  isWriting(): boolean {
    return this.writing;
  }

  /** The search attributes to upsert when the phase or revision changed. */
  searchIndex(status: RolloutStatus, revision: number | undefined): { phase: string; revision: string } | undefined {
    if (!this.input.useSearchAttributes) return undefined;
    const index = `${status.phase}|${revision ?? ''}`;
    if (index === this.indexed) return undefined;
    this.indexed = index;
    return { phase: status.phase ?? 'Unknown', revision: String(revision ?? '') };
  }

  /** The pass is over: when to look again. */
  passEnded(decision: Decision, status: RolloutStatus, outcome: { restartDone?: boolean }, nowMs: number): void {
    const atRest = decision.actions.length === 0 && (status.phase === 'Healthy' || status.phase === 'Paused');
    this.waitMs = decision.wakeAt !== undefined ? Math.max(0, decision.wakeAt - nowMs) : atRest ? AT_REST_RESYNC_MS : RESYNC_MS;
    // A pod still terminating after a restart's deletion changes no ReplicaSet, so no
    // event would wake us to delete the next one: look again shortly.
    if (outcome.restartDone === false) this.waitMs = Math.min(this.waitMs, RESTART_POLL_MS);
    // Some actions (Service selectors, traffic weights, pod metadata) produce no
    // ReplicaSet event for the watcher to nudge with: look again at once. A batch that
    // is the same as the last one does not loop, it waits for a real change.
    const actionsJson = JSON.stringify(decision.actions);
    if (decision.actions.length > 0 && actionsJson !== this.lastActionsJson) this.changed = true;
    this.lastActionsJson = actionsJson;
  }

  continueAsNewInput(): RolloutWorkflowInput {
    return {
      ...this.ref,
      progress: this.progress,
      lastStatusJson: this.lastStatusJson,
      useSearchAttributes: this.input.useSearchAttributes,
      ...(this.writes.length ? { writes: this.writes } : {}),
      ...(this.halt ? { halt: this.halt } : {}),
      ...(this.revisions.length ? { revisions: this.revisions } : {}),
      ...(this.input.limits ? { limits: this.input.limits } : {}),
    };
  }
}

function abortProgress(p: RolloutProgress, nowIso: string): void {
  p.aborted = true;
  p.abortedAt = nowIso;
  p.pauseConditions = [];
}

function retryProgress(p: RolloutProgress): void {
  p.aborted = false;
  p.abortedAt = undefined;
  p.stepIndex = 0;
  p.pauseStartedAt = undefined;
}

/**
 * The commands Argo's kubectl plugin writes onto the status: a field the user changed
 * from what this workflow last wrote is the same command as the Update.
 */
function applyStatusCommands(p: RolloutProgress, written: RolloutStatus, seen: RolloutStatus, nowIso: string): void {
  const hadPause = (written.pauseConditions?.length ?? 0) > 0;
  if (hadPause && !(seen.pauseConditions?.length ?? 0) && p.pauseConditions.length > 0) p.pauseConditions = [];
  if (!written.promoteFull && seen.promoteFull === true && p.currentHash !== p.stableHash) p.promoteFull = true;
  if (!written.abort && seen.abort === true && !p.aborted && p.currentHash !== p.stableHash) abortProgress(p, nowIso);
  if (written.abort && seen.abort === false && p.aborted) retryProgress(p);
}
