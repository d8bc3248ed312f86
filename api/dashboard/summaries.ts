// What the dashboard's lists show of an Application or a Rollout: a few hundred bytes
// each, so 1,000 of them stay well under a megabyte on the wire.
import type { KubeObject } from '../../k8s/kube-client';
import { DEFAULT_PROJECT } from '../../domain/argo/names';

export interface ApplicationSummary {
  namespace: string;
  name: string;
  project: string;
  sync: string;
  health: string;
  /** Set while a sync operation runs. */
  syncing?: true;
  destination: { server?: string; name?: string; namespace?: string };
  /** The synced revision, abbreviated as the list shows it (a commit's first 7 characters). */
  revision?: string;
  lastSync?: string;
  labels?: Record<string, string>;
}

// Only what the list shows or filters on: a snapshot of 1,000 is then ~250 KB of JSON (~10 KB
// gzipped), which the API writes and the page parses at every (re)connect.
export function applicationSummary(a: KubeObject): ApplicationSummary {
  const spec = a.spec ?? {};
  const status = a.status ?? {};
  const history: { deployedAt?: string }[] = status.history ?? [];
  const revision: string | undefined = status.sync?.revision ?? status.sync?.revisions?.[0];
  return {
    namespace: a.metadata.namespace!,
    name: a.metadata.name,
    project: spec.project || DEFAULT_PROJECT,
    sync: status.sync?.status ?? 'Unknown',
    health: status.health?.status ?? 'Unknown',
    syncing: status.operationState?.phase === 'Running' || undefined,
    destination: { server: spec.destination?.server, name: spec.destination?.name, namespace: spec.destination?.namespace },
    revision: revision?.slice(0, 7),
    lastSync: status.operationState?.finishedAt ?? history[history.length - 1]?.deployedAt,
    labels: a.metadata.labels && Object.keys(a.metadata.labels).length ? a.metadata.labels : undefined,
  };
}

export interface RolloutSummary {
  namespace: string;
  name: string;
  strategy: 'Canary' | 'BlueGreen' | '-';
  phase: string;
  message?: string;
  /** 1-based step being run, and how many there are (canary only). */
  step?: number;
  steps?: number;
  setWeight?: number;
  actualWeight?: number;
  desired: number;
  ready: number;
  images: string[];
}

export function rolloutSummary(ro: KubeObject): RolloutSummary {
  const spec = ro.spec ?? {};
  const status = ro.status ?? {};
  const steps: { setWeight?: number }[] | undefined = spec.strategy?.canary?.steps;
  const weights = status.canary?.weights;
  const index: number = status.currentStepIndex ?? 0;
  // Set weight: the last setWeight at or before the current step (100 once every step ran).
  let setWeight: number | undefined;
  if (steps?.length) {
    setWeight = 0;
    for (const s of steps.slice(0, index + 1)) if (typeof s.setWeight === 'number') setWeight = s.setWeight;
    if (index >= steps.length) setWeight = 100;
  }
  // Actual weight: the routed weight with traffic routing, else the share of updated pods.
  const replicas: number = status.replicas ?? 0;
  const actualWeight: number | undefined =
    weights?.canary?.weight ?? (steps?.length && replicas > 0 ? Math.round((100 * (status.updatedReplicas ?? 0)) / replicas) : undefined);
  return {
    namespace: ro.metadata.namespace!,
    name: ro.metadata.name,
    strategy: spec.strategy?.canary ? 'Canary' : spec.strategy?.blueGreen ? 'BlueGreen' : '-',
    phase: status.phase ?? 'Progressing',
    message: status.message || undefined,
    step: steps?.length ? Math.min(index + 1, steps.length) : undefined,
    steps: steps?.length || undefined,
    setWeight,
    actualWeight,
    desired: spec.replicas ?? 1,
    ready: status.readyReplicas ?? 0,
    images: (spec.template?.spec?.containers ?? []).map((c: { image?: string }) => c.image ?? ''),
  };
}

export interface ApplicationSetSummary {
  namespace: string;
  name: string;
  project: string;
  /** The types of the conditions that are True (ErrorOccurred, ResourcesUpToDate, ...). */
  conditions: string[];
  /** How many Applications it generated. */
  applications: number;
}

export function applicationSetSummary(s: KubeObject): ApplicationSetSummary {
  return {
    namespace: s.metadata.namespace!,
    name: s.metadata.name,
    project: s.spec?.template?.spec?.project || DEFAULT_PROJECT,
    conditions: ((s.status?.conditions ?? []) as { type: string; status?: string }[]).filter((c) => c.status === 'True').map((c) => c.type),
    applications: (s.status?.resources ?? []).length,
  };
}
