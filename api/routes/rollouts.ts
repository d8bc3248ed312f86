// Rollouts: the list (served from the API's watch, its body memoised per change),
// one Rollout with its workflow's view, and the tree `sluice rollouts get` draws.
import type { FastifyInstance } from 'fastify';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RouteDoc } from '../openapi';
import { rolloutTree } from '../../domain/rollouts/tree';
import { refParams, type ApiContext } from '../context';
import { POD_TEMPLATE_HASH_LABEL } from '../../domain/argo/names';

// What a list needs of status (Argo's field names); conditions and the rest are in GET of one Rollout.
const LIST_STATUS_FIELDS = [
  'phase',
  'message',
  'currentStepIndex',
  'replicas',
  'updatedReplicas',
  'readyReplicas',
  'availableReplicas',
  'stableRS',
  'currentPodHash',
  'canary',
  'blueGreen',
  'pauseConditions',
  'abort',
];
const listStatus = (status: Record<string, unknown> | undefined) =>
  Object.fromEntries(LIST_STATUS_FIELDS.filter((f) => status?.[f] !== undefined).map((f) => [f, status![f]]));

interface RolloutListItem {
  namespace: string;
  name: string;
  strategy: string;
  desired: number;
  status: Record<string, unknown>;
  /** Kept for the RBAC filter; not sent. */
  ro: KubeObject;
}

export function registerRolloutRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const doc = (summary: string): RouteDoc => ({ summary, tags: ['rollouts'] });
  // The list is derived once per change of the watched Rollouts, not per request.
  let listed: { version: number; items: RolloutListItem[] } | undefined;
  const allItems = async (): Promise<RolloutListItem[]> => {
    const toItem = (ro: KubeObject): RolloutListItem => ({
      namespace: ro.metadata.namespace!,
      name: ro.metadata.name,
      strategy: ro.spec?.strategy?.canary ? 'Canary' : ro.spec?.strategy?.blueGreen ? 'BlueGreen' : '-',
      desired: ro.spec?.replicas ?? 1,
      status: listStatus(ro.status),
      ro,
    });
    if (!ctx.rollouts.synced) return (await ctx.kube.list(Resources.rollout)).items.map(toItem);
    if (listed?.version !== ctx.rollouts.version) {
      const items = ctx.rollouts.list().map(toItem);
      items.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
      listed = { version: ctx.rollouts.version, items };
    }
    return listed.items;
  };

  // The body depends only on (Rollouts, policy, account, filters): keep the last few
  // serialised and encoded, so a repeated list costs a map lookup rather than 1,000
  // RBAC checks, a large JSON.stringify and its UTF-8 encoding.
  const bodies = new Map<string, Buffer>();
  app.get<{ Querystring: { namespace?: string; phase?: string } }>(
    '/api/v1/rollouts',
    {
      config: doc('list the Rollouts the caller may read (all namespaces unless filtered), each with a summary of its status'),
      schema: { querystring: { type: 'object', properties: { namespace: { type: 'string' }, phase: { type: 'string' } }, additionalProperties: false } },
    },
    async (req, reply) => {
      const { namespace, phase } = req.query;
      const principal = req.principal!;
      const key = ctx.rollouts.synced
        ? JSON.stringify([ctx.rollouts.version, ctx.applications.version, ctx.access.policyVersion, principal.account, namespace ?? '', phase ?? ''])
        : undefined;
      let body = key ? bodies.get(key) : undefined;
      if (body === undefined) {
        const items = (await allItems()).filter((i) => (!namespace || i.namespace === namespace) && (!phase || i.status.phase === phase));
        const visible = items.filter((i) => {
          const check = ctx.rolloutCheck(i.ro, undefined);
          return ctx.access.can(principal, check.resource, check.action, check.object);
        });
        body = Buffer.from(JSON.stringify({ items: visible.map(({ ro: _ro, ...item }) => item) }));
        if (key) {
          if (bodies.size >= 16) bodies.delete(bodies.keys().next().value!);
          bodies.set(key, body);
        }
      }
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/rollouts/:name',
    { config: doc('a Rollout and what its workflow says about it'), schema: { params: refParams } },
    async (req) => {
      const { namespace, name } = req.params;
      const ro = await ctx.rollout(req, namespace, name);
      ctx.authorize(req, ctx.rolloutCheck(ro, undefined));
      const view = await ctx.commands.view({ namespace, name }).catch(() => undefined);
      return { rollout: ro, workflow: view };
    },
  );

  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/rollouts/:name/history',
    {
      config: doc('every revision the Rollout went through, oldest first, with how it ended; read from its workflow runs, including closed ones'),
      schema: { params: refParams },
    },
    async (req) => {
      const { namespace, name } = req.params;
      const ro = await ctx.rollout(req, namespace, name);
      ctx.authorize(req, ctx.rolloutCheck(ro, undefined));
      return { items: await ctx.commands.history({ namespace, name }) };
    },
  );

  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/rollouts/:name/tree',
    { config: doc('the Rollout with its revisions, ReplicaSets, pods and AnalysisRuns (what `rollouts get` draws)'), schema: { params: refParams } },
    async (req) => {
      const { namespace, name } = req.params;
      const ro = await ctx.rollout(req, namespace, name);
      ctx.authorize(req, ctx.rolloutCheck(ro, undefined));
      const [rss, pods, runs, view] = await Promise.all([
        ctx.kube.list(Resources.replicaSet, namespace, { labelSelector: POD_TEMPLATE_HASH_LABEL }),
        ctx.kube.list(Resources.pod, namespace, { labelSelector: POD_TEMPLATE_HASH_LABEL }),
        ctx.analysisRuns.synced ? { items: ctx.analysisRuns.list(namespace) } : ctx.kube.list(Resources.analysisRun, namespace),
        ctx.commands.view({ namespace, name }).catch(() => undefined),
      ]);
      return { tree: rolloutTree(ro, rss.items, pods.items, runs.items), workflow: view };
    },
  );
}
