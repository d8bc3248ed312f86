// Signals, updates and queries of Sluice's workflows: the one place clients (the
// watcher, the HTTP API, the CLI) and workflows agree on names and payloads.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RolloutProgress } from './rollouts/progress';

export interface RolloutRef {
  namespace: string;
  name: string;
}

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

export interface RolloutView {
  progress?: RolloutProgress;
  summary: string;
}
export const rolloutViewQuery = defineQuery<RolloutView>('rolloutView');
