// The plugin generator (generators/plugin.go): a ConfigMap gives the plugin service's baseUrl,
// its token (`$key` of argocd-secret or `$secret:key`) and requestTimeout; Sluice POSTs
// {applicationSetName, input: {parameters}} to <baseUrl>/api/v1/getparams.execute and each
// object of output.parameters is a parameter set, with `generator.input.parameters` added.
import { flatten, goValueString, isPlainObject, type Params } from '../params';
import { DEFAULT_REQUEUE_AFTER_SECONDS } from '../types';
import type { Generator } from './generator';
import { appendTemplatedValues } from './values';

export const pluginGenerator: Generator = {
  kind: 'plugin',
  requeueAfterSeconds: (spec) => (typeof spec?.requeueAfterSeconds === 'number' ? spec.requeueAfterSeconds : DEFAULT_REQUEUE_AFTER_SECONDS),
  async generate(spec, { appSet, engine, sources }) {
    const cmName = String(spec?.configMapRef?.name ?? '');
    const cm = await sources.configMap(cmName);
    if (!cm) throw new Error(`error getting plugin from generator: error fetching ConfigMap: configmaps "${cmName}" not found`);
    const tokenRef = cm.token ?? '';
    if (tokenRef === '' || !tokenRef.startsWith('$')) {
      throw new Error(
        `error getting plugin from generator: error fetching Secret token: token is empty, or does not reference a secret key starting with '$': ${tokenRef}`,
      );
    }
    const [secretName, key] = tokenRef.includes(':') ? [tokenRef.split(':')[0]!.slice(1), tokenRef.split(':')[1]!] : ['argocd-secret', tokenRef.slice(1)];
    const token = (await sources.secretValue(secretName, key)) ?? tokenRef;
    let timeoutSeconds: number | undefined;
    if (cm.requestTimeout !== undefined) {
      if (!/^-?\d+$/.test(cm.requestTimeout))
        throw new Error(`error getting plugin from generator: error set requestTimeout : invalid syntax ${JSON.stringify(cm.requestTimeout)}`);
      timeoutSeconds = Number(cm.requestTimeout);
    }
    const parameters = spec?.input?.parameters ?? {};
    const url = `${String(cm.baseUrl ?? '').replace(/\/+$/, '')}/api/v1/getparams.execute`;
    let answer: unknown;
    try {
      answer = await sources.callPlugin({ url, token, timeoutSeconds, body: { applicationSetName: appSet.metadata.name, input: { parameters } } });
    } catch (err) {
      throw new Error(`error listing params: error get api '${appSet.metadata.name}': ${(err as Error).message}`, { cause: err });
    }
    const list = (answer as any)?.output?.parameters;
    if (list !== undefined && list !== null && (!Array.isArray(list) || !list.every(isPlainObject))) {
      throw new Error('error listing params: output.parameters is not a list of objects');
    }
    const res: Params[] = [];
    for (const object of (list ?? []) as Record<string, unknown>[]) {
      const params: Params = {};
      if (engine.goTemplate) Object.assign(params, object);
      else for (const [k, v] of Object.entries(flatten(object))) params[k] = goValueString(v);
      params.generator = { input: { parameters } };
      await appendTemplatedValues(spec?.values, params, engine);
      res.push(params);
    }
    return res;
  },
};
