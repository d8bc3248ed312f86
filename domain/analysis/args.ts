// Argument substitution and resolution, as Argo Rollouts does it: `{{args.name}}`
// anywhere in a metric is replaced in the metric's JSON text (values JSON-escaped),
// and any `{{...}}` that names no argument is an error. Secret values are resolved only
// inside activities; the workflow sees a placeholder so nothing secret reaches history.
// Pure.
import type { Argument, Metric } from './types';

export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

/** Stands in for a secret's value where only the metric's shape matters (validation). */
export const SECRET_PLACEHOLDER = 'temp-for-secret';

/** The metric with every `{{args.x}}` replaced; args must all carry a value by now. */
export function resolveMetricArgs(metric: Metric, args: Argument[]): Metric {
  const values = new Map<string, string>();
  for (const a of args) {
    if (a.value === undefined) throw new ArgumentError(`argument "${a.name}" was not supplied`);
    values.set(`args.${a.name}`, JSON.stringify(a.value).slice(1, -1));
  }
  const text = JSON.stringify(metric);
  let unresolved: string | undefined;
  const replaced = text.replace(/\{\{(.*?)\}\}/g, (_all, tag: string) => {
    const v = values.get(tag.trim());
    if (v !== undefined) return v;
    unresolved ??= tag;
    return '';
  });
  if (unresolved !== undefined) throw new ArgumentError(`metric "${metric.name}": failed to resolve {{${unresolved}}}`);
  return JSON.parse(replaced) as Metric;
}

/** Args with secrets replaced by a placeholder: enough to validate and schedule metrics. */
export function argsWithoutSecrets(args: Argument[] = []): Argument[] {
  return args.map((a) => (a.valueFrom?.secretKeyRef ? { name: a.name, value: SECRET_PLACEHOLDER } : a));
}

/**
 * A fieldRef such as `metadata.labels['app']`, `metadata.name` or `spec.x.y[0]`, read
 * from an object (the Rollout for rollout-side args, the AnalysisRun otherwise).
 */
export function fieldPathValue(obj: unknown, fieldPath: string): string {
  const label = /^metadata\.(labels|annotations)\['([^']*)'\]$/.exec(fieldPath);
  if (label) {
    const map = (obj as any)?.metadata?.[label[1]] ?? {};
    const v = map[label[2]];
    if (v === undefined) throw new ArgumentError(`fieldRef ${fieldPath}: no such ${label[1] === 'labels' ? 'label' : 'annotation'}`);
    return String(v);
  }
  let cur: unknown = obj;
  for (const section of fieldPath.split(/[.[\]]+/).filter((s) => s !== '')) {
    if (Array.isArray(cur)) {
      const i = Number(section);
      if (!Number.isInteger(i)) throw new ArgumentError(`fieldRef ${fieldPath}: invalid index '${section}'`);
      if (i >= cur.length) throw new ArgumentError(`fieldRef ${fieldPath}: index ${i} out of range`);
      cur = cur[i];
    } else if (cur !== null && typeof cur === 'object') {
      cur = (cur as Record<string, unknown>)[section];
    } else {
      throw new ArgumentError(`fieldRef ${fieldPath}: invalid path`);
    }
  }
  if (cur === undefined || cur === null) throw new ArgumentError(`fieldRef ${fieldPath}: invalid path`);
  if (typeof cur === 'object') throw new ArgumentError(`fieldRef ${fieldPath}: must end in a primitive value`);
  return String(cur);
}

/** Rollout-side args (AnalysisRunArgument): value, podTemplateHashValue or a fieldRef on the Rollout. */
export interface RolloutAnalysisArg {
  name: string;
  value?: string;
  valueFrom?: { podTemplateHashValue?: 'Stable' | 'Latest'; fieldRef?: { fieldPath: string } };
}

export function resolveRolloutArgs(args: RolloutAnalysisArg[], podHashes: { stable?: string; latest: string }, rollout: unknown): Argument[] {
  return args.map((a) => {
    let value = a.value ?? '';
    const from = a.valueFrom;
    if (from?.podTemplateHashValue === 'Latest') value = podHashes.latest;
    else if (from?.podTemplateHashValue === 'Stable') value = podHashes.stable ?? '';
    else if (from?.fieldRef) value = fieldPathValue(rollout, from.fieldRef.fieldPath);
    return { name: a.name, value };
  });
}
