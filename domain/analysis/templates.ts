// Several AnalysisTemplates / ClusterAnalysisTemplates merged into one AnalysisRun spec,
// with Argo Rollouts' rules (utils/analysis/helpers.go): metrics concatenated in order
// (namespaced templates first) and unique by name; args merged by name, a value set
// twice differently is an error; the caller's args override the templates'; every arg
// must end up with a value or a valueFrom. Pure.
import type { AnalysisRunSpec, AnalysisTemplateSpec, Argument, DryRunRule, MeasurementRetentionRule } from './types';

export class AnalysisSpecError extends Error {
  override name = 'AnalysisSpecError';
}

export interface NamedTemplate {
  name: string;
  clusterScope: boolean;
  spec: AnalysisTemplateSpec;
}

/** Namespaced templates first, then cluster ones, as Argo orders them. */
function ordered(templates: NamedTemplate[]): NamedTemplate[] {
  return [...templates.filter((t) => !t.clusterScope), ...templates.filter((t) => t.clusterScope)];
}

export function flattenTemplates(templates: NamedTemplate[]): Required<Omit<AnalysisTemplateSpec, never>> {
  const list = ordered(templates);
  const metrics = list.flatMap((t) => t.spec.metrics ?? []);
  const seen = new Set<string>();
  for (const m of metrics) {
    if (seen.has(m.name)) throw new AnalysisSpecError(`two metrics have the same name '${m.name}'`);
    seen.add(m.name);
  }
  const args: Argument[] = [];
  for (const arg of list.flatMap((t) => t.spec.args ?? [])) {
    const i = args.findIndex((a) => a.name === arg.name);
    if (i < 0) {
      args.push(arg);
      continue;
    }
    const prev = args[i];
    if (prev.value !== undefined && arg.value !== undefined && prev.value !== arg.value) {
      throw new AnalysisSpecError(`Argument \`${arg.name}\` specified multiple times with different values: '${prev.value}', '${arg.value}'`);
    }
    if (prev.value === undefined) args[i] = arg;
  }
  const dryRun = uniqueRules(
    list.flatMap((t) => t.spec.dryRun ?? []),
    'Dry-Run',
  );
  const measurementRetention = uniqueRules(
    list.flatMap((t) => t.spec.measurementRetention ?? []),
    'Measurement Retention',
  );
  return { metrics, args, dryRun, measurementRetention };
}

function uniqueRules<T extends DryRunRule | MeasurementRetentionRule>(rules: T[], what: string): T[] {
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.metricName)) throw new AnalysisSpecError(`two ${what} metric rules have the same name '${r.metricName}'`);
    seen.add(r.metricName);
  }
  return rules;
}

/** The caller's args override the templates' by name; every arg must then be resolvable. */
export function mergeArgs(incoming: Argument[], templateArgs: Argument[]): Argument[] {
  const merged = templateArgs.map((a) => ({ ...a }));
  for (const arg of incoming) {
    const target = merged.find((a) => a.name === arg.name);
    if (!target) continue;
    if (arg.value !== undefined) target.value = arg.value;
    else if (arg.valueFrom !== undefined) target.valueFrom = arg.valueFrom;
  }
  for (const a of merged) {
    if (a.value === undefined && a.valueFrom === undefined) throw new AnalysisSpecError(`args.${a.name} was not resolved`);
  }
  return merged;
}

/** One AnalysisRun spec from the templates, the caller's args and extra dryRun / retention rules. */
export function buildRunSpec(
  templates: NamedTemplate[],
  incomingArgs: Argument[] = [],
  dryRun: DryRunRule[] = [],
  measurementRetention: MeasurementRetentionRule[] = [],
): AnalysisRunSpec {
  const flat = flattenTemplates(templates);
  const spec: AnalysisRunSpec = { metrics: flat.metrics, args: mergeArgs(incomingArgs, flat.args) };
  const dr = uniqueRules([...dryRun, ...flat.dryRun], 'Dry-Run');
  const mr = uniqueRules([...measurementRetention, ...flat.measurementRetention], 'Measurement Retention');
  if (dr.length > 0) spec.dryRun = dr;
  if (mr.length > 0) spec.measurementRetention = mr;
  if (spec.args!.length === 0) delete spec.args;
  return spec;
}
