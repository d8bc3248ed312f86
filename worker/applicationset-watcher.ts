// Turns ApplicationSet changes into signals for applicationset/<ns>/<name> workflows, started
// with signalWithStart. A spec change, a refresh annotation, a deletion (or its start) wakes
// the workflow; its own status writes do not. An Application it controls that is deleted or
// whose spec changes wakes it too, so a hand-deleted or hand-edited Application is put back.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';
import { inform } from '../k8s/informer';
import { applicationSetNudgeSignal, applicationSetWorkflowId, type ApplicationSetNudge } from '../workflows/definitions';
import { Nudger } from './nudger';
import type { Shards } from './replica-shards';
import { APPSET_REFRESH_ANNOTATION } from '../domain/argo/names';

export interface ApplicationSetWatcherOptions {
  /** Who signals which workflow when several replicas run (worker/replica-shards.ts). */
  shards?: Shards;
  kube: KubeClient;
  client: Client;
  taskQueue: string;
  namespace?: string;
  useSearchAttributes: boolean;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

export class ApplicationSetWatcher {
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly nudger: Nudger;
  private readonly seen = new Map<string, string>();

  constructor(private readonly opts: ApplicationSetWatcherOptions) {
    this.nudger = new Nudger((key, err) => {
      if (err instanceof WorkflowNotFoundError) return;
      opts.log('signal failed', { workflowId: key, error: String(err) });
    }, opts.shards);
  }

  start(): void {
    const base = { kube: this.opts.kube, namespace: this.opts.namespace, signal: this.abort.signal, log: this.opts.log };
    this.loops.push(inform({ ...base, resource: Resources.applicationSet }, (type, obj) => this.onApplicationSet(type, obj)));
    this.loops.push(inform({ ...base, resource: Resources.application }, (type, obj) => this.onApplication(type, obj)));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private changed(key: string, type: string, marker: string): boolean {
    if (type === 'DELETED') {
      this.seen.delete(key);
      return true;
    }
    const before = this.seen.get(key);
    this.seen.set(key, marker);
    return before !== marker;
  }

  /** Signals (starting it when asked) the workflow of one ApplicationSet. */
  nudge(ref: { namespace: string; name: string }, nudge: ApplicationSetNudge, start: boolean): void {
    const workflowId = applicationSetWorkflowId(ref);
    const { client, taskQueue, useSearchAttributes } = this.opts;
    if (!start) {
      this.nudger.nudge(workflowId, () => client.workflow.getHandle(workflowId).signal(applicationSetNudgeSignal, nudge));
      return;
    }
    this.nudger.nudge(workflowId, async () => {
      await client.workflow.signalWithStart('applicationSetWorkflow', {
        workflowId,
        taskQueue,
        args: [{ ...ref }],
        signal: applicationSetNudgeSignal,
        signalArgs: [nudge],
        staticSummary: `ApplicationSet ${ref.namespace}/${ref.name}`,
        ...(useSearchAttributes ? { searchAttributes: { SluiceKind: ['ApplicationSet'], SluiceNamespace: [ref.namespace], SluiceName: [ref.name] } } : {}),
      });
    });
  }

  private onApplicationSet(type: string, set: KubeObject): void {
    const ref = { namespace: set.metadata.namespace!, name: set.metadata.name };
    const refresh = set.metadata.annotations?.[APPSET_REFRESH_ANNOTATION];
    const marker = `g${set.metadata.generation}/${set.metadata.deletionTimestamp ?? ''}/${refresh ?? ''}`;
    if (!this.changed(`appset/${ref.namespace}/${ref.name}`, type, marker)) return;
    this.nudge(ref, { reason: `applicationset ${type.toLowerCase()}` }, type !== 'DELETED' && !set.metadata.deletionTimestamp);
  }

  private onApplication(type: string, app: KubeObject): void {
    const owner = (app.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === 'ApplicationSet');
    if (!owner) return;
    const marker = `g${app.metadata.generation}/${JSON.stringify(app.metadata.labels ?? {})}/${JSON.stringify(app.metadata.annotations ?? {})}`;
    if (!this.changed(`app/${app.metadata.namespace}/${app.metadata.name}`, type, marker)) return;
    this.nudge({ namespace: app.metadata.namespace!, name: owner.name }, { reason: `application ${app.metadata.name} ${type.toLowerCase()}` }, false);
  }
}
