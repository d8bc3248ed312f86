// What a pass does to the Applications: the `applicationsSync` policy (utils/policy.go), Argo's
// createOrUpdate (preservedFields, ignoreApplicationDifferences, the controller reference) and
// deleteInCluster, decided from the generated and the live Applications. A pass whose generation
// failed, or produced any invalid Application, plans nothing at all: no create, update or delete.
// An Application outside its AppProject's boundaries is only skipped (never deleted for it).
import type { KubeObject, OwnerReference } from '../objects';
import { parseJsonPointer } from '../applications/diff';
import type { GeneratedApplication } from './generate';
import { createMergePatch, applyMergePatch, deepEqual } from './merge-patch';
import type { ApplicationSet, ApplicationsSyncPolicy, IgnoreApplicationDifference } from './types';

export const policyOf = (appSet: ApplicationSet): ApplicationsSyncPolicy => appSet.spec.syncPolicy?.applicationsSync ?? 'sync';
export const allowsUpdate = (p: ApplicationsSyncPolicy) => p === 'create-update' || p === 'sync';
export const allowsDelete = (p: ApplicationsSyncPolicy) => p === 'create-delete' || p === 'sync';

const DEFAULT_PRESERVED_ANNOTATIONS = ['notified.notifications.argoproj.io', 'argocd.argoproj.io/refresh', 'argocd.argoproj.io/hydrate'];
const DEFAULT_PRESERVED_FINALIZERS = ['pre-delete-finalizer.argocd.argoproj.io', 'post-delete-finalizer.argocd.argoproj.io'];

export function controllerReference(appSet: ApplicationSet): OwnerReference {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'ApplicationSet',
    name: appSet.metadata.name,
    uid: appSet.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Is this Application controlled by this ApplicationSet (by uid when both have one, else by name)? */
export function isControlledBy(app: KubeObject, appSet: ApplicationSet): boolean {
  const ref = (app.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!ref || ref.kind !== 'ApplicationSet' || ref.name !== appSet.metadata.name) return false;
  return !ref.uid || !appSet.metadata.uid || ref.uid === appSet.metadata.uid;
}

/** The parts of an Application an ApplicationSet writes; empty maps and lists count as absent, as in Go's JSON. */
function managedView(app: KubeObject | GeneratedApplication): Record<string, any> {
  const m = app.metadata;
  const meta: Record<string, unknown> = {};
  if (m.labels && Object.keys(m.labels).length > 0) meta.labels = m.labels;
  if (m.annotations && Object.keys(m.annotations).length > 0) meta.annotations = m.annotations;
  if (m.finalizers && m.finalizers.length > 0) meta.finalizers = m.finalizers;
  const refs = (m as KubeObject['metadata']).ownerReferences;
  if (refs && refs.length > 0) meta.ownerReferences = refs;
  return structuredClone({ metadata: meta, spec: app.spec ?? {} });
}

/** The rules of ignoreApplicationDifferences that apply to an Application name (no name: all). */
export const ignoreRulesFor = (appSet: ApplicationSet, name: string): IgnoreApplicationDifference[] =>
  (appSet.spec.ignoreApplicationDifferences ?? []).filter((r) => !r.name || r.name === name);

function removePointer(obj: unknown, path: string[]): void {
  if (path.length === 0 || typeof obj !== 'object' || obj === null) return;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(obj)) {
    const i = Number(head);
    if (!Number.isInteger(i) || i < 0 || i >= obj.length) return;
    if (rest.length === 0) obj.splice(i, 1);
    else removePointer(obj[i], rest);
    return;
  }
  const rec = obj as Record<string, unknown>;
  if (!(head in rec)) return;
  if (rest.length === 0) delete rec[head];
  else removePointer(rec[head], rest);
}

/** Strips jsonPointers; jqPathExpressions are the caller's (it runs gojq): `stripJq` gets the rest. */
export type Stripper = (view: Record<string, any>, jqExpressions: readonly string[]) => Record<string, any>;

export function stripIgnored(view: Record<string, any>, rules: readonly IgnoreApplicationDifference[], stripJq?: Stripper): Record<string, any> {
  let out = structuredClone(view);
  for (const r of rules) for (const p of r.jsonPointers ?? []) removePointer(out, parseJsonPointer(p));
  const jq = rules.flatMap((r) => r.jqPathExpressions ?? []);
  if (jq.length > 0) {
    if (!stripJq) throw new Error('ignoreApplicationDifferences jqPathExpressions need a jq runner');
    out = stripJq(out, jq);
  }
  return out;
}

/**
 * Argo's mutate function: the generated Application over the live one, keeping the live
 * values of preserved annotations and labels, the pre/post-delete finalizers, and setting
 * the ApplicationSet as controller.
 */
export function desiredView(appSet: ApplicationSet, generated: GeneratedApplication, live: KubeObject | undefined): Record<string, any> {
  const annotations = { ...(generated.metadata.annotations ?? {}) };
  const labels = { ...(generated.metadata.labels ?? {}) };
  const finalizers = [...(generated.metadata.finalizers ?? [])];
  if (live) {
    const preservedAnnotations = [...(appSet.spec.preservedFields?.annotations ?? []), ...DEFAULT_PRESERVED_ANNOTATIONS];
    for (const k of preservedAnnotations) if (live.metadata.annotations?.[k] !== undefined) annotations[k] = live.metadata.annotations[k]!;
    for (const k of appSet.spec.preservedFields?.labels ?? []) if (live.metadata.labels?.[k] !== undefined) labels[k] = live.metadata.labels[k]!;
    for (const prefix of DEFAULT_PRESERVED_FINALIZERS) for (const f of live.metadata.finalizers ?? []) if (f.startsWith(prefix)) finalizers.push(f);
  }
  const ref = controllerReference(appSet);
  const refs = (live?.metadata.ownerReferences ?? []).filter((r) => !(r.kind === ref.kind && r.name === ref.name && r.apiVersion.startsWith('argoproj.io/')));
  refs.push(ref);
  return managedView({
    metadata: { name: generated.metadata.name, annotations, labels, finalizers, ownerReferences: refs },
    spec: generated.spec,
  } as KubeObject);
}

export interface ApplicationUpdate {
  name: string;
  /** JSON merge patch for the live Application. */
  patch: Record<string, unknown>;
}

export interface ApplicationsPlan {
  create: KubeObject[];
  update: ApplicationUpdate[];
  /** Names of Applications to delete (controlled by the ApplicationSet, no longer generated). */
  delete: string[];
  /** Applications generated but left alone: another owner, or the policy. */
  problems: string[];
  /** Applications their AppProject does not allow (neither created nor updated), one message each; absent in older histories. */
  invalid?: string[];
}

export type GenerationOutcome = { applications: GeneratedApplication[]; violations?: { name: string; message: string }[] } | { error: string };

/**
 * The plan of one pass. `live` is every Application in the ApplicationSet's namespace that
 * either it controls or that has a generated name.
 */
export function planApplications(appSet: ApplicationSet, outcome: GenerationOutcome, live: readonly KubeObject[], stripJq?: Stripper): ApplicationsPlan {
  const plan: ApplicationsPlan & { invalid: string[] } = { create: [], update: [], delete: [], problems: [], invalid: [] };
  if ('error' in outcome) return plan; // beyond Argo: a failed or partial generation touches nothing
  const policy = policyOf(appSet);
  const liveByName = new Map(live.map((a) => [a.metadata.name, a]));
  const generated = [...outcome.applications].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const violations = new Map((outcome.violations ?? []).map((v) => [v.name, v.message]));
  for (const app of generated) {
    // Outside its project's boundaries: left as it is (a live one too), the others go on.
    const violation = violations.get(app.metadata.name);
    if (violation !== undefined) {
      plan.invalid.push(violation);
      continue;
    }
    const current = liveByName.get(app.metadata.name);
    if (!current) {
      const view = desiredView(appSet, app, undefined);
      plan.create.push({
        apiVersion: app.apiVersion,
        kind: app.kind,
        metadata: { ...view.metadata, name: app.metadata.name, namespace: app.metadata.namespace },
        spec: view.spec,
      });
      continue;
    }
    if (!allowsUpdate(policy)) continue; // create-only and create-delete leave existing ones alone
    const owner = (current.metadata.ownerReferences ?? []).find((r) => r.controller);
    if (owner && !isControlledBy(current, appSet)) {
      plan.problems.push(`Application ${app.metadata.name} is already owned by another controller: ${owner.kind} ${owner.name}`);
      continue;
    }
    const rules = ignoreRulesFor(appSet, app.metadata.name);
    const from = stripIgnored(managedView(current), rules, stripJq);
    const to = stripIgnored(desiredView(appSet, app, current), rules, stripJq);
    const patch = createMergePatch(from, to) as Record<string, unknown> | undefined;
    if (patch) plan.update.push({ name: app.metadata.name, patch });
  }
  if (allowsDelete(policy)) {
    // Every generated name counts, valid or not (outside its project's boundaries too), as in Argo's deleteInCluster.
    const wanted = new Set(outcome.applications.map((a) => a.metadata.name));
    for (const a of live) if (isControlledBy(a, appSet) && !wanted.has(a.metadata.name)) plan.delete.push(a.metadata.name);
    plan.delete.sort();
  }
  return plan;
}

/** The live Application after a planned update (what the API server's merge patch does). */
export const applyUpdate = (live: KubeObject, update: ApplicationUpdate): KubeObject => applyMergePatch(live, update.patch) as KubeObject;

export const planIsEmpty = (p: ApplicationsPlan) => p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
export { deepEqual };
