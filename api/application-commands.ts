// Application commands as Temporal Updates on application/<ns>/<name>: the workflow's
// validators decide ("another operation is already in progress"), so the HTTP API, the
// CLI and Argo-style `operation` writes all get the same answer.
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  appDiffUpdate,
  appHistoryQuery,
  applicationWorkflowId,
  appRefreshUpdate,
  appRollbackUpdate,
  appSyncUpdate,
  appTerminateUpdate,
  type ApplicationRef,
  type CommandResult,
  type HistoryEntry,
  type SyncRequest,
} from '../workflows/definitions';
import type { ApplicationWorkflowInput } from '../workflows/application-run';
import { mergeHistoryEntries } from '../domain/applications/reconcile';
import { CommandRefused } from './rollout-commands';
import { closedRunInputs } from './closed-runs';

export class ApplicationCommands {
  constructor(private readonly client: Client) {}

  private handle(ref: ApplicationRef) {
    return this.client.workflow.getHandle(applicationWorkflowId(ref));
  }

  private async call<T>(ref: ApplicationRef, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new CommandRefused('NotFound', `application ${ref.namespace}/${ref.name} is not managed by Sluice (no workflow ${applicationWorkflowId(ref)})`);
      if (err instanceof WorkflowUpdateFailedError) throw new CommandRefused('FailedPrecondition', err.cause?.message ?? err.message);
      const message = (err as { cause?: { message?: string } }).cause?.message;
      if (message) throw new CommandRefused('FailedPrecondition', message);
      throw err;
    }
  }

  sync(ref: ApplicationRef, request: SyncRequest = {}): Promise<CommandResult> {
    return this.call(ref, () => this.handle(ref).executeUpdate(appSyncUpdate, { args: [request] }));
  }

  refresh(ref: ApplicationRef, opts: { hard?: boolean } = {}): Promise<CommandResult> {
    const askedAt = Date.now();
    return this.call(ref, () => this.handle(ref).executeUpdate(appRefreshUpdate, { args: [{ ...opts, askedAt }] }));
  }

  terminate(ref: ApplicationRef): Promise<CommandResult> {
    return this.call(ref, () => this.handle(ref).executeUpdate(appTerminateUpdate, { args: [] }));
  }

  rollback(ref: ApplicationRef, id: number): Promise<CommandResult> {
    return this.call(ref, () => this.handle(ref).executeUpdate(appRollbackUpdate, { args: [{ id }] }));
  }

  /** A unified diff, live → Git, of every out-of-sync resource; "" when in sync. */
  async diff(ref: ApplicationRef): Promise<string> {
    return (await this.call(ref, () => this.handle(ref).executeUpdate(appDiffUpdate, { args: [] }))).diff;
  }

  /** Every sync the history kept: what the current run carries, and older entries from the runs before it. */
  async history(ref: ApplicationRef): Promise<HistoryEntry[]> {
    const current = await this.call(ref, () => this.handle(ref).query(appHistoryQuery));
    const earlier = await closedRunInputs<ApplicationWorkflowInput>(this.client, applicationWorkflowId(ref));
    return mergeHistoryEntries([...earlier.reverse().map((input) => input.state?.history ?? []), current]);
  }
}
