// Kubernetes label selectors (matchLabels, matchExpressions) over a flat string map: used on
// cluster Secrets' labels and, as Argo's generator-level `selector`, on flattened parameters.

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export const isEmptySelector = (s: LabelSelector | undefined) =>
  !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);

/** Throws for an operator Kubernetes does not know or values that do not fit it. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (values.length === 0) throw new Error(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
        if (!has || !values.includes(labels[r.key]!)) return false;
        break;
      case 'NotIn':
        if (values.length === 0) throw new Error(`values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty`);
        if (has && values.includes(labels[r.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`${JSON.stringify(r.operator)} is not a valid label selector operator`);
    }
  }
  return true;
}
