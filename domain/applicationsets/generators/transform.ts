// generator_spec_processor.go's Transform: one generator entry to parameter sets and the template
// they render, with the entry's `selector` and `template` override and, inside a matrix, the
// first child's parameters interpolated into the second child's spec.
import { renderDeep } from '../fasttemplate';
import { flattenToStrings, isPlainObject, isEmptyValue, type Params } from '../params';
import { selectorMatches } from '../selector';
import type { ApplicationTemplate, GeneratorContext, GeneratorSpec } from '../types';
import type { Generator } from './generator';
import { clustersGenerator } from './clusters';
import { gitGenerator } from './git';
import { listGenerator } from './list';
import { matrixGenerator, mergeGenerator } from './combine';
import { clusterDecisionResourceGenerator } from './cluster-decision';
import { pluginGenerator } from './plugin';
import { pullRequestGenerator } from './pull-request';
import { scmProviderGenerator } from './scm-provider';

/** Argo's generator kinds in its struct's field order (the order a multi-kind entry yields them). */
export const GENERATOR_KINDS = ['list', 'clusters', 'git', 'scmProvider', 'clusterDecisionResource', 'pullRequest', 'matrix', 'merge', 'plugin'] as const;

const generators: Record<string, Generator> = {
  list: listGenerator,
  clusters: clustersGenerator,
  git: gitGenerator,
  matrix: matrixGenerator,
  merge: mergeGenerator,
  clusterDecisionResource: clusterDecisionResourceGenerator,
  plugin: pluginGenerator,
  pullRequest: pullRequestGenerator,
  scmProvider: scmProviderGenerator,
};

export interface TransformResult {
  params: Params[];
  template: ApplicationTemplate;
}

/** Kinds present in an entry (a null value counts as absent, as a nil pointer in Go). */
export const kindsOf = (entry: GeneratorSpec | undefined) => GENERATOR_KINDS.filter((k) => entry?.[k] !== undefined && entry?.[k] !== null);

/** mergo.Merge(dst, src) without override: dst's non-zero values stay, zero ones come from src, structs and maps merge. */
export function mergeTemplate(dst: unknown, src: unknown, key = ''): unknown {
  if (isEmptyValue(dst)) return src === undefined ? dst : src;
  // helm.valuesObject is raw JSON (a byte slice) in Go: kept whole.
  if (key === 'valuesObject' || !isPlainObject(dst) || !isPlainObject(src)) return dst;
  const out: Record<string, unknown> = { ...dst };
  for (const [k, v] of Object.entries(src)) out[k] = mergeTemplate(out[k], v, k);
  return out;
}

/** RenderGeneratorParams: a child generator's spec with another generator's parameters substituted. */
async function interpolate(entry: GeneratorSpec, params: Params, ctx: GeneratorContext): Promise<GeneratorSpec> {
  const { engine } = ctx;
  const render = (value: unknown, options?: { missingKeyError?: boolean }) => renderDeep(value, (s) => engine.replace(s, params, options));
  const out: GeneratorSpec = {};
  for (const [kind, spec] of Object.entries(entry)) {
    if (!isPlainObject(spec) || !('values' in spec) || !isPlainObject(spec.values)) {
      out[kind] = await render(spec);
      continue;
    }
    // `values` refer to the generator's own parameters too: a key missing now is left for later.
    const { values, ...rest } = spec;
    const resolved: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      try {
        resolved[k] = engine.goTemplate ? await engine.replace(String(v), params, { missingKeyError: true }) : await engine.replace(String(v), params);
      } catch (err) {
        const message = (err as Error).message;
        if (!/map has no entry for key|can't evaluate field/.test(message))
          throw new Error(`failed to pre-resolve Values key "${k}": ${message}`, { cause: err });
        resolved[k] = v;
      }
    }
    out[kind] = { ...((await render(rest)) as object), values: resolved };
  }
  return out;
}

export async function transform(
  entry: GeneratorSpec,
  baseTemplate: ApplicationTemplate | undefined,
  ctx: GeneratorContext,
  genParams: Params,
  depth = 0,
): Promise<TransformResult[]> {
  const res: TransformResult[] = [];
  let interpolated = entry;
  for (const kind of kindsOf(entry)) {
    const generator = generators[kind];
    if (!generator) throw new Error(`the ${kind} generator is not supported`);
    const template = mergeTemplate(entry[kind]?.template ?? {}, baseTemplate ?? {}) as ApplicationTemplate;
    if (Object.keys(genParams).length > 0) interpolated = await interpolate(entry, genParams, ctx);
    const params = await generator.generate(interpolated[kind], ctx, depth, (e, d, g) => transform(e, undefined, ctx, g, d));
    const selected = entry.selector ? params.filter((p) => selectorMatches(entry.selector, flattenToStrings(p))) : params;
    res.push({ params: selected, template });
  }
  return res;
}

/** The least requeueAfter of an entry's generators, matrix and merge children included. */
export function requeueAfterSeconds(entry: GeneratorSpec, depth = 0): number | undefined {
  let least: number | undefined;
  for (const kind of kindsOf(entry)) {
    let t: number | undefined;
    if ((kind === 'matrix' || kind === 'merge') && depth < 2) {
      for (const child of (entry[kind]?.generators ?? []) as GeneratorSpec[]) {
        const c = requeueAfterSeconds(child, depth + 1);
        if (c !== undefined && c !== 0 && (t === undefined || c < t)) t = c;
      }
    } else t = generators[kind]?.requeueAfterSeconds(entry[kind]) ?? undefined;
    if (t !== undefined && t !== 0 && (least === undefined || t < least)) least = t;
  }
  return least;
}

/** The repositories and revisions an entry's git generators read, matrix and merge children included. */
export function gitSources(entry: GeneratorSpec, depth = 0): { repoURL: string; targetRevision: string }[] {
  const out: { repoURL: string; targetRevision: string }[] = [];
  if (entry?.git?.repoURL) out.push({ repoURL: String(entry.git.repoURL), targetRevision: String(entry.git.revision ?? '') });
  if (depth < 2)
    for (const k of ['matrix', 'merge']) for (const child of (entry?.[k]?.generators ?? []) as GeneratorSpec[]) out.push(...gitSources(child, depth + 1));
  return out;
}
