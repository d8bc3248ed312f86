// Turns AnalysisRun objects into workflows: a run someone applied (kubectl) starts its
// workflow analysisrun/<ns>/<name> with signalWithStart; a run a Rollout owns is
// started by the rollout's workflow as a child, so here it only gets signals (spec.terminate).
// Completed runs are left alone: their workflow has finished (or waits for the TTL).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';
import { isCompleted } from '../domain/analysis/types';
import { analysisRunNudgeSignal, analysisRunWorkflowId, type AnalysisRunNudge } from '../workflows/definitions';
import { inform } from '../k8s/informer';
import { Nudger } from './nudger';
import type { Shards } from './replica-shards';
import { analysisRunWorkflow } from '../workflows/analysis-run';

export interface AnalysisWatcherOptions {
  /** Who signals which workflow when several replicas run (worker/replica-shards.ts). */
  shards?: Shards;
  kube: KubeClient;
  client: Client;
  taskQueue: string;
  namespace?: string;
  useSearchAttributes: boolean;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export class AnalysisWatcher {
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly nudger: Nudger;

  constructor(private readonly opts: AnalysisWatcherOptions) {
    this.nudger = new Nudger((key, err) => {
      if (err instanceof WorkflowNotFoundError) return; // a rollout's run before its parent started it
      opts.log('signal failed', { workflowId: key, error: String(err) });
    }, opts.shards);
  }

  start(): void {
    this.loop = inform(
      { kube: this.opts.kube, resource: Resources.analysisRun, namespace: this.opts.namespace, signal: this.abort.signal, log: this.opts.log },
      (type, obj) => this.onAnalysisRun(type, obj),
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** The generation last acted on, per run uid: status writes (every measurement) are not news. */
  private readonly seen = new Map<string, number>();

  private onAnalysisRun(type: string, run: KubeObject): void {
    const uid = run.metadata.uid ?? '';
    const ref = { namespace: run.metadata.namespace!, name: run.metadata.name };
    const workflowId = analysisRunWorkflowId(ref);
    if (type === 'DELETED') {
      this.seen.delete(uid);
      // Stops a run mid-measurement or in its TTL wait; a finished workflow is not found, which is fine.
      const gone = { reason: 'analysisrun deleted', uid, deleted: true };
      this.nudger.nudge(workflowId, () => this.opts.client.workflow.getHandle(workflowId).signal(analysisRunNudgeSignal, gone));
      return;
    }
    if (isCompleted(run.status?.phase)) return;
    const generation = run.metadata.generation ?? 0;
    if (type === 'MODIFIED' && this.seen.get(uid) === generation) return;
    this.seen.set(uid, generation);
    const nudge = { reason: `analysisrun ${type.toLowerCase()}`, terminate: !!run.spec?.terminate, uid };
    const { client, taskQueue, useSearchAttributes } = this.opts;
    const ownedByRollout = run.metadata.ownerReferences?.some((o) => o.kind === 'Rollout' && o.controller);
    if (ownedByRollout) {
      if (!nudge.terminate) return; // nothing the running child does not know
      this.nudger.nudge(workflowId, () => client.workflow.getHandle(workflowId).signal(analysisRunNudgeSignal, nudge));
      return;
    }
    this.nudger.nudge(workflowId, async () => {
      // Not started (Temporal unreachable): forget it, so the next event tries again.
      await this.startOrSignal(workflowId, ref, nudge, taskQueue, useSearchAttributes).catch((err: unknown) => {
        this.seen.delete(uid);
        throw err;
      });
    });
  }

  private startOrSignal(
    workflowId: string,
    ref: { namespace: string; name: string },
    nudge: AnalysisRunNudge,
    taskQueue: string,
    useSearchAttributes: boolean,
  ) {
    return this.opts.client.workflow.signalWithStart(analysisRunWorkflow, {
      workflowId,
      taskQueue,
      args: [ref],
      signal: analysisRunNudgeSignal,
      signalArgs: [nudge],
      staticSummary: `AnalysisRun ${ref.namespace}/${ref.name}`,
      ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['AnalysisRun'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
    });
  }
}
