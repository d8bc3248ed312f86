// template.GenerateApplications and the controller's validation: every generator entry to
// parameter sets, each rendered into an Application. Any failure fails the whole pass (the
// caller then applies and deletes nothing), and the error says which generator or Application.
import { parse } from 'yaml';
import { renderDeep } from './fasttemplate';
import { applyMergePatch } from './merge-patch';
import { isPlainObject, type Params } from './params';
import { kindsOf, requeueAfterSeconds, transform } from './generators/transform';
import { projectViolations, type BoundaryViolation, type ProjectBoundaryInputs } from './project-boundaries';
import { RESOURCES_FINALIZER, type ApplicationSet, type ApplicationTemplate, type GeneratorContext, type GeneratorSpec } from './types';

/** Argo's ApplicationSetReasonType values Sluice reports. */
export type GenerationReason = 'ApplicationParamsGenerationError' | 'RenderTemplateParamsError' | 'ApplicationValidationError';

export class GenerationError extends Error {
  override name = 'GenerationError';
  constructor(
    message: string,
    readonly reason: GenerationReason,
  ) {
    super(message);
  }
}

/** A generated Application: apiVersion/kind/metadata/spec, in the ApplicationSet's namespace. */
export interface GeneratedApplication {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Application';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] };
  spec: Record<string, any>;
}

/** Which generator entry: `generators[1] (git)`; errors name it. */
export const describeEntry = (entry: GeneratorSpec, index: number) => `generators[${index}] (${kindsOf(entry).join(', ') || 'unknown'})`;

async function renderApplication(template: ApplicationTemplate, params: Params, appSet: ApplicationSet, ctx: GeneratorContext): Promise<GeneratedApplication> {
  const { engine } = ctx;
  const meta = template.metadata ?? {};
  const base = { metadata: { ...meta }, spec: template.spec ?? {} };
  let app: any = base;
  // Argo returns the template untouched for an empty parameter set (so without the finalizer).
  if (Object.keys(params).length > 0) {
    app = await renderDeep(base, (s) => engine.replace(s, params));
    if (!appSet.spec.syncPolicy?.preserveResourcesOnDeletion && (app.metadata.finalizers ?? []).length === 0) {
      app.metadata.finalizers = [RESOURCES_FINALIZER];
    }
  }
  if (appSet.spec.templatePatch !== undefined && appSet.spec.templatePatch !== null) {
    const text = await engine.replace(appSet.spec.templatePatch, params);
    let patch: unknown;
    try {
      patch = parse(text, { version: '1.1' });
    } catch (err) {
      throw new Error(`error while converting template to json ${JSON.stringify(text)}: ${(err as Error).message}`, { cause: err });
    }
    if (patch !== null && !isPlainObject(patch)) throw new Error(`invalid templatePatch ${JSON.stringify(text)}: not an object`);
    const project = app.spec?.project;
    app = applyMergePatch(app, patch ?? {});
    app.spec = { ...(app.spec ?? {}), project };
    if (project === undefined) delete app.spec.project;
  }
  const metadata = { ...(app.metadata ?? {}), name: String(app.metadata?.name ?? ''), namespace: appSet.metadata.namespace ?? '' };
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata, spec: app.spec ?? {} };
}

export interface Generation {
  applications: GeneratedApplication[];
  /** Seconds until generators should be read again (undefined: only when something changes). */
  requeueAfterSeconds?: number;
}

/** All Applications the ApplicationSet asks for; throws GenerationError for any failure. */
export async function generateApplications(ctx: GeneratorContext): Promise<Generation> {
  const { appSet } = ctx;
  const entries = appSet.spec.generators ?? [];
  const applications: GeneratedApplication[] = [];
  let requeue: number | undefined;
  for (const [i, entry] of entries.entries()) {
    // Argo skips an entry it does not recognise and would then delete that entry's Applications.
    if (kindsOf(entry).length === 0) {
      throw new GenerationError(
        `ApplicationSet ${appSet.metadata.name} contains unrecognized generators: ${Object.keys(entry ?? {}).join(', ') || 'generators[' + i + ']'}`,
        'ApplicationParamsGenerationError',
      );
    }
    let results;
    try {
      results = await transform(entry, appSet.spec.template, ctx, {});
    } catch (err) {
      throw new GenerationError(`${describeEntry(entry, i)}: ${(err as Error).message}`, 'ApplicationParamsGenerationError');
    }
    for (const { params, template } of results) {
      for (const p of params) {
        try {
          applications.push(await renderApplication(template, p, appSet, ctx));
        } catch (err) {
          throw new GenerationError(`${describeEntry(entry, i)}: ${(err as Error).message}`, 'RenderTemplateParamsError');
        }
      }
    }
    const t = requeueAfterSeconds(entry);
    if (t !== undefined && (requeue === undefined || t < requeue)) requeue = t;
  }
  return { applications, requeueAfterSeconds: requeue };
}

// A Kubernetes object name (DNS-1123 subdomain), which the API server enforces on Applications.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function applicationNameProblem(name: string): string | undefined {
  if (name === '') return "no name; a name must be set in the template's metadata.name or via a templatePatch (generateName is not supported)";
  if (name.length > 253) return `invalid name ${JSON.stringify(name)}: must be no more than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(name)) {
    return `invalid name ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`;
  }
  return undefined;
}

export interface ValidationInputs {
  projects: ReadonlySet<string>;
  /** Names and servers of the clusters Sluice knows (the local one included). */
  clusterNames: ReadonlySet<string>;
  clusterServers: ReadonlySet<string>;
  /** The projects themselves and the clusters, to check each Application against its project's boundaries. */
  boundaries?: ProjectBoundaryInputs;
}

/** The controller's validateGeneratedApplications plus the name rule; every problem, sorted by Application. */
export function validateApplications(appSet: ApplicationSet, apps: readonly GeneratedApplication[], inputs: ValidationInputs): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const app of apps) {
    const name = app.metadata.name;
    const nameProblem = applicationNameProblem(name);
    if (nameProblem) {
      problems.push(`ApplicationSet ${appSet.metadata.name} contains an application with ${nameProblem}`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`ApplicationSet ${appSet.metadata.name} contains applications with duplicate name: ${name}`);
      continue;
    }
    seen.add(name);
    const project = String(app.spec.project ?? '');
    if (!inputs.projects.has(project)) {
      problems.push(`Application ${name}: application references project ${project} which does not exist`);
      continue;
    }
    const dest = app.spec.destination ?? {};
    if (dest.server && dest.name)
      problems.push(
        `Application ${name}: application destination spec is invalid: application destination can't have both name and server defined: ${dest.name} ${dest.server}`,
      );
    else if (dest.name && !inputs.clusterNames.has(dest.name))
      problems.push(`Application ${name}: application destination spec is invalid: there are no clusters with this name: ${dest.name}`);
    else if (dest.server && !inputs.clusterServers.has(dest.server))
      problems.push(`Application ${name}: application destination spec is invalid: there are no clusters with this URL: ${dest.server}`);
    else if (!dest.server && !dest.name)
      problems.push(`Application ${name}: application destination spec is invalid: Destination server missing from app spec`);
  }
  return problems.sort();
}

export type Outcome =
  | {
      applications: GeneratedApplication[];
      requeueAfterSeconds?: number;
      /** Applications their AppProject does not allow: neither created nor updated, never deleted for it. */
      violations?: BoundaryViolation[];
    }
  | { error: string; reason: GenerationReason; requeueAfterSeconds?: number };

/** Generation then validation: either every Application, all valid, or the first error. */
export async function generateValidated(
  ctx: GeneratorContext,
  inputs: ValidationInputs | ((apps: readonly GeneratedApplication[]) => Promise<ValidationInputs>),
): Promise<Outcome> {
  const requeueAfter = (ctx.appSet.spec.generators ?? []).map((g) => requeueAfterSeconds(g)).filter((t): t is number => t !== undefined);
  const requeue = requeueAfter.length > 0 ? Math.min(...requeueAfter) : undefined;
  let generation: Generation;
  try {
    generation = await generateApplications(ctx);
  } catch (err) {
    const reason = err instanceof GenerationError ? err.reason : 'ApplicationParamsGenerationError';
    return { error: (err as Error).message, reason, requeueAfterSeconds: requeue };
  }
  const known = typeof inputs === 'function' ? await inputs(generation.applications) : inputs;
  const problems = validateApplications(ctx.appSet, generation.applications, known);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    return { error: `${problems[0]}${more}`, reason: 'ApplicationValidationError', requeueAfterSeconds: requeue };
  }
  const violations = known.boundaries ? projectViolations(generation.applications, known.boundaries) : [];
  return violations.length > 0 ? { ...generation, violations } : generation;
}
