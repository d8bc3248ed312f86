// Applications: list and get (RBAC `applications, get, <project>/<app>`), read from
// the API's watch of Application objects.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';
import type { RouteDoc } from '../openapi';
import { appCheck, can, refParams, type ApiContext } from '../server';

const doc = (summary: string): RouteDoc => ({ summary, tags: ['applications'] });

export function registerApplicationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { namespace?: string; project?: string } }>(
    '/api/v1/applications',
    {
      config: doc('list the Applications the caller may read'),
      schema: { querystring: { type: 'object', properties: { namespace: { type: 'string' }, project: { type: 'string' } }, additionalProperties: false } },
    },
    async (req) => {
      const { namespace, project } = req.query;
      const items = ctx.applications
        .list(namespace || undefined)
        .filter((a) => (!project || (a.spec?.project || 'default') === project) && can(ctx, req, appCheck(ctx, a, 'get')))
        .sort((a, b) => a.metadata.namespace!.localeCompare(b.metadata.namespace!) || a.metadata.name.localeCompare(b.metadata.name));
      return {
        items: items.map((a) => ({
          namespace: a.metadata.namespace,
          name: a.metadata.name,
          project: a.spec?.project || 'default',
          sync: a.status?.sync?.status,
          health: a.status?.health?.status,
          revision: a.status?.sync?.revision,
          operation: a.status?.operationState?.phase,
        })),
      };
    },
  );

  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/applications/:name',
    { config: doc('an Application'), schema: { params: refParams } },
    async (req) => {
      const { namespace, name } = req.params;
      const a = ctx.applications.get(namespace, name);
      if (!a) throw new ApiError('NotFound', `application ${namespace}/${name} not found`);
      ctx.authorize(req, appCheck(ctx, a, 'get'));
      return { application: a };
    },
  );
}
