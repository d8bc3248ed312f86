// What the dashboard's Application page needs beyond the Application itself: the
// resource tree (its resources from status.resources, and below a Deployment or a
// Rollout its ReplicaSets and their Pods, read live), what the caller may do to it, and
// deleting it as `argocd app delete` does: cascade (the default) through Argo's
// resources finalizer, or leave the resources behind.
import type { FastifyInstance } from 'fastify';
import { Resources, isNotFound, type KubeObject } from '../../k8s/kube-client';
import { RESOURCES_FINALIZER } from '../../domain/argo/names';
import { assessHealth } from '../../domain/health';
import type { RouteDoc } from '../openapi';
import { appCheck, can, refParams, type ApiContext } from '../context';

const doc = (summary: string): RouteDoc => ({ summary, tags: ['applications'] });
const IN_CLUSTER = new Set(['https://kubernetes.default.svc', 'https://kubernetes.default.svc/']);
/** The RBAC actions the Application page's buttons need. */
const APP_ACTIONS = ['get', 'sync', 'update', 'delete', 'override'] as const;

export interface TreeNode {
  group: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The key (`kind/namespace/name`) of the node above; none for the Application's own resources. */
  parent?: string;
  health?: string;
  healthMessage?: string;
  sync?: string;
  info?: string;
}

const nodeKey = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;

export function registerApplicationResourceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const find = async (namespace: string, name: string) =>
    ctx.applications.get(namespace, name) ?? (await ctx.kube.find(Resources.application, namespace, name));

  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/applications/:name/permissions',
    {
      config: doc(`which of ${APP_ACTIONS.join(', ')} the caller may do to the Application (the dashboard greys out the rest)`),
      schema: { params: refParams },
    },
    async (req) => {
      const { namespace, name } = req.params;
      const a = await find(namespace, name);
      if (!a) throw ctx.missingApplication(req, namespace, name, 'get');
      ctx.authorize(req, appCheck(ctx, a, 'get'));
      return { actions: Object.fromEntries(APP_ACTIONS.map((action) => [action, can(ctx, req, appCheck(ctx, a, action))])) };
    },
  );

  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/applications/:name/resource-tree',
    {
      config: doc('the resource tree: managed resources with health and sync, and the ReplicaSets and Pods below Deployments and Rollouts'),
      schema: { params: refParams },
    },
    async (req) => {
      const { namespace, name } = req.params;
      const a = await find(namespace, name);
      if (!a) throw ctx.missingApplication(req, namespace, name, 'get');
      ctx.authorize(req, appCheck(ctx, a, 'get'));
      const nodes: TreeNode[] = ((a.status?.resources ?? []) as any[]).map((r) => ({
        group: r.group ?? '',
        kind: r.kind,
        namespace: r.namespace || undefined,
        name: r.name,
        health: r.health?.status,
        healthMessage: r.health?.message,
        sync: r.status,
      }));
      // Children are read from this cluster only; a remote destination shows its managed resources.
      const dest = a.spec?.destination ?? {};
      const local = IN_CLUSTER.has(dest.server ?? '') || dest.name === 'in-cluster';
      const owners = nodes.filter((n) => (n.kind === 'Deployment' && n.group === 'apps') || (n.kind === 'Rollout' && n.group === 'argoproj.io'));
      if (local && owners.length) {
        for (const ns of new Set(owners.map((o) => o.namespace).filter((n): n is string => !!n))) {
          const [rss, pods] = await Promise.all([ctx.kube.list(Resources.replicaSet, ns), ctx.kube.list(Resources.pod, ns)]);
          const ownedBy = (o: KubeObject, kind: string, ownerName: string) => o.metadata.ownerReferences?.some((r) => r.kind === kind && r.name === ownerName);
          for (const owner of owners.filter((o) => o.namespace === ns)) {
            for (const rs of rss.items.filter((r) => ownedBy(r, owner.kind, owner.name))) {
              // Old ReplicaSets at zero are history, not the tree.
              if ((rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0) continue;
              const h = assessHealth({ ...rs, apiVersion: 'apps/v1', kind: 'ReplicaSet' });
              nodes.push({
                group: 'apps',
                kind: 'ReplicaSet',
                namespace: ns,
                name: rs.metadata.name,
                parent: nodeKey(owner.kind, ns, owner.name),
                health: h?.status ?? 'Healthy',
                healthMessage: h?.message,
                info: `rev:${rs.metadata.annotations?.['rollout.argoproj.io/revision'] ?? rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '?'}`,
              });
              for (const pod of pods.items.filter((p) => ownedBy(p, 'ReplicaSet', rs.metadata.name))) {
                const ph = assessHealth({ ...pod, apiVersion: 'v1', kind: 'Pod' });
                nodes.push({
                  group: '',
                  kind: 'Pod',
                  namespace: ns,
                  name: pod.metadata.name,
                  parent: nodeKey('ReplicaSet', ns, rs.metadata.name),
                  health: ph?.status ?? 'Healthy',
                  healthMessage: ph?.message,
                  info: pod.status?.phase,
                });
              }
            }
          }
        }
      }
      return { nodes };
    },
  );

  app.delete<{ Params: { namespace: string; name: string }; Querystring: { cascade?: boolean } }>(
    '/api/v1/namespaces/:namespace/applications/:name',
    {
      config: doc("delete an Application; cascade (default true): its resources too, through Argo's resources finalizer"),
      schema: { params: refParams, querystring: { type: 'object', properties: { cascade: { type: 'boolean' } }, additionalProperties: false } },
    },
    async (req) => {
      const { namespace, name } = req.params;
      const cascade = req.query.cascade ?? true;
      const a = await find(namespace, name);
      if (!a) throw ctx.missingApplication(req, namespace, name, 'delete');
      ctx.authorize(req, appCheck(ctx, a, 'delete'));
      const finalizers = a.metadata.finalizers ?? [];
      const wanted = cascade ? [...new Set([...finalizers, RESOURCES_FINALIZER])] : finalizers.filter((f) => f !== RESOURCES_FINALIZER);
      try {
        if (wanted.length !== finalizers.length)
          await ctx.kube.patch(Resources.application, namespace, name, { metadata: { finalizers: wanted } }, { type: 'merge' });
        await ctx.kube.delete(Resources.application, namespace, name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return { message: `application ${namespace}/${name} deleted${cascade ? ' with its resources' : ''}` };
    },
  );
}

export function registerRolloutPermissionRoute(app: FastifyInstance, ctx: ApiContext, commands: readonly string[]): void {
  app.get<{ Params: { namespace: string; name: string } }>(
    '/api/v1/namespaces/:namespace/rollouts/:name/permissions',
    {
      config: { summary: 'which rollout commands the caller may run on this Rollout (the dashboard greys out the rest)', tags: ['rollouts'] },
      schema: { params: refParams },
    },
    async (req) => {
      const { namespace, name } = req.params;
      const ro = await ctx.rollout(req, namespace, name);
      ctx.authorize(req, ctx.rolloutCheck(ro, undefined));
      return { actions: Object.fromEntries(commands.map((c) => [c, can(ctx, req, ctx.rolloutCheck(ro, c))])) };
    },
  );
}
