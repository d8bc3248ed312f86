// The tree `sluice rollouts get` draws, in the shape of `kubectl argo rollouts get
// rollout`: the Rollout, then one branch per revision holding its ReplicaSet, that
// ReplicaSet's pods and the revision's AnalysisRuns. Pure: the API gathers the
// objects, this groups them, the CLI renders the result.
import type { KubeObject } from '../objects';
import { POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION } from '../argo/names';

export interface PodNode {
  name: string;
  status: string;
  ready: string;
  restarts: number;
  createdAt?: string;
}

export interface ReplicaSetNode {
  name: string;
  hash: string;
  status: 'Healthy' | 'Progressing' | 'ScaledDown';
  /** stable, canary, active, preview: the roles the Rollout's status gives this ReplicaSet. */
  roles: string[];
  desired: number;
  ready: number;
  available: number;
  images: string[];
  createdAt?: string;
  pods: PodNode[];
}

export interface MeasurementNode {
  phase: string;
  value?: string;
  finishedAt?: string;
}

export interface MetricNode {
  name: string;
  phase: string;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  measurements: MeasurementNode[];
}

export interface AnalysisRunNode {
  name: string;
  phase: string;
  message?: string;
  createdAt?: string;
  metrics: MetricNode[];
}

export interface RevisionNode {
  revision: number;
  replicaSets: ReplicaSetNode[];
  analysisRuns: AnalysisRunNode[];
}

export interface RolloutTree {
  namespace: string;
  name: string;
  phase: string;
  message?: string;
  strategy: 'Canary' | 'BlueGreen' | '-';
  step?: { index: number; count: number; current?: string };
  setWeight?: number;
  actualWeight?: number;
  images: { image: string; roles: string[] }[];
  replicas: { desired: number; current: number; updated: number; ready: number; available: number };
  pauseConditions: { reason: string; startTime: string }[];
  createdAt?: string;
  revisions: RevisionNode[];
}

function revisionOf(obj: KubeObject): number {
  const n = Number(obj.metadata.annotations?.[REVISION_ANNOTATION]);
  return Number.isFinite(n) ? n : 0;
}

function describeStep(step: Record<string, unknown> | undefined): string | undefined {
  if (!step) return undefined;
  const [kind] = Object.keys(step);
  if (!kind) return undefined;
  const v = step[kind];
  if (kind === 'setWeight') return `setWeight ${String(v)}`;
  if (kind === 'pause') {
    const d = (v as { duration?: unknown } | null)?.duration;
    return d === undefined ? 'pause (until promoted)' : `pause ${String(d)}`;
  }
  return kind;
}

function podNode(pod: KubeObject): PodNode {
  const statuses = (pod.status?.containerStatuses ?? []) as { ready?: boolean; restartCount?: number }[];
  const total = ((pod.spec?.containers ?? []) as unknown[]).length || statuses.length;
  const ready = statuses.filter((c) => c.ready).length;
  const status = pod.metadata.deletionTimestamp ? 'Terminating' : ((pod.status?.phase as string | undefined) ?? 'Pending');
  return {
    name: pod.metadata.name,
    status,
    ready: `${ready}/${total}`,
    restarts: statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0),
    createdAt: pod.metadata.creationTimestamp,
  };
}

function analysisRunNode(run: KubeObject): AnalysisRunNode {
  const results = (run.status?.metricResults ?? []) as Record<string, any>[];
  return {
    name: run.metadata.name,
    phase: (run.status?.phase as string | undefined) ?? 'Pending',
    message: run.status?.message,
    createdAt: run.metadata.creationTimestamp,
    metrics: results.map((m) => ({
      name: String(m.name),
      phase: String(m.phase ?? 'Pending'),
      successful: m.successful ?? 0,
      failed: m.failed ?? 0,
      inconclusive: m.inconclusive ?? 0,
      error: m.error ?? 0,
      measurements: ((m.measurements ?? []) as Record<string, any>[]).map((x) => ({ phase: String(x.phase), value: x.value, finishedAt: x.finishedAt })),
    })),
  };
}

export function rolloutTree(rollout: KubeObject, replicaSets: KubeObject[], pods: KubeObject[], analysisRuns: KubeObject[]): RolloutTree {
  const spec = rollout.spec ?? {};
  const st = rollout.status ?? {};
  const canary = spec.strategy?.canary;
  const blueGreen = spec.strategy?.blueGreen;
  const steps = (canary?.steps ?? []) as Record<string, unknown>[];

  const roles = (hash: string): string[] => {
    const r: string[] = [];
    if (hash === st.stableRS) r.push('stable');
    if (canary && hash === st.currentPodHash && hash !== st.stableRS) r.push('canary');
    if (blueGreen && hash === st.blueGreen?.activeSelector) r.push('active');
    if (blueGreen && hash === st.blueGreen?.previewSelector && hash !== st.blueGreen?.activeSelector) r.push('preview');
    return r;
  };

  const byRevision = new Map<number, RevisionNode>();
  const revisionNode = (n: number) => {
    let node = byRevision.get(n);
    if (!node) byRevision.set(n, (node = { revision: n, replicaSets: [], analysisRuns: [] }));
    return node;
  };

  const owned = replicaSets.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.kind === 'Rollout' && o.name === rollout.metadata.name));
  const hashRevision = new Map<string, number>();
  for (const rs of owned) {
    const hash = rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '';
    const desired = rs.spec?.replicas ?? 0;
    const available = rs.status?.availableReplicas ?? 0;
    hashRevision.set(hash, revisionOf(rs));
    revisionNode(revisionOf(rs)).replicaSets.push({
      name: rs.metadata.name,
      hash,
      status: desired === 0 && (rs.status?.replicas ?? 0) === 0 ? 'ScaledDown' : available >= desired ? 'Healthy' : 'Progressing',
      roles: roles(hash),
      desired,
      ready: rs.status?.readyReplicas ?? 0,
      available,
      images: ((rs.spec?.template?.spec?.containers ?? []) as { image: string }[]).map((c) => c.image),
      createdAt: rs.metadata.creationTimestamp,
      pods: pods
        .filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === rs.metadata.name))
        .map(podNode)
        .sort((a, b) => a.name.localeCompare(b.name)),
    });
  }

  for (const run of analysisRuns) {
    if (!run.metadata.ownerReferences?.some((o) => o.kind === 'Rollout' && o.name === rollout.metadata.name)) continue;
    const hash = run.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
    const rev = run.metadata.annotations?.[REVISION_ANNOTATION] !== undefined ? revisionOf(run) : hash !== undefined ? (hashRevision.get(hash) ?? 0) : 0;
    revisionNode(rev).analysisRuns.push(analysisRunNode(run));
  }
  for (const node of byRevision.values()) node.analysisRuns.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));

  const images = new Map<string, Set<string>>();
  // Oldest revision first, as Argo lists them: the stable image, then the canary's.
  for (const node of [...byRevision.values()].sort((a, b) => a.revision - b.revision)) {
    for (const rs of node.replicaSets) {
      if (rs.roles.length === 0) continue;
      for (const image of rs.images) for (const role of rs.roles) (images.get(image) ?? images.set(image, new Set()).get(image)!).add(role);
    }
  }

  const weights = st.canary?.weights;
  const index = st.currentStepIndex as number | undefined;
  return {
    namespace: rollout.metadata.namespace!,
    name: rollout.metadata.name,
    phase: st.phase ?? 'Progressing',
    message: st.message || undefined,
    strategy: canary ? 'Canary' : blueGreen ? 'BlueGreen' : '-',
    ...(canary && steps.length > 0 ? { step: { index: index ?? 0, count: steps.length, current: describeStep(steps[index ?? 0]) } } : {}),
    ...(weights ? { setWeight: weights.canary.weight, actualWeight: weights.canary.weight } : {}),
    images: [...images].map(([image, r]) => ({ image, roles: [...r] })),
    replicas: {
      desired: spec.replicas ?? 1,
      current: st.replicas ?? 0,
      updated: st.updatedReplicas ?? 0,
      ready: st.readyReplicas ?? 0,
      available: st.availableReplicas ?? 0,
    },
    pauseConditions: st.pauseConditions ?? [],
    createdAt: rollout.metadata.creationTimestamp,
    revisions: [...byRevision.values()].sort((a, b) => b.revision - a.revision),
  };
}
