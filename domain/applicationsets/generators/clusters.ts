// The clusters generator (generators/cluster.go): one parameter set per cluster Secret the
// selector matches, plus the local cluster when no selector is set and no Secret names it.
import { sanitizeName, type Params } from '../params';
import { isEmptySelector, selectorMatches } from '../selector';
import { IN_CLUSTER_NAME, IN_CLUSTER_SERVER } from '../types';
import type { Generator } from './generator';
import { appendTemplatedValues } from './values';

export const clustersGenerator: Generator = {
  kind: 'clusters',
  requeueAfterSeconds: () => undefined,
  async generate(spec, { engine, sources }) {
    const selector = spec?.selector;
    const secrets = await sources.clusterSecrets();
    // Argo keys the Secrets by name, so of two with one name only one counts; sorted for a stable order.
    const byName = new Map<string, (typeof secrets)[number]>();
    for (const s of secrets) if (selectorMatches(selector, s.labels)) byName.set(s.name, s);
    const res: Params[] = [];
    for (const s of [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const params: Params = { name: s.name, nameNormalized: sanitizeName(s.name), server: s.server, project: s.project ?? '' };
      if (engine.goTemplate) {
        const meta: Params = {};
        if (Object.keys(s.annotations).length > 0) meta.annotations = { ...s.annotations };
        if (Object.keys(s.labels).length > 0) meta.labels = { ...s.labels };
        params.metadata = meta;
      } else {
        for (const [k, v] of Object.entries(s.annotations)) params[`metadata.annotations.${k}`] = v;
        for (const [k, v] of Object.entries(s.labels)) params[`metadata.labels.${k}`] = v;
      }
      await appendTemplatedValues(spec?.values, params, engine);
      res.push(params);
    }
    const hasLocal = [...byName.values()].some((s) => s.server === IN_CLUSTER_SERVER);
    if (isEmptySelector(selector) && !hasLocal) {
      const params: Params = { name: IN_CLUSTER_NAME, nameNormalized: IN_CLUSTER_NAME, server: IN_CLUSTER_SERVER, project: '' };
      await appendTemplatedValues(spec?.values, params, engine);
      res.push(params);
    }
    return spec?.flatList ? [{ clusters: res }] : res;
  },
};
