// Sluice does not run Argo Rollouts Experiments yet. So that an applied Experiment does
// not sit with no status (looking pending for ever), this watcher gives each one the
// terminal phase Error and a message saying so, once per object.
import { FIELD_MANAGER } from '../domain/argo/names';
import { inform } from '../k8s/informer';
import { isConflict, isNotFound, Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';

export const EXPERIMENT_NOT_SUPPORTED_REASON = 'ExperimentsNotSupported';
export const EXPERIMENT_NOT_SUPPORTED_MESSAGE =
  'Experiments are not supported yet: Sluice creates no ReplicaSets or AnalysisRuns for them. Use an analysis step or a canary instead.';

export interface ExperimentWatcherOptions {
  kube: KubeClient;
  namespace?: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
}

/** The status to write on an Experiment, or undefined when it already says it is not supported. */
export function notSupportedStatus(experiment: KubeObject, now: Date): Record<string, unknown> | undefined {
  const status = experiment.status as { phase?: string; message?: string } | undefined;
  if (status?.phase === 'Error' && status.message === EXPERIMENT_NOT_SUPPORTED_MESSAGE) return undefined;
  const at = now.toISOString();
  return {
    phase: 'Error',
    message: EXPERIMENT_NOT_SUPPORTED_MESSAGE,
    conditions: [
      {
        type: 'Progressing',
        status: 'False',
        reason: EXPERIMENT_NOT_SUPPORTED_REASON,
        message: EXPERIMENT_NOT_SUPPORTED_MESSAGE,
        lastUpdateTime: at,
        lastTransitionTime: at,
      },
    ],
  };
}

export class ExperimentWatcher {
  private readonly abort = new AbortController();
  private loop?: Promise<void>;

  constructor(private readonly opts: ExperimentWatcherOptions) {}

  start(): void {
    const { kube, namespace, log } = this.opts;
    this.loop = inform({ kube, resource: Resources.experiment, namespace, signal: this.abort.signal, log }, (type, obj) => {
      if (type !== 'DELETED') void this.markNotSupported(obj);
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async markNotSupported(experiment: KubeObject): Promise<void> {
    const status = notSupportedStatus(experiment, new Date());
    if (!status) return;
    const { namespace, name, uid } = experiment.metadata;
    try {
      // The uid makes the write fail, not land on a namesake, if the object was deleted and created again.
      await this.opts.kube.patch(Resources.experiment, namespace, name, { metadata: { uid }, status }, { subresource: 'status', fieldManager: FIELD_MANAGER });
    } catch (err) {
      // Gone already, or replaced (its own event follows): nothing to tell anyone.
      if (isNotFound(err) || isConflict(err) || this.abort.signal.aborted) return;
      this.opts.log('could not write the status of an experiment', { namespace, name, error: String(err) });
    }
  }
}
