// RollingSync (progressive syncs) as state the ApplicationSet workflow owns: steps chosen by
// matchExpressions on Application labels (Argo's buildAppDependencyList), per-Application
// status Waiting → Pending → Progressing → Healthy, at most maxUpdate Pending/Progressing per
// step, and a step's Applications synced only once every earlier step is Healthy. Unlike
// Argo, where the status lives in the object and moves on timestamps it compares, this state
// is in the workflow's history: a restart resumes it exactly, and an Application is asked to
// sync once per change (Pending is entered once), never twice.
import type { ApplicationSet } from './types';

export type ProgressiveStatus = 'Waiting' | 'Pending' | 'Progressing' | 'Healthy';

export interface ApplicationProgress {
  application: string;
  status: ProgressiveStatus;
  message: string;
  /** 1-based step, "-1" when no step selects the Application (as Argo writes it). */
  step: string;
  lastTransitionTime: string;
  targetRevisions: string[];
  /** The spec version the status is about; a new one (the ApplicationSet changed it) waits again. */
  generation?: number | string;
  /** When Sluice asked for the sync (Pending); the operation that starts after it moves it on. */
  syncRequestedAt?: string;
}

/** What the workflow reads of each Application it controls. */
export interface ObservedApplication {
  name: string;
  labels: Record<string, string>;
  /** A version of the spec (a digest): a change means new desired state. */
  generation?: number | string;
  sync?: string;
  health?: string;
  revisions: string[];
  operationStartedAt?: string;
  operationPhase?: string;
  /** A ComparisonError or similar: it cannot sync, Argo lets it pass as Progressing. */
  hasError?: boolean;
}

export interface MatchExpression {
  key: string;
  operator: string;
  values?: string[];
}

export const isRollingSync = (appSet: ApplicationSet) => appSet.spec.strategy?.type === 'RollingSync';

/** Each Application's step index (first matching step), and the problems Argo reports as conditions. */
export function assignSteps(
  appSet: ApplicationSet,
  apps: readonly { name: string; labels: Record<string, string> }[],
): { stepOf: Map<string, number>; steps: string[][]; issues: string[] } {
  const steps = appSet.spec.strategy?.rollingSync?.steps ?? [];
  const stepOf = new Map<string, number>();
  const lists: string[][] = steps.map(() => []);
  const issues: string[] = [];
  for (const app of apps) {
    steps.forEach((step, i) => {
      let selected = true;
      for (const e of (step.matchExpressions ?? []) as MatchExpression[]) {
        const value = app.labels[e.key];
        if (value !== undefined) {
          if (e.operator !== 'In' && e.operator !== 'NotIn') {
            const issue = `step ${i + 1}: invalid matchExpression operator ${JSON.stringify(e.operator)}`;
            if (!issues.includes(issue)) issues.push(issue);
            selected = false;
            break;
          }
          const listed = (e.values ?? []).includes(value);
          if (e.operator === 'In' ? !listed : listed) {
            selected = false;
            break;
          }
        } else if (e.operator === 'In') {
          selected = false;
          break;
        }
      }
      if (!selected) return;
      lists[i]!.push(app.name);
      if (stepOf.has(app.name)) issues.push(`Application ${app.name} is selected by steps ${stepOf.get(app.name)! + 1} and ${i + 1}`);
      else stepOf.set(app.name, i);
    });
  }
  lists.forEach((l, i) => l.length === 0 && issues.push(`step ${i + 1} selects no Application`));
  return { stepOf, steps: lists, issues };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** One pass of the rollout: new statuses, and the Applications to ask to sync now. */
export function advanceRollout(
  appSet: ApplicationSet,
  previous: readonly ApplicationProgress[],
  apps: readonly ObservedApplication[],
  now: string,
  opts: { firstRevisionsAreNoChange?: boolean } = {},
): { statuses: ApplicationProgress[]; toSync: string[]; issues: string[] } {
  const { stepOf, steps, issues } = assignSteps(appSet, apps);
  const before = new Map(previous.map((p) => [p.application, p]));
  const stepLabel = (name: string) => String(stepOf.has(name) ? stepOf.get(name)! + 1 : -1);
  const statuses: ApplicationProgress[] = [];
  for (const app of [...apps].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const cur: ApplicationProgress = before.get(app.name)
      ? { ...before.get(app.name)!, step: stepLabel(app.name) }
      : {
          application: app.name,
          status: 'Waiting',
          message: 'No Application status found, defaulting status to Waiting',
          step: stepLabel(app.name),
          lastTransitionTime: now,
          targetRevisions: app.revisions,
          generation: app.generation,
        };
    const set = (status: ProgressiveStatus, message: string) => Object.assign(cur, { status, message, lastTransitionTime: now });
    // An Application first seen before its controller compared it has no revision yet; the
    // first one it reports is not a change. Counted as one, it sent a Pending Application back
    // to Waiting and had it synced twice (seen in the worker-kill e2e).
    const firstRevisions = !!opts.firstRevisionsAreNoChange && cur.targetRevisions.length === 0;
    if (firstRevisions) cur.targetRevisions = app.revisions;
    const revisionsChanged = !firstRevisions && !sameList(cur.targetRevisions, app.revisions);
    const specChanged = cur.generation !== undefined && app.generation !== undefined && cur.generation !== app.generation;
    if (revisionsChanged || specChanged) {
      cur.targetRevisions = app.revisions;
      cur.generation = app.generation;
      delete cur.syncRequestedAt;
      set(
        'Waiting',
        revisionsChanged && specChanged
          ? 'Application has pending changes (revision and spec differ), setting status to Waiting'
          : revisionsChanged
            ? 'Application has pending changes, setting status to Waiting'
            : 'Application has pending changes (spec differs), setting status to Waiting',
      );
    }
    // As Argo, Pending → Progressing and Progressing → Healthy take a pass each.
    const wasStatus = cur.status;
    if (cur.status === 'Waiting') {
      if (app.sync === 'Synced') {
        if (app.health === 'Healthy') set('Healthy', 'Application resource has synced, updating status to Healthy');
        else set('Progressing', 'Application resource has synced, updating status to Progressing');
      }
    } else if (cur.status === 'Pending') {
      if (cur.syncRequestedAt && app.operationStartedAt && app.operationStartedAt >= cur.syncRequestedAt) {
        const phase = app.operationPhase;
        set(
          'Progressing',
          phase === 'Succeeded'
            ? 'Application resource completed a sync successfully, updating status from Pending to Progressing'
            : phase === 'Failed' || phase === 'Error'
              ? 'Application resource completed a sync, updating status from Pending to Progressing'
              : 'Application resource became Progressing, updating status from Pending to Progressing',
        );
      } else if (app.hasError) set('Progressing', 'Application resource has error and cannot sync, updating status to Progressing');
    }
    if (wasStatus === 'Progressing' && app.health === 'Healthy' && app.sync === 'Synced') {
      set('Healthy', 'Application resource became Healthy, updating status from Progressing to Healthy');
    }
    statuses.push(cur);
  }

  // Steps up to and including the first one not all Healthy may sync.
  const byName = new Map(statuses.map((s) => [s.application, s]));
  const allowed = new Set<string>();
  for (const names of steps) {
    for (const n of names) allowed.add(n);
    if (!names.every((n) => byName.get(n)?.status === 'Healthy')) break;
  }
  const stepSpecs = appSet.spec.strategy?.rollingSync?.steps ?? [];
  const updating = steps.map(
    (names) => names.filter((n) => stepOf.get(n) !== undefined && ['Pending', 'Progressing'].includes(byName.get(n)?.status ?? '')).length,
  );
  const toSync: string[] = [];
  for (const s of statuses) {
    const i = stepOf.get(s.application);
    if (i === undefined || s.status !== 'Waiting' || !allowed.has(s.application)) continue;
    const maxUpdate = stepSpecs[i]?.maxUpdate;
    if (maxUpdate !== undefined && maxUpdate !== null) {
      const total = [...stepOf.values()].filter((v) => v === i).length;
      let limit: number;
      try {
        limit = scaledIntOrPercent(maxUpdate, total);
      } catch (err) {
        issues.push(`step ${i + 1}: invalid maxUpdate ${JSON.stringify(maxUpdate)}: ${(err as Error).message}`);
        limit = Number.POSITIVE_INFINITY;
      }
      if (typeof maxUpdate === 'string' && maxUpdate !== '0%' && limit < 1) limit = 1;
      if (updating[i]! >= limit) continue;
    }
    Object.assign(s, {
      status: 'Pending',
      message: 'Application moved to Pending status, watching for the Application resource to start Progressing',
      lastTransitionTime: now,
      syncRequestedAt: now,
    });
    updating[i]!++;
    toSync.push(s.application);
  }
  return { statuses, toSync, issues };
}

/** intstr.GetScaledValueFromIntOrPercent, rounding down: a string must be a percentage. */
function scaledIntOrPercent(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  return Math.floor((Number(m[1]) * total) / 100);
}

/** The RolloutProgressing condition: True while any Application is Waiting, Pending or Progressing. */
export function rolloutCondition(statuses: readonly ApplicationProgress[]) {
  const progressing = statuses.filter((s) => s.status !== 'Healthy' && s.step !== '-1');
  return progressing.length > 0
    ? {
        type: 'RolloutProgressing' as const,
        status: 'True' as const,
        reason: 'ApplicationSetModified',
        message: `ApplicationSet is performing rollout of step ${Math.min(...progressing.map((s) => Number(s.step)))}`,
      }
    : {
        type: 'RolloutProgressing' as const,
        status: 'False' as const,
        reason: 'ApplicationSetRolloutComplete',
        message: 'ApplicationSet Rollout has completed',
      };
}

/**
 * Under RollingSync the ApplicationSet decides when its Applications sync: their automated
 * sync is turned off (Argo sets automated.enabled=false; Sluice drops `automated`, keeping
 * its prune for the syncs it asks for).
 */
export function withoutAutomatedSync<T extends { spec: Record<string, any> }>(app: T): T {
  if (!app.spec.syncPolicy?.automated) return app;
  const { automated: _, ...syncPolicy } = app.spec.syncPolicy;
  return { ...app, spec: { ...app.spec, syncPolicy } };
}

/** The `operation` Argo's RollingSync sets on an Application to sync it. */
export function rollingSyncOperation(generatedSpec: Record<string, any> | undefined): Record<string, unknown> {
  const policy = generatedSpec?.syncPolicy ?? {};
  return {
    initiatedBy: { username: 'applicationset-controller', automated: true },
    info: [{ name: 'Reason', value: 'ApplicationSet RollingSync triggered a sync of this Application resource' }],
    sync: { ...(policy.syncOptions ? { syncOptions: policy.syncOptions } : {}), prune: !!policy.automated?.prune },
    retry: policy.retry ?? { limit: 5 },
  };
}
