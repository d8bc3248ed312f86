// Signals, updates and queries of Sluice's workflows: the one place clients (the
// watcher, the HTTP API, the CLI) and workflows agree on names and payloads.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RolloutProgress } from '../domain/rollouts/progress';
import type { RevisionRecord } from '../domain/rollouts/revision-history';

import type { ObjectRef } from '../domain/objects';
export type RolloutRef = ObjectRef;

export const rolloutWorkflowId = (ref: RolloutRef) => `rollout/${ref.namespace}/${ref.name}`;

/** Something about the Rollout or its ReplicaSets changed; look again. */
export interface Nudge {
  reason: string;
  generation?: number;
}
export const nudgeSignal = defineSignal<[Nudge]>('nudge');

export interface PromoteRequest {
  full?: boolean;
}
export interface CommandResult {
  message: string;
}
export const promoteUpdate = defineUpdate<CommandResult, [PromoteRequest]>('promote');
export const abortUpdate = defineUpdate<CommandResult, []>('abort');
export const retryUpdate = defineUpdate<CommandResult, []>('retry');
export const pauseUpdate = defineUpdate<CommandResult, []>('pause');
export const resumeUpdate = defineUpdate<CommandResult, []>('resume');
export const restartUpdate = defineUpdate<CommandResult, []>('restart');
export interface UndoRequest {
  /** The revision to go back to; the previous one when omitted. */
  toRevision?: number;
}
export const undoUpdate = defineUpdate<CommandResult, [UndoRequest]>('undo');
export interface SetImageRequest {
  container: string;
  image: string;
}
export const setImageUpdate = defineUpdate<CommandResult, [SetImageRequest]>('setImage');

export interface RolloutView {
  progress?: RolloutProgress;
  summary: string;
}
export const rolloutViewQuery = defineQuery<RolloutView>('rolloutView');
/** The revisions this run carries (the newest); older ones are in the closed runs' inputs. */
export const rolloutRevisionsQuery = defineQuery<RevisionRecord[]>('rolloutRevisions');

// AnalysisRun workflows (analysisrun/<ns>/<name>).
export const analysisRunWorkflowId = (ref: { namespace: string; name: string }) => `analysisrun/${ref.namespace}/${ref.name}`;

/** The AnalysisRun object changed; `terminate` once true stays true. */
export interface AnalysisRunNudge {
  reason: string;
  terminate?: boolean;
  /** The object's uid: another uid means the run was deleted and created again. */
  uid?: string;
  deleted?: boolean;
}
export const analysisRunNudgeSignal = defineSignal<[AnalysisRunNudge]>('analysisRunNudge');

// ---- Applications (Argo CD) ----
import type { HistoryEntry, SyncRequest } from '../domain/applications/types';
export type { ApplicationRef, HistoryEntry, SyncRequest } from '../domain/applications/types';

export const applicationWorkflowId = (ref: { namespace: string; name: string }) => `application/${ref.namespace}/${ref.name}`;
export const syncWorkflowId = (ref: { namespace: string; name: string }, n: number) => `sync/${ref.namespace}/${ref.name}/${n}`;

/** The Application (or a resource it manages) changed, or a refresh was asked for: compare again. */
export interface ApplicationNudge {
  reason: string;
  refresh?: 'normal' | 'hard';
  /** A managed resource changed (not the Application): a compare that reads the cluster afterwards covers it. */
  managed?: boolean;
  /**
   * When the refresh was asked for (epoch ms, the sender's clock): Git is read as of then.
   * For a managed resource's change, when the watcher saw it.
   */
  askedAt?: number;
}
export const applicationNudgeSignal = defineSignal<[ApplicationNudge]>('applicationNudge');

export const appSyncUpdate = defineUpdate<CommandResult, [SyncRequest]>('appSync');
export const appRefreshUpdate = defineUpdate<CommandResult, [{ hard?: boolean; askedAt?: number }]>('appRefresh');
export const appTerminateUpdate = defineUpdate<CommandResult, []>('appTerminateOperation');
export const appRollbackUpdate = defineUpdate<CommandResult, [{ id: number }]>('appRollback');
/** A unified diff, live → Git, of every out-of-sync resource. */
export const appDiffUpdate = defineUpdate<{ diff: string }, []>('appDiff');
/** Every sync this workflow run knows of (the object keeps revisionHistoryLimit of them). */
export const appHistoryQuery = defineQuery<HistoryEntry[]>('appHistory');
export const appViewQuery = defineQuery<{ summary: string; syncing: boolean }>('appView');

// ---- ApplicationSets (Argo CD) ----
export const applicationSetWorkflowId = (ref: { namespace: string; name: string }) => `applicationset/${ref.namespace}/${ref.name}`;

/** The ApplicationSet (or an Application it owns, or a generator's input) changed: generate again. */
export interface ApplicationSetNudge {
  reason: string;
}
export const applicationSetNudgeSignal = defineSignal<[ApplicationSetNudge]>('applicationSetNudge');

/** One notifications workflow per Application: it decides what fires and sends it, once. */
export const notificationsWorkflowId = (ref: { namespace: string; name: string }) => `notifications/${ref.namespace}/${ref.name}`;
/** The Application changed: evaluate its triggers again. */
export const notificationsNudgeSignal = defineSignal<[]>('notificationsNudge');

/** One notifications workflow per subscribed Rollout; nudged with notificationsNudgeSignal. */
export const rolloutNotificationsWorkflowId = (ref: { namespace: string; name: string }) => `notifications/rollout/${ref.namespace}/${ref.name}`;
/** One image update workflow per Application with the image-list annotation. */
export const imageUpdateWorkflowId = (ref: { namespace: string; name: string }) => `image-update/${ref.namespace}/${ref.name}`;
/** A registry webhook or the watcher: check now instead of at the next interval. */
export const imageUpdateNudgeSignal = defineSignal<[{ reason: string }]>('imageUpdateNudge');
/** What the last check found and wrote, for `sluice image list|check`. */
export const imageUpdateStatusQuery = defineQuery<ImageUpdateStatus>('imageUpdateStatus');
export interface ImageUpdateStatus {
  lastCheckedAt?: string;
  images: { alias: string; image: string; strategy: string; current?: string; chosen?: string; reason: string; error?: string }[];
  problems: string[];
  lastWrite?: { at: string; message: string };
}
