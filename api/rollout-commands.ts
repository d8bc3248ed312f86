// Rollout commands as Temporal Updates on the rollout's workflow. The workflow's
// validator decides whether a command makes sense now ("not paused"), so every
// client (HTTP API, CLI, watcher) gets the same answer.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  abortUpdate,
  pauseUpdate,
  promoteUpdate,
  restartUpdate,
  resumeUpdate,
  retryUpdate,
  rolloutRevisionsQuery,
  rolloutViewQuery,
  rolloutWorkflowId,
  setImageUpdate,
  undoUpdate,
  type CommandResult,
  type RolloutRef,
  type RolloutView,
} from '../workflows/definitions';
import type { RolloutWorkflowInput } from '../workflows/rollout-run';
import { mergeRevisionRecords, type RevisionRecord } from '../domain/rollouts/revision-history';
import { closedRunInputs } from './closed-runs';

export class CommandRefused extends Error {
  constructor(
    readonly code: 'NotFound' | 'FailedPrecondition',
    message: string,
  ) {
    super(message);
  }
}

async function translate<T>(ref: RolloutRef, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new CommandRefused('NotFound', `rollout ${ref.namespace}/${ref.name} is not managed by Sluice (no workflow ${rolloutWorkflowId(ref)})`);
    if (err instanceof WorkflowUpdateFailedError) throw new CommandRefused('FailedPrecondition', err.cause?.message ?? err.message);
    // A validator's refusal surfaces as a failure whose message is the refusal itself.
    const message = (err as { cause?: { message?: string } }).cause?.message;
    if (message) throw new CommandRefused('FailedPrecondition', message);
    throw err;
  }
}

export class RolloutCommands {
  constructor(private readonly client: Client) {}

  private handle(ref: RolloutRef) {
    return this.client.workflow.getHandle(rolloutWorkflowId(ref));
  }

  /** Every revision the rollout went through: the current run's records and older ones from the runs before it. */
  async history(ref: RolloutRef): Promise<RevisionRecord[]> {
    const current = await translate(ref, () => this.handle(ref).query(rolloutRevisionsQuery));
    const earlier = await closedRunInputs<RolloutWorkflowInput>(this.client, rolloutWorkflowId(ref));
    return mergeRevisionRecords([...earlier.reverse().map((input) => input.revisions ?? []), current]);
  }

  promote(ref: RolloutRef, full = false): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(promoteUpdate, { args: [{ full }] }));
  }

  abort(ref: RolloutRef): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(abortUpdate, { args: [] }));
  }

  retry(ref: RolloutRef): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(retryUpdate, { args: [] }));
  }

  undo(ref: RolloutRef, toRevision?: number): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(undoUpdate, { args: [{ toRevision }] }));
  }

  restart(ref: RolloutRef): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(restartUpdate, { args: [] }));
  }

  pause(ref: RolloutRef): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(pauseUpdate, { args: [] }));
  }

  resume(ref: RolloutRef): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(resumeUpdate, { args: [] }));
  }

  setImage(ref: RolloutRef, container: string, image: string): Promise<CommandResult> {
    return translate(ref, () => this.handle(ref).executeUpdate(setImageUpdate, { args: [{ container, image }] }));
  }

  view(ref: RolloutRef): Promise<RolloutView> {
    return translate(ref, () => this.handle(ref).query(rolloutViewQuery));
  }
}
