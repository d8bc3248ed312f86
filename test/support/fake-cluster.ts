// An in-memory stand-in for the ReplicaSet controller, for unit and workflow tests of
// orchestration logic only: scaling takes effect at once and every pod is available.
// End-to-end tests use the real control plane instead.
import { podTemplateHash } from '../../domain/rollouts/pod-template-hash';
import type { CanaryStep, ReplicaSetState, RolloutSnapshot, RolloutSpec, RolloutStatus, ServiceState } from '../../domain/rollouts/types';
import type { Decision, RolloutAction } from '../../domain/rollouts/actions';
import { decideRollout } from '../../domain/rollouts/decide';
import type { RolloutProgress } from '../../domain/rollouts/progress';

export class FakeCluster {
  replicaSets: ReplicaSetState[] = [];
  services: ServiceState[] = [];
  status: RolloutStatus = {};
  created: string[] = [];
  /** Pods of newly scaled ReplicaSets become available only when this is true. */
  podsBecomeAvailable = true;

  constructor(
    public spec: RolloutSpec,
    public readonly namespace = 'default',
    public readonly name = 'demo',
  ) {}

  snapshot(): RolloutSnapshot {
    return {
      exists: true,
      namespace: this.namespace,
      name: this.name,
      uid: 'uid-1',
      generation: 1,
      spec: structuredClone(this.spec),
      status: structuredClone(this.status),
      podTemplateHash: podTemplateHash(this.spec.template),
      replicaSets: structuredClone(this.replicaSets),
      services: structuredClone(this.services),
    };
  }

  apply(action: RolloutAction): void {
    if (action.kind === 'createReplicaSet') {
      const name = `${this.name}-${action.hash}`;
      if (this.replicaSets.some((rs) => rs.name === name)) return;
      this.created.push(name);
      this.replicaSets.push({
        name,
        podTemplateHash: action.hash,
        revision: action.revision,
        specReplicas: action.replicas,
        replicas: 0,
        readyReplicas: 0,
        availableReplicas: 0,
        observed: true,
        creationTimestamp: '',
      });
    } else if (action.kind === 'scaleReplicaSet') {
      const rs = this.replicaSets.find((r) => r.name === action.name);
      if (rs) rs.specReplicas = action.replicas;
    } else if (action.kind === 'setScaleDownDeadline') {
      const rs = this.replicaSets.find((r) => r.name === action.name);
      if (rs) rs.scaleDownDeadline = action.deadline ?? undefined;
    } else if (action.kind === 'setPodMetadata') {
      const rs = this.replicaSets.find((r) => r.name === action.name);
      if (rs) rs.ephemeralMetadata = action.metadata ? JSON.stringify(action.metadata) : undefined;
    } else if (action.kind === 'setRevision') {
      const rs = this.replicaSets.find((r) => r.name === action.name);
      if (rs) rs.revision = action.revision;
    } else if (action.kind === 'deleteReplicaSet') {
      this.replicaSets = this.replicaSets.filter((r) => r.name !== action.name);
    } else if (action.kind === 'setServiceSelector') {
      const svc = this.services.find((x) => x.name === action.service);
      if (svc) {
        if (action.hash) svc.selector['rollouts-pod-template-hash'] = action.hash;
        else delete svc.selector['rollouts-pod-template-hash'];
      }
    }
    this.settle();
  }

  settle(): void {
    for (const rs of this.replicaSets) {
      rs.replicas = rs.specReplicas;
      if (this.podsBecomeAvailable || rs.availableReplicas > rs.specReplicas) {
        rs.readyReplicas = rs.specReplicas;
        rs.availableReplicas = rs.specReplicas;
      }
    }
  }

  addService(name: string): void {
    this.services.push({ name, exists: true, selector: { app: this.name } });
  }

  selectorOf(name: string): string | undefined {
    return this.services.find((s) => s.name === name)?.selector['rollouts-pod-template-hash'];
  }

  setImage(image: string): void {
    const containers = (this.spec.template!.spec as { containers: { image: string }[] }).containers;
    containers[0].image = image;
  }
}

export function canarySpec(steps: CanaryStep[], replicas = 3): RolloutSpec {
  return {
    replicas,
    selector: { matchLabels: { app: 'demo' } },
    template: { metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'app', image: 'demo:blue' }] } },
    strategy: { canary: { steps } },
  };
}

/**
 * Runs decisions against the fake cluster, applying their actions, until one has nothing to
 * do; returns it. `afterActions` sees each pass once its actions are applied.
 */
export function converge(
  cluster: FakeCluster,
  progress: RolloutProgress,
  nowMs: number,
  afterActions?: (progress: RolloutProgress) => void,
  maxPasses = 60,
): Decision {
  for (let i = 0; i < maxPasses; i++) {
    const decision = decideRollout(cluster.snapshot(), progress, nowMs);
    progress = decision.progress;
    cluster.status = decision.status;
    if (decision.actions.length === 0) return decision;
    for (const a of decision.actions) cluster.apply(a);
    afterActions?.(progress);
  }
  throw new Error('did not converge');
}
