// The clusterDecisionResource generator (generators/duck_type.go): a ConfigMap names a
// resource (apiVersion, and `kind`, which Argo uses as the resource's plural), whose
// status.<statusListKey> lists decisions; each decision whose <matchKey> names a known
// cluster gives that cluster's name and server plus the decision's fields (as %v strings).
import { goValueString, isPlainObject, type Params } from '../params';
import { IN_CLUSTER_NAME, IN_CLUSTER_SERVER } from '../types';
import type { Generator } from './generator';

function formatSelector(sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] }): string {
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
    else throw new Error(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
  }
  return parts.join(',');
}

export const clusterDecisionResourceGenerator: Generator = {
  kind: 'clusterDecisionResource',
  requeueAfterSeconds: (spec) => (typeof spec?.requeueAfterSeconds === 'number' ? spec.requeueAfterSeconds : 180),
  async generate(spec, { engine, sources }) {
    const secrets = await sources.clusterSecrets();
    const clusters = secrets.map((s) => ({ name: s.name, server: s.server }));
    if (!clusters.some((c) => c.server === IN_CLUSTER_SERVER)) clusters.push({ name: IN_CLUSTER_NAME, server: IN_CLUSTER_SERVER });
    const cm = await sources.configMap(String(spec.configMapRef ?? ''));
    if (!cm) throw new Error(`error reading configMapRef: configmaps "${spec.configMapRef}" not found`);
    const apiVersion = cm.apiVersion ?? '';
    const versionIdx = apiVersion.indexOf('/');
    const kind = cm.kind ?? '';
    const name: string = spec.name ?? '';
    const selector = spec.labelSelector ?? {};
    if (kind === '' || versionIdx < 1) throw new Error('there is a problem with the apiVersion, kind or resourceName provided');
    const hasSelector = selector.matchLabels !== undefined || selector.matchExpressions !== undefined;
    if ((name === '' && !hasSelector) || (name !== '' && hasSelector))
      throw new Error('there is a problem with the definition of the ClusterDecisionResource generator');
    let items;
    try {
      items = await sources.listResources({
        group: apiVersion.slice(0, versionIdx),
        version: apiVersion.slice(versionIdx + 1),
        plural: kind,
        ...(name ? { name } : { labelSelector: formatSelector(selector) }),
      });
    } catch (err) {
      throw new Error(`failed to get dynamic resources: ${(err as Error).message}`, { cause: err });
    }
    if (items.length === 0) throw new Error('no clusterDecisionResources found');
    const statusListKey = cm.statusListKey || 'clusters';
    const matchKey = cm.matchKey ?? '';
    if (matchKey === '') return [];
    const decisions: unknown[] = [];
    for (const item of items) {
      if (!isPlainObject(item.status) || Object.keys(item.status).length === 0) continue;
      const list = item.status[statusListKey];
      if (!Array.isArray(list)) throw new Error(`clusterDecisionResource ${item.metadata?.name}: status.${statusListKey} is not a list`);
      decisions.push(...list);
    }
    const res: Params[] = [];
    for (const d of decisions) {
      if (!isPlainObject(d)) continue;
      const match = d[matchKey];
      if (match === undefined || match === null || goValueString(match) === '') continue;
      const cluster = clusters.find((c) => c.name === goValueString(match));
      if (!cluster) continue;
      const params: Params = { name: cluster.name, server: cluster.server };
      for (const [k, v] of Object.entries(d)) params[k] = goValueString(v);
      const values: Record<string, string> = spec.values ?? {};
      if (engine.goTemplate) {
        if (Object.keys(values).length > 0) params.values = { ...values };
      } else for (const [k, v] of Object.entries(values)) params[`values.${k}`] = v;
      res.push(params);
    }
    return res;
  },
};
