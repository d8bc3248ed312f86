// ApplicationSets: list, get, delete and a preview of what a manifest generates (run as a
// short workflow, since generators read git and only the worker does). RBAC as Argo CD's
// API server checks it: resource `applicationsets`, object `<project>/<name>` where the
// project is the template's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { Outcome } from '../../domain/applicationsets/generate';
import { ApiError } from '../errors';
import { appSetCheck, can, refParams, type ApiContext } from '../context';
import { applicationSetSummary } from '../dashboard/summaries';

const doc = (summary: string) => ({ summary, tags: ['applicationsets'] });

// `create` is what a preview asks for (as Argo's Generate does).
const APPSET_ACTIONS = ['get', 'create', 'update', 'delete'] as const;

export function applicationSetRoutes(client: Client | undefined, taskQueue: string) {
  return (app: FastifyInstance, ctx: ApiContext): void => {
    app.get<{ Querystring: { namespace?: string } }>(
      '/api/v1/applicationsets',
      {
        config: doc('list the ApplicationSets the caller may read'),
        schema: { querystring: { type: 'object', properties: { namespace: { type: 'string' } }, additionalProperties: false } },
      },
      // From the apiserver, not the API's cache (ctx.applicationSets, which feeds the dashboard's
      // stream): a list right after a write must show it, as `kubectl get` would.
      async (req) => {
        const { items } = await ctx.kube.list(Resources.applicationSet, req.query.namespace || undefined);
        return { items: items.filter((s) => can(ctx, req, appSetCheck(ctx, s, 'get'))).map(applicationSetSummary) };
      },
    );

    const find = async (req: FastifyRequest<{ Params: { namespace: string; name: string } }>, action: string) => {
      const set = await ctx.kube.find(Resources.applicationSet, req.params.namespace, req.params.name);
      if (!set) throw new ApiError('NotFound', `applicationset ${req.params.namespace}/${req.params.name} not found`);
      ctx.authorize(req, appSetCheck(ctx, set, action));
      return set;
    };

    app.get<{ Params: { namespace: string; name: string } }>(
      '/api/v1/namespaces/:namespace/applicationsets/:name',
      { config: doc('an ApplicationSet'), schema: { params: refParams } },
      async (req) => ({ applicationSet: await find(req, 'get') }),
    );

    app.get<{ Params: { namespace: string; name: string } }>(
      '/api/v1/namespaces/:namespace/applicationsets/:name/permissions',
      {
        config: doc(`which of ${APPSET_ACTIONS.join(', ')} the caller may do to the ApplicationSet (the dashboard greys out the rest)`),
        schema: { params: refParams },
      },
      async (req) => {
        const set = await find(req, 'get');
        return { actions: Object.fromEntries(APPSET_ACTIONS.map((action) => [action, can(ctx, req, appSetCheck(ctx, set, action))])) };
      },
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
        ctx.authorize(req, appSetCheck(ctx, set, 'create'));
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
