// AnalysisRuns: list and get, guarded as the Rollout that owns them (api/rollout-access.ts).
import type { FastifyInstance } from 'fastify';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { ApiError } from '../errors';
import type { RouteDoc } from '../openapi';
import { analysisRunCheck } from '../rollout-access';
import { can, refParams, type ApiContext } from '../context';

export function registerAnalysisRunRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const doc = (summary: string): RouteDoc => ({ summary, tags: ['analysisruns'] });
  const check = (run: KubeObject) => analysisRunCheck(run, (ns, n) => ctx.rollouts.get(ns, n), ctx.findApp, ctx.controlNamespace);
  app.get<{ Querystring: { namespace?: string; phase?: string } }>(
    '/api/v1/analysisruns',
    {
      config: doc('list AnalysisRuns the caller may read'),
      schema: { querystring: { type: 'object', properties: { namespace: { type: 'string' }, phase: { type: 'string' } }, additionalProperties: false } },
    },
    async (req) => {
      const items = ctx.analysisRuns.synced
        ? ctx.analysisRuns.list(req.query.namespace || undefined)
        : (await ctx.kube.list(Resources.analysisRun, req.query.namespace || undefined)).items;
      const visible = items.filter((run) => (!req.query.phase || run.status?.phase === req.query.phase) && can(ctx, req, check(run)));
      return {
        items: visible.map((run) => ({
          namespace: run.metadata.namespace,
          name: run.metadata.name,
          owner: run.metadata.ownerReferences?.find((o) => o.kind === 'Rollout')?.name,
          status: run.status ?? {},
        })),
      };
    },
  );
  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/analysisruns/:name',
    { config: doc('an AnalysisRun with its measurements'), schema: { params: refParams } },
    async (req) => {
      const { namespace, name } = req.params;
      const run = ctx.analysisRuns.get(namespace, name) ?? (await ctx.kube.find(Resources.analysisRun, namespace, name));
      if (!run) throw new ApiError('NotFound', `analysisrun ${namespace}/${name} not found`);
      ctx.authorize(req, check(run));
      return { analysisRun: run };
    },
  );
}
