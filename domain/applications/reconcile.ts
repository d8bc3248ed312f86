// The Application workflow's decisions, pure: when to reconcile next, whether an automated
// sync is due, how long to back off before a retry, and the status projected onto the object.
import { parseDuration } from '../argo/duration';
import { RECONCILE_LOOP_REASON } from './self-heal-loop';
import { isMultiSource } from './sources';
import type { ApplicationSource, ApplicationSpec, Comparison, HistoryEntry, RetryStrategy, SyncRequest, SyncResult } from './types';

/** A stable jitter in [0, maxMs) from the Application's name (FNV-1a), so replays agree and apps spread out. */
export function reconcileJitterMs(key: string, maxMs: number): number {
  if (maxMs <= 0) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % maxMs;
}

export interface LastAutoSync {
  revision: string;
  atMs: number;
  phase: string;
}

export const SELF_HEAL_BACKOFF_MS = 5000;

export type AutoSyncDecision = { sync: true; reason: string; selfHeal?: boolean } | { sync: false; reason: string; retryInMs?: number };

/** How automated self-heal is tuned: its backoff, and the runaway guard's stop (self-heal-loop.ts) if it holds. */
export interface SelfHealOptions {
  backoffMs?: number;
  /** The message of the runaway guard's stop, while it holds: no self-heal. */
  stopped?: string;
}

/**
 * Argo CD's automated sync: once per revision; again for the same revision only with
 * selfHeal, after the drift has lasted SELF_HEAL_BACKOFF_MS since the last sync; never
 * when all that differs needs pruning and prune is off, nor for an empty app without allowEmpty.
 */
export function decideAutoSync(
  spec: ApplicationSpec,
  comparison: Comparison,
  last: LastAutoSync | undefined,
  nowMs: number,
  selfHeal: SelfHealOptions = {},
): AutoSyncDecision {
  const automated = spec.syncPolicy?.automated;
  if (!automated) return { sync: false, reason: 'automated sync is off' };
  if (comparison.error || !comparison.revision) return { sync: false, reason: 'comparison failed' };
  if (comparison.syncStatus !== 'OutOfSync') return { sync: false, reason: 'in sync' };
  const outOfSync = comparison.resources.filter((r) => r.status === 'OutOfSync');
  if (!automated.prune && outOfSync.every((r) => r.requiresPruning))
    return { sync: false, reason: 'only resources that need pruning differ, and automated prune is off' };
  if (!automated.allowEmpty && comparison.resources.every((r) => r.requiresPruning))
    return { sync: false, reason: 'the source renders no resources and allowEmpty is off' };
  if (!last || last.revision !== comparison.revision) return { sync: true, reason: `new revision ${comparison.revision.slice(0, 7)}` };
  if (!automated.selfHeal) return { sync: false, reason: `already synced revision ${comparison.revision.slice(0, 7)} once` };
  if (last.phase !== 'Succeeded') return { sync: false, reason: `the last automated sync of ${comparison.revision.slice(0, 7)} ${last.phase}` };
  if (selfHeal.stopped) return { sync: false, reason: selfHeal.stopped };
  const wait = last.atMs + (selfHeal.backoffMs ?? SELF_HEAL_BACKOFF_MS) - nowMs;
  if (wait > 0) return { sync: false, reason: 'self-heal backoff', retryInMs: wait };
  return { sync: true, reason: 'self-heal: live state drifted from Git', selfHeal: true };
}

/** Delay before retry number `attempt` (1-based), or undefined when retries are used up. Argo's defaults: 5s, ×2, ≤3m. */
export function retryDelayMs(retry: RetryStrategy | undefined, attempt: number): number | undefined {
  if (!retry) return undefined;
  const limit = retry.limit ?? 0;
  if (limit >= 0 && attempt > limit) return undefined;
  const base = parseDuration(retry.backoff?.duration ?? '5s');
  const factor = retry.backoff?.factor ?? 2;
  const max = parseDuration(retry.backoff?.maxDuration ?? '3m');
  return Math.min(max, base * Math.pow(factor, attempt - 1));
}

export interface OperationState {
  operation: {
    sync: { revision?: string; prune?: boolean; dryRun?: boolean; resources?: string[] };
    initiatedBy: { username?: string; automated?: boolean };
    retry?: RetryStrategy;
  };
  phase: string;
  message: string;
  startedAt: string;
  finishedAt?: string;
  retryCount?: number;
  syncResult?: { resources: SyncResult['resources']; revision: string; source?: ApplicationSource; sources?: ApplicationSource[]; revisions?: string[] };
}

export function startedOperation(
  request: SyncRequest,
  initiatedBy: OperationState['operation']['initiatedBy'],
  spec: ApplicationSpec,
  startedAt: string,
): OperationState {
  return {
    operation: {
      sync: { revision: request.revision, prune: request.prune, dryRun: request.dryRun, resources: request.resources },
      initiatedBy,
      retry: spec.syncPolicy?.retry,
    },
    phase: 'Running',
    message: 'syncing',
    startedAt,
  };
}

export interface StatusInput {
  spec: ApplicationSpec;
  comparison: Comparison;
  /** The last comparison that worked: kept on the object while Git cannot be read. */
  lastGood?: Comparison;
  operationState?: OperationState;
  history: HistoryEntry[];
  reconciledAt: string;
  /** When the current ComparisonError was first seen. */
  errorSince?: string;
  /** The runaway guard's stop, shown as a ReconcileLoop condition while it holds. */
  reconcileLoop?: string;
}

/** What decides whether a status needs writing again: all of it but reconciledAt. */
export function statusKey(status: Record<string, unknown>): string {
  return JSON.stringify({ ...status, reconciledAt: undefined });
}

/** After a comparison: the last good one and since when comparisons have failed. */
export function afterComparison(
  c: Comparison,
  before: { lastGood?: Comparison; errorSince?: string },
  nowIso: string,
): { lastGood?: Comparison; errorSince?: string } {
  return c.error ? { lastGood: before.lastGood, errorSince: before.errorSince ?? nowIso } : { lastGood: c, errorSince: undefined };
}

/** What a pass projects onto status besides its comparison. */
export interface PassStatusInput {
  operationState?: OperationState;
  history: HistoryEntry[];
  lastGood?: Comparison;
  errorSince?: string;
  /** The statusKey of the status last written. */
  lastWritten: string;
  reconcileLoop?: string;
}

/**
 * The status a pass projects from its comparison, and whether it needs writing: when it
 * differs from the last one written, or when the pass must report reconciledAt anyway.
 */
export function passStatus(input: { spec: ApplicationSpec; comparison: Comparison; status: PassStatusInput; nowIso: string; reportReconcile: boolean }): {
  status: Record<string, unknown>;
  key: string;
  write: boolean;
  errorSince?: string;
} {
  const after = afterComparison(input.comparison, input.status, input.nowIso);
  const status = projectStatus({
    spec: input.spec,
    comparison: input.comparison,
    ...after,
    operationState: input.status.operationState,
    history: input.status.history,
    reconciledAt: input.nowIso,
    reconcileLoop: input.status.reconcileLoop,
  });
  const key = statusKey(status);
  return { status, key, write: input.reportReconcile || key !== input.status.lastWritten, errorSince: after.errorSince };
}

/**
 * Whether the workflow starts a sync after this pass (a sync asked for, an operation on
 * the object, or an automated sync due by decideAutoSync), so the pass leaves the status
 * to the operation's first write. `nowMs` is the workflow's time for the pass, the time
 * the workflow then decides with, so the pass and the workflow cannot disagree on a
 * self-heal backoff; the activity applies this rule only because the status is written in
 * the same step as the compare.
 */
export function syncExpected(input: {
  spec: ApplicationSpec;
  comparison: Comparison;
  lastAuto?: LastAutoSync;
  nowMs: number;
  requested: boolean;
  selfHeal?: SelfHealOptions;
}): boolean {
  return input.requested || decideAutoSync(input.spec, input.comparison, input.lastAuto, input.nowMs, input.selfHeal).sync;
}

/**
 * As of when a compare must read Git (epoch ms), or undefined for the usual reuse: when a
 * refresh was asked (by whoever asked, or now for an annotation), or, for the first compare
 * of a new Application, the end of its creationTimestamp's second. Timestamps have whole
 * seconds: a fetch started later in that second may predate a commit pushed just before the
 * Application was created, and the end of that second (or now, if sooner: this pass runs
 * after the creation was seen) is safely after it.
 */
export function freshSince(input: {
  refreshAskedAt?: number;
  annotatedRefresh: boolean;
  firstCompare: boolean;
  createdAt?: string;
  nowMs: number;
}): number | undefined {
  const asked = input.refreshAskedAt ?? (input.annotatedRefresh ? input.nowMs : undefined);
  if (asked !== undefined || !input.firstCompare) return asked;
  return input.createdAt ? Math.min(Date.parse(input.createdAt) + 1000, input.nowMs) : input.nowMs;
}

/** status as Argo CD shapes it: sync, health, resources, conditions, operationState, history, reconciledAt. */
export function projectStatus(input: StatusInput): Record<string, unknown> {
  const { comparison, spec } = input;
  const shown = comparison.error ? (input.lastGood ?? comparison) : comparison;
  const limit = spec.revisionHistoryLimit ?? 10;
  const multi = isMultiSource(spec);
  const status: Record<string, unknown> = {
    sync: {
      status: comparison.error ? 'Unknown' : comparison.syncStatus,
      // A multi-source app shows one revision per source, in `revisions`, as Argo CD does.
      ...(multi ? (shown.revisions ? { revisions: shown.revisions } : {}) : shown.revision ? { revision: shown.revision } : {}),
      comparedTo: multi
        ? { source: {}, sources: spec.sources, destination: spec.destination ?? {} }
        : { source: spec.source ?? {}, destination: spec.destination ?? {} },
    },
    health: { status: shown.error ? 'Unknown' : shown.health },
    resources: shown.resources,
    conditions: conditionsOf(input),
    history: input.history.slice(-Math.max(0, limit)),
    reconciledAt: input.reconciledAt,
    ...(shown.sourceType ? { sourceType: shown.sourceType } : {}),
    ...(multi && shown.sourceTypes ? { sourceTypes: shown.sourceTypes } : {}),
  };
  if (input.operationState) status.operationState = input.operationState;
  return status;
}

function conditionsOf(input: StatusInput): Record<string, unknown>[] | null {
  const { comparison } = input;
  const conditions: Record<string, unknown>[] = [];
  if (comparison.error) conditions.push({ type: 'ComparisonError', message: comparison.error, lastTransitionTime: input.errorSince ?? input.reconciledAt });
  // No lastTransitionTime: it would change the status at every reconcile.
  for (const w of comparison.warnings ?? []) conditions.push({ type: w.type, message: w.message });
  if (input.reconcileLoop) conditions.push({ type: RECONCILE_LOOP_REASON, message: input.reconcileLoop });
  return conditions.length > 0 ? conditions : null;
}

/**
 * The next history entry after a successful sync. A multi-source sync (`sources`) records
 * `sources` and one revision per source in `revisions`, as Argo CD does; `revision` keeps
 * the joined form a rollback syncs to.
 */
export function historyEntry(
  history: HistoryEntry[],
  revision: string,
  source: ApplicationSource | ApplicationSource[],
  startedAt: string,
  finishedAt: string,
  initiatedBy: HistoryEntry['initiatedBy'],
): HistoryEntry {
  const id = history.reduce((max, h) => Math.max(max, h.id), -1) + 1;
  const what = Array.isArray(source) ? { sources: source, revisions: revision.split(',') } : { source };
  return { id, revision, ...what, deployedAt: finishedAt, deployStartedAt: startedAt, initiatedBy };
}

/** One history from the entries of several runs (oldest run first): ids are unique per Application, the later copy wins; oldest first. */
export function mergeHistoryEntries(runs: HistoryEntry[][]): HistoryEntry[] {
  const byId = new Map<number, HistoryEntry>();
  for (const entries of runs) for (const h of entries) byId.set(h.id, h);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** What a sync deployed, for operationState.syncResult: `source` and `revision`, or `sources` and `revisions`. */
export function syncedSource(
  spec: ApplicationSpec,
  revision: string,
): { revision: string; source?: ApplicationSource; sources?: ApplicationSource[]; revisions?: string[] } {
  if (isMultiSource(spec)) return { revision, sources: spec.sources, revisions: revision ? revision.split(',') : [] };
  return { revision, source: spec.source };
}

/** A refresh's own time is trusted this far back: a sender's clock far behind must not make stale Git count as fresh. */
const REFRESH_ASKED_AT_TRUST_MS = 60_000;

/**
 * When a refresh was asked for, as its sender says, so that a burst of refreshes a busy
 * worker takes over many seconds shares one fetch; never after `now`, never more than a
 * minute before it. Without the sender's time: now.
 */
export function refreshAskedWhen(now: number, askedAt: number | undefined): number {
  return askedAt === undefined ? now : Math.min(now, Math.max(askedAt, now - REFRESH_ASKED_AT_TRUST_MS));
}
