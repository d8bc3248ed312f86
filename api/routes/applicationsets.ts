// ApplicationSets: list, get, delete and a preview of what a manifest generates (run as a
// short workflow, since generators read git and only the worker does). RBAC as Argo CD's
// API server checks it: resource `applicationsets`, object `<project>/<name>` where the
// project is the template's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { appRBACName } from '../../domain/rbac/policy';
import type { Outcome } from '../../domain/applicationsets/generate';
import { ApiError } from '../errors';
import { can, refParams, type ApiContext } from '../context';

const doc = (summary: string) => ({ summary, tags: ['applicationsets'] });

const check = (ctx: ApiContext, set: KubeObject, action: string) => ({
  resource: 'applicationsets',
  action,
  object: appRBACName(String(set.spec?.template?.spec?.project || 'default'), set.metadata.name, set.metadata.namespace, ctx.controlNamespace),
});

const summary = (s: KubeObject) => ({
  namespace: s.metadata.namespace,
  name: s.metadata.name,
  project: s.spec?.template?.spec?.project || 'default',
  conditions: (s.status?.conditions ?? []).filter((c: any) => c.status === 'True').map((c: any) => c.type),
  applications: (s.status?.resources ?? []).length,
});

export function applicationSetRoutes(client: Client | undefined, taskQueue: string) {
  return (app: FastifyInstance, ctx: ApiContext): void => {
    app.get<{ Querystring: { namespace?: string } }>(
      '/api/v1/applicationsets',
      {
        config: doc('list the ApplicationSets the caller may read'),
        schema: { querystring: { type: 'object', properties: { namespace: { type: 'string' } }, additionalProperties: false } },
      },
      async (req) => {
        const { items } = await ctx.kube.list(Resources.applicationSet, req.query.namespace || undefined);
        return { items: items.filter((s) => can(ctx, req, check(ctx, s, 'get'))).map(summary) };
      },
    );

    const find = async (req: FastifyRequest<{ Params: { namespace: string; name: string } }>, action: string) => {
      const set = await ctx.kube.find(Resources.applicationSet, req.params.namespace, req.params.name);
      if (!set) throw new ApiError('NotFound', `applicationset ${req.params.namespace}/${req.params.name} not found`);
      ctx.authorize(req, check(ctx, set, action));
      return set;
    };

    app.get<{ Params: { namespace: string; name: string } }>(
      '/api/v1/namespaces/:namespace/applicationsets/:name',
      { config: doc('an ApplicationSet'), schema: { params: refParams } },
      async (req) => ({ applicationSet: await find(req, 'get') }),
    );

    app.delete<{ Params: { namespace: string; name: string } }>(
      '/api/v1/namespaces/:namespace/applicationsets/:name',
      { config: doc('delete an ApplicationSet (its Applications go with it unless its policy keeps them)'), schema: { params: refParams } },
      async (req) => {
        await find(req, 'delete');
        await ctx.kube.delete(Resources.applicationSet, req.params.namespace, req.params.name);
        return { deleted: `${req.params.namespace}/${req.params.name}` };
      },
    );

    app.post<{ Body: { applicationSet: KubeObject } }>(
      '/api/v1/applicationsets/generate',
      {
        config: doc('the Applications an ApplicationSet manifest would produce, nothing applied'),
        schema: { body: { type: 'object', required: ['applicationSet'], properties: { applicationSet: { type: 'object' } } } },
      },
      async (req) => {
        const set = req.body.applicationSet;
        if (!set?.metadata?.name || !set.spec) throw new ApiError('InvalidRequest', 'applicationSet needs metadata.name and spec');
        // As Argo's Generate: a preview asks for the permission to create the ApplicationSet.
        ctx.authorize(req, check(ctx, set, 'create'));
        if (!client) throw new ApiError('Unavailable', 'no Temporal client to run the preview');
        const outcome: Outcome = await client.workflow.execute('applicationSetPreviewWorkflow', {
          workflowId: `applicationset-preview/${set.metadata.namespace ?? ''}/${set.metadata.name}/${Date.now()}`,
          taskQueue,
          args: [{ appSet: set }],
          workflowExecutionTimeout: '2m',
        });
        return outcome;
      },
    );
  };
}
