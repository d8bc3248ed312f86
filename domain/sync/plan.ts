// Sync planning as Argo CD's gitops-engine does it: which resources a sync applies, creates
// as hooks or prunes, and in which order (phase, wave, kind, name). Pure and deterministic:
// the sync workflow plans in workflow code and runs the steps through activities.
//
// What the plan reproduces from gitops-engine (sync_context.go getSyncTasks, sync_tasks.go):
// - PreSync → Sync → PostSync; SyncFail hooks apart, run only when the sync fails;
// - inside a phase: wave, then the Helm install order of kinds, then name;
// - a Namespace, or a CRD, that a resource earlier in the order needs is moved forward to
//   that resource's phase and wave (so a PreSync hook in a namespace from Git works);
// - prune tasks stay in the Sync phase but their waves are mirrored (the resource created
//   last is pruned first); PruneLast ones go to a wave after every other Sync wave.
// Within one step Argo CD deletes the prunes before applying the rest; the executor does too.

import {
  type HookDeletePolicy,
  type HookType,
  type ManifestResource,
  type SyncOptions,
  type SyncPhase,
  deletePoliciesOf,
  deletionHookTypesOf,
  describeResource,
  groupOf,
  hookTypesOf,
  isHook,
  isSkipped,
  phasesOf,
  resourceKey,
  syncOptionsOf,
  validateSyncAnnotations,
  waveOf,
} from './resources';

export { phasesOf, waveOf } from './resources';

/** Helm's install order, as gitops-engine uses it; kinds not listed come after all of these. */
export const KIND_ORDER: readonly string[] = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];

const PHASE_ORDER: Record<SyncPhase, number> = { PreSync: -1, Sync: 0, PostSync: 1, SyncFail: 2 };

export type SyncAction = 'apply' | 'create-hook' | 'prune';
export type StepPhase = 'PreSync' | 'Sync' | 'PostSync';

export interface SyncTask {
  /** resourceKey of the resource: "group/Kind/namespace/name". */
  key: string;
  /**
   * What to apply, create or delete. A hook that has only metadata.generateName gets its
   * name here (Argo CD's rule), so the workflow can follow it. Applying a hook as Argo CD
   * does also means adding HOOK_FINALIZER and removing it once the hook has completed.
   */
  resource: ManifestResource;
  phase: SyncPhase;
  /** The wave the task runs in; for prunes and moved-forward dependencies, not the annotation's. */
  wave: number;
  action: SyncAction;
  isHook: boolean;
  hookTypes: HookType[];
  /** Hooks only; [] for other resources, where a delete policy means nothing. */
  deletePolicies: HookDeletePolicy[];
  syncOptions: SyncOptions;
  /** Prune=confirm (on the live object, or the Application's default): wait for a confirmation. */
  requiresPruneConfirmation: boolean;
  /** Set on a Namespace or CRD moved forward to the phase and wave of the first task needing it: that task's key. */
  neededBy?: string;
}

export interface SyncStep {
  phase: StepPhase;
  wave: number;
  tasks: SyncTask[];
}

export type PruneSkipMessage = 'ignored (requires pruning)' | 'ignored (no prune)';

/** A live resource no longer in Git that this sync leaves in place, with Argo CD's result message. */
export interface PruneSkip {
  task: SyncTask;
  message: PruneSkipMessage;
}

export type ExclusionReason = 'Skip' | 'hook runs in no sync phase' | 'hooks skipped' | 'in sync (ApplyOutOfSyncOnly)';

export interface ExcludedResource {
  key: string;
  resource: ManifestResource;
  reason: ExclusionReason;
}

export interface SyncPlan {
  /** PreSync, Sync and PostSync steps in execution order; each step is one phase and wave. */
  steps: SyncStep[];
  /** SyncFail hooks, in order; Argo CD starts them together once the sync has failed. */
  syncFail: SyncTask[];
  /** Live-only resources not pruned: pruning not requested, or Prune=false. */
  pruneSkipped: PruneSkip[];
  /** Hooks for Application deletion; a sync never runs them. */
  deletionHooks: { preDelete: ManifestResource[]; postDelete: ManifestResource[] };
  /** Manifests from Git the sync leaves alone, and why. */
  excluded: ExcludedResource[];
}

export interface SyncPlanOptions {
  /** Tracked live resources that are no longer in Git: the prune candidates. */
  liveOnly?: readonly ManifestResource[];
  /** Delete live-only resources (the sync's prune flag, or automated.prune). Default false. */
  prune?: boolean;
  /** The Application's PruneLast=true: every prune goes to the final wave. */
  pruneLast?: boolean;
  /** The Application's Prune=… sync option ("false" or "confirm"); a resource's own Prune=… wins. */
  defaultPruneOption?: string;
  /**
   * ApplyOutOfSyncOnly=true: the keys of resources that differ from the cluster (including
   * those not yet created). Other non-hook resources are left out; hooks and prunes stay.
   */
  outOfSyncOnly?: ReadonlySet<string> | readonly string[];
  /** Run no hooks at all (the apply strategy, or a sync of selected resources). */
  skipHooks?: boolean;
  /** The Application's destination namespace, which resources without a namespace land in. */
  namespace?: string;
  /** Names hooks that have only metadata.generateName: generateName + "<revision[0:7]>-<phase>-<startedAt>". */
  hookNaming?: { revision: string; startedAtUnixSeconds: number };
}

export class SyncPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncPlanError';
  }
}

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  // Listed kinds rank below zero and the rest at zero, as gitops-engine does: unlisted kinds
  // are ordered among themselves by name only.
  return i < 0 ? 0 : i - KIND_ORDER.length;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Argo CD's order: phase, wave, kind, name. Go's unstable sort leaves full ties open; we break them by kind, group, namespace. */
function compareTasks(a: SyncTask, b: SyncTask): number {
  return (
    PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] ||
    a.wave - b.wave ||
    kindRank(a.resource.kind) - kindRank(b.resource.kind) ||
    byText(a.resource.metadata.name, b.resource.metadata.name) ||
    byText(a.resource.kind, b.resource.kind) ||
    byText(groupOf(a.resource.apiVersion), groupOf(b.resource.apiVersion)) ||
    byText(a.resource.metadata.namespace ?? '', b.resource.metadata.namespace ?? '')
  );
}

// gitops-engine's hook naming for generateName-only hooks: deterministic per sync operation.
function hookName(r: ManifestResource, phase: SyncPhase, naming: SyncPlanOptions['hookNaming']): string {
  if (r.metadata.name) return r.metadata.name;
  if (!r.metadata.generateName) throw new SyncPlanError(`${describeResource(r)}: a hook needs metadata.name or metadata.generateName`);
  if (!naming) {
    throw new SyncPlanError(`${describeResource(r)}: the hook has only metadata.generateName; planning it needs hookNaming (the sync revision and start time)`);
  }
  const revision = naming.revision.length >= 8 ? naming.revision.slice(0, 7) : naming.revision;
  return `${r.metadata.generateName}${`${revision}-${phase}-${naming.startedAtUnixSeconds}`.toLowerCase()}`;
}

function pruneOption(task: SyncTask, options: SyncPlanOptions): string | undefined {
  return task.syncOptions.prune ?? options.defaultPruneOption;
}

/**
 * Moves each dependency (a Namespace, a CRD) in front of the first task that needs it, giving
 * it that task's phase and wave: gitops-engine's adjustDeps, step for step.
 */
function pullDependenciesForward(
  tasks: SyncTask[],
  dependencyKey: (t: SyncTask) => string | undefined,
  requiredKey: (t: SyncTask) => string | undefined,
): void {
  const firstUser = new Map<string, number>();
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i];
    // SyncFail hooks run only after a failure: one is never pulled into a sync as a dependency
    // (gitops-engine would, splitting them off only afterwards).
    if (task.action === 'prune' || task.phase === 'SyncFail') continue;
    const provides = dependencyKey(task);
    if (provides !== undefined) {
      const index = firstUser.get(provides);
      if (index === undefined) continue;
      const user = tasks[index];
      task.phase = user.phase;
      task.wave = user.wave;
      task.neededBy = user.key;
      tasks.splice(i, 1);
      tasks.splice(index, 0, task);
      for (const [key, at] of firstUser) if (at >= index) firstUser.set(key, at + 1);
    } else {
      const needs = requiredKey(task);
      if (needs !== undefined && !firstUser.has(needs)) firstUser.set(needs, i);
    }
  }
}

function nestedString(obj: unknown, ...path: string[]): string | undefined {
  let at: unknown = obj;
  for (const p of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[p];
  }
  return typeof at === 'string' ? at : undefined;
}

/**
 * Plans a sync of `resources` (the manifests from Git). Throws SyncAnnotationError for a
 * bad sync annotation and SyncPlanError for a manifest that cannot be planned.
 */
export function planSync(resources: readonly ManifestResource[], options: SyncPlanOptions = {}): SyncPlan {
  const tasks: SyncTask[] = [];
  const excluded: ExcludedResource[] = [];
  const deletionHooks: SyncPlan['deletionHooks'] = { preDelete: [], postDelete: [] };
  const gitKeys = new Set<string>();

  for (const r of resources) {
    validateSyncAnnotations(r);
    if (!r.metadata.name && !(isHook(r) && r.metadata.generateName)) {
      throw new SyncPlanError(`${describeResource(r)}: metadata.name is missing`);
    }
    const key = resourceKey(r);
    if (r.metadata.name) {
      if (gitKeys.has(key)) throw new SyncPlanError(`${describeResource(r)} appears more than once in the manifests (${key})`);
      gitKeys.add(key);
    }

    const phases = phasesOf(r);
    // Deletion hooks belong to Application deletion, unless they also name a sync phase.
    const deletionTypes = deletionHookTypesOf(r);
    if (deletionTypes.length > 0) {
      if (deletionTypes.includes('PreDelete')) deletionHooks.preDelete.push(r);
      if (deletionTypes.includes('PostDelete')) deletionHooks.postDelete.push(r);
      if (phases.length === 0) continue;
    }
    if (isSkipped(r)) {
      excluded.push({ key, resource: r, reason: 'Skip' });
      continue;
    }
    if (phases.length === 0) {
      excluded.push({ key, resource: r, reason: 'hook runs in no sync phase' });
      continue;
    }

    const hook = isHook(r);
    if (hook && options.skipHooks) {
      excluded.push({ key, resource: r, reason: 'hooks skipped' });
      continue;
    }
    for (const phase of phases) {
      const resource = hook ? withName(r, hookName(r, phase, options.hookNaming)) : r;
      tasks.push({
        key: resourceKey(resource),
        resource,
        phase,
        wave: waveOf(r),
        action: hook ? 'create-hook' : 'apply',
        isHook: hook,
        hookTypes: hook ? hookTypesOf(r) : [],
        deletePolicies: hook ? deletePoliciesOf(r) : [],
        syncOptions: syncOptionsOf(r),
        requiresPruneConfirmation: false,
      });
    }
  }

  const pruneTasks: SyncTask[] = [];
  for (const live of options.liveOnly ?? []) {
    const key = resourceKey(live);
    if (gitKeys.has(key)) throw new SyncPlanError(`${describeResource(live)} is both in Git and listed as live-only (${key})`);
    // Hooks are cleaned up by their delete policies, never pruned; Skip resources are left alone.
    const lenient = { strict: false };
    if (isHook(live, lenient) || phasesOf(live, lenient).length === 0) continue;
    const task: SyncTask = {
      key,
      resource: live,
      phase: 'Sync',
      wave: waveOf(live, lenient),
      action: 'prune',
      isHook: false,
      hookTypes: [],
      deletePolicies: [],
      syncOptions: syncOptionsOf(live),
      requiresPruneConfirmation: false,
    };
    task.requiresPruneConfirmation = pruneOption(task, options) === 'confirm';
    pruneTasks.push(task);
  }

  // Prune in the reverse of creation order: mirror the distinct prune waves
  // (lowest ↔ highest), leaving the waves themselves where the apply tasks are.
  const pruneWaves = [...new Set(pruneTasks.map((t) => t.wave))].sort((a, b) => a - b);
  const mirrored = new Map(pruneWaves.map((w, i) => [w, pruneWaves[pruneWaves.length - 1 - i]]));
  for (const t of pruneTasks) t.wave = mirrored.get(t.wave) ?? t.wave;
  tasks.push(...pruneTasks);

  // PruneLast: one wave after the last Sync wave (counting prunes, and at least wave 1).
  const lastSyncWave = tasks.reduce((last, t) => (t.phase === 'Sync' && t.wave > last ? t.wave : last), 0);
  for (const t of pruneTasks) if (options.pruneLast || t.syncOptions.pruneLast) t.wave = lastSyncWave + 1;

  tasks.sort(compareTasks);
  const targetNamespace = (t: SyncTask) => t.resource.metadata.namespace || options.namespace || '';
  pullDependenciesForward(
    tasks,
    (t) => (t.resource.kind === 'Namespace' && groupOf(t.resource.apiVersion) === '' ? t.resource.metadata.name : undefined),
    (t) => targetNamespace(t) || undefined,
  );
  pullDependenciesForward(
    tasks,
    (t) => {
      if (t.resource.kind !== 'CustomResourceDefinition' || groupOf(t.resource.apiVersion) !== 'apiextensions.k8s.io') return undefined;
      const group = nestedString(t.resource, 'spec', 'group');
      const kind = nestedString(t.resource, 'spec', 'names', 'kind');
      return group !== undefined && kind !== undefined ? `${group}/${kind}` : undefined;
    },
    (t) => `${groupOf(t.resource.apiVersion)}/${t.resource.kind}`,
  );

  const outOfSync = options.outOfSyncOnly ? new Set(options.outOfSyncOnly) : undefined;
  const plan: SyncPlan = { steps: [], syncFail: [], pruneSkipped: [], deletionHooks, excluded };
  for (const task of tasks) {
    if (outOfSync && task.action === 'apply' && !outOfSync.has(task.key)) {
      excluded.push({ key: task.key, resource: task.resource, reason: 'in sync (ApplyOutOfSyncOnly)' });
      continue;
    }
    if (task.action === 'prune') {
      // The order above still counts these (as Argo CD does); they just delete nothing.
      if (!options.prune) {
        plan.pruneSkipped.push({ task, message: 'ignored (requires pruning)' });
        continue;
      }
      if (pruneOption(task, options) === 'false') {
        plan.pruneSkipped.push({ task, message: 'ignored (no prune)' });
        continue;
      }
    }
    if (task.phase === 'SyncFail') {
      plan.syncFail.push(task);
      continue;
    }
    const last = plan.steps[plan.steps.length - 1];
    if (last && last.phase === task.phase && last.wave === task.wave) last.tasks.push(task);
    else plan.steps.push({ phase: task.phase, wave: task.wave, tasks: [task] });
  }
  return plan;
}

function withName(r: ManifestResource, name: string): ManifestResource {
  return r.metadata.name === name ? r : { ...r, metadata: { ...r.metadata, name } };
}

function taskLabel(t: SyncTask): string {
  return `${t.action === 'prune' ? 'prune ' : ''}${t.resource.kind}/${t.resource.metadata.name}`;
}

/** One line per step, e.g. "PreSync wave -5: Job/db-backup-presync", for logs and the Temporal UI. */
export function describePlan(plan: SyncPlan): string[] {
  const lines = plan.steps.map((s) => `${s.phase} wave ${s.wave}: ${s.tasks.map(taskLabel).join(', ')}`);
  if (plan.syncFail.length > 0) lines.push(`SyncFail (only if the sync fails): ${plan.syncFail.map(taskLabel).join(', ')}`);
  for (const skip of plan.pruneSkipped) lines.push(`not pruned, ${skip.message}: ${skip.task.resource.kind}/${skip.task.resource.metadata.name}`);
  return lines;
}
