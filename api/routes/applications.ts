// Applications: list and get from the API's watch of Application objects; create
// (checked against its AppProject, api/projects/boundaries.ts, before anything is
// written); and the operations, as Updates through api/application-commands.ts.
// RBAC as Argo CD's API server checks it, on `<project>/<app>`: get for reads, diff,
// history and refresh; sync for sync, rollback and terminating an operation; create.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isConflict, isNotFound, KubeApiError, Resources, type KubeClient, type KubeObject } from '../../k8s/kube-client';
import { DEFAULT_PROJECT, DELETION_APPROVED_ANNOTATION } from '../../domain/argo/names';
import type { ApplicationRef } from '../../workflows/definitions';
import { ApiError } from '../errors';
import type { RouteDoc } from '../openapi';
import { checkApplication, syncWindowVerdict, type AppProject } from '../../domain/projects/boundaries';
import { ClusterClients } from '../../k8s/clusters';
import { appCheck, can, refParams, type ApiContext } from '../context';

const registries = new WeakMap<KubeClient, ClusterClients>();
/** The cluster Secrets as the API's client reads them (one registry per client). */
function clusterRegistry(kube: KubeClient): ClusterClients {
  let r = registries.get(kube);
  if (!r) registries.set(kube, (r = new ClusterClients(kube)));
  return r;
}

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
        .filter((a) => (!project || (a.spec?.project || DEFAULT_PROJECT) === project) && can(ctx, req, appCheck(ctx, a, 'get')))
        .sort((a, b) => a.metadata.namespace!.localeCompare(b.metadata.namespace!) || a.metadata.name.localeCompare(b.metadata.name));
      return {
        items: items.map((a) => ({
          namespace: a.metadata.namespace,
          name: a.metadata.name,
          project: a.spec?.project || DEFAULT_PROJECT,
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
      const a = ctx.applications.get(namespace, name) ?? (await ctx.kube.find(Resources.application, namespace, name));
      if (!a) throw ctx.missingApplication(req, namespace, name, 'get');
      ctx.authorize(req, appCheck(ctx, a, 'get'));
      return { application: a };
    },
  );

  registerApplicationCreate(app, ctx);
  registerApplicationOperations(app, ctx);
}

// Argo CD creates the `default` project permitting everything when it is missing.
const MISSING_DEFAULT_PROJECT: AppProject = {
  metadata: { name: DEFAULT_PROJECT },
  spec: { sourceRepos: ['*'], destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] },
};

async function findProject(ctx: ApiContext, name: string, appNamespace: string): Promise<AppProject | undefined> {
  for (const ns of new Set([appNamespace, ctx.controlNamespace])) {
    const p = await ctx.kube.find<KubeObject>(Resources.appProject, ns, name);
    if (p) return p as AppProject;
  }
  return name === DEFAULT_PROJECT ? MISSING_DEFAULT_PROJECT : undefined;
}

function registerApplicationCreate(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{
    Params: { namespace: string };
    Body: { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, any> };
  }>(
    '/api/v1/namespaces/:namespace/applications',
    {
      config: doc('create an Application; refused, with the rule named, when its AppProject does not permit its sources or destination'),
      schema: {
        params: { type: 'object', required: ['namespace'], properties: { namespace: { type: 'string', minLength: 1, maxLength: 253 } } },
        body: {
          type: 'object',
          required: ['metadata', 'spec'],
          properties: {
            apiVersion: { type: 'string' },
            kind: { type: 'string' },
            metadata: {
              type: 'object',
              required: ['name'],
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 253 },
                namespace: { type: 'string' },
                labels: { type: 'object' },
                annotations: { type: 'object' },
              },
            },
            spec: { type: 'object' },
          },
        },
      },
    },
    async (req) => {
      const { namespace } = req.params;
      const { metadata, spec } = req.body;
      const name = metadata.name;
      const projectName = (spec.project as string | undefined) || DEFAULT_PROJECT;
      const draft: KubeObject = { metadata: { name, namespace }, spec: { ...spec, project: projectName } };
      ctx.authorize(req, appCheck(ctx, draft, 'create'));
      const project = await findProject(ctx, projectName, namespace);
      if (!project) throw new ApiError('InvalidRequest', `application ${namespace}/${name}: spec.project: AppProject ${projectName} not found`);
      // Destinations by name resolve through the registered cluster Secrets, as the compare does.
      const clusters = await clusterRegistry(ctx.kube).known();
      const verdict = checkApplication(project, draft.spec, { application: { name, namespace }, controllerNamespace: ctx.controlNamespace, clusters });
      if (!verdict.ok) throw new ApiError('InvalidRequest', `application ${namespace}/${name} refused by AppProject ${projectName}: ${verdict.message}`);
      try {
        const created = await ctx.kube.create(Resources.application, namespace, {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'Application',
          metadata: { name, namespace, labels: metadata.labels, annotations: metadata.annotations },
          spec: draft.spec,
        });
        ctx.applications.observe(created);
        return { application: created };
      } catch (err) {
        if (isConflict(err)) throw new ApiError('FailedPrecondition', `application ${namespace}/${name} already exists`);
        if (err instanceof KubeApiError && (err.statusCode === 422 || err.statusCode === 400))
          throw new ApiError('InvalidRequest', `application ${namespace}/${name}: ${err.message}`);
        throw err;
      }
    },
  );
}

interface Operation {
  path: string;
  method: 'GET' | 'POST';
  rbac: 'get' | 'sync' | 'update';
  summary: string;
  body?: object;
  /** Sync and rollback: refused (403, the window named) when the project's syncWindows block a manual sync now. */
  windowed?: boolean;
  run(ctx: ApiContext, ref: ApplicationRef, body: any): Promise<unknown>;
}

/** Argo CD's API check before a manual sync or rollback: PermissionDenied while a sync window blocks it. */
async function refuseOutsideSyncWindows(ctx: ApiContext, a: KubeObject, what: string): Promise<void> {
  const spec = (a.spec ?? {}) as { project?: string; destination?: { server?: string; name?: string; namespace?: string } };
  const project = await findProject(ctx, spec.project || DEFAULT_PROJECT, a.metadata.namespace!);
  if (!project) return; // the workflow reports the missing project as a ComparisonError
  const dest = spec.destination ?? {};
  const verdict = syncWindowVerdict(
    project,
    { name: a.metadata.name, namespace: dest.namespace ?? '', server: dest.server, cluster: dest.name },
    new Date(),
    true,
  );
  if (!verdict.allowed)
    throw new ApiError('PermissionDenied', `application ${a.metadata.namespace}/${a.metadata.name}: ${(verdict.message ?? '').replace(/^cannot sync/, what)}`);
}

/** `argocd app confirm-deletion`: approves Prune=confirm deletions of operations started up to now. */
async function confirmDeletion(ctx: ApiContext, ref: ApplicationRef): Promise<{ message: string }> {
  // RFC 3339 at second precision, as Argo CD writes it.
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  try {
    await ctx.kube.patch(
      Resources.application,
      ref.namespace,
      ref.name,
      { metadata: { annotations: { [DELETION_APPROVED_ANNOTATION]: now } } },
      { type: 'merge' },
    );
  } catch (err) {
    if (isNotFound(err)) throw new ApiError('NotFound', `application ${ref.namespace}/${ref.name} not found`);
    throw err;
  }
  return { message: `application ${ref.namespace}/${ref.name}: deletion approved at ${now}` };
}

const OPERATIONS: Operation[] = [
  {
    path: 'sync',
    method: 'POST',
    rbac: 'sync',
    windowed: true,
    summary: 'sync now: optionally prune, dry-run, at a revision, or only some resources ("group/Kind/namespace/name")',
    body: {
      type: ['object', 'null'],
      properties: {
        prune: { type: 'boolean' },
        dryRun: { type: 'boolean' },
        revision: { type: 'string', maxLength: 256 },
        resources: { type: 'array', items: { type: 'string', maxLength: 600 }, maxItems: 1000 },
      },
      additionalProperties: false,
    },
    run: (ctx, ref, b) => commands(ctx).sync(ref, { prune: b?.prune, dryRun: b?.dryRun, revision: b?.revision, resources: b?.resources }),
  },
  {
    path: 'refresh',
    method: 'POST',
    rbac: 'get',
    summary: 'compare with Git again now; hard: also re-render the manifests',
    body: { type: ['object', 'null'], properties: { hard: { type: 'boolean' } }, additionalProperties: false },
    run: (ctx, ref, b) => commands(ctx).refresh(ref, { hard: !!b?.hard }),
  },
  { path: 'terminate-operation', method: 'POST', rbac: 'sync', summary: 'stop the running sync operation', run: (ctx, ref) => commands(ctx).terminate(ref) },
  {
    path: 'rollback',
    method: 'POST',
    rbac: 'sync',
    windowed: true,
    summary: 'sync to the revision of a history entry (automated sync must be off)',
    body: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 0 } }, additionalProperties: false },
    run: (ctx, ref, b) => commands(ctx).rollback(ref, b.id),
  },
  {
    path: 'confirm-deletion',
    method: 'POST',
    rbac: 'update',
    summary: `approve the deletions a sync waits for (resources marked Prune=confirm): sets ${DELETION_APPROVED_ANNOTATION} to now`,
    run: (ctx, ref) => confirmDeletion(ctx, ref),
  },
  {
    path: 'diff',
    method: 'GET',
    rbac: 'get',
    summary: 'a unified diff, live to Git, of every out-of-sync resource',
    run: async (ctx, ref) => ({ diff: await commands(ctx).diff(ref) }),
  },
  { path: 'history', method: 'GET', rbac: 'get', summary: 'the sync history', run: async (ctx, ref) => ({ items: await commands(ctx).history(ref) }) },
];

function commands(ctx: ApiContext) {
  if (!ctx.applicationCommands) throw new ApiError('Unavailable', 'application operations are not served by this API instance');
  return ctx.applicationCommands;
}

function registerApplicationOperations(app: FastifyInstance, ctx: ApiContext): void {
  for (const op of OPERATIONS) {
    const handler = async (req: FastifyRequest<{ Params: { namespace: string; name: string }; Body: any }>) => {
      const { namespace, name } = req.params;
      const a = ctx.applications.get(namespace, name) ?? (await ctx.kube.find(Resources.application, namespace, name));
      if (!a) throw ctx.missingApplication(req, namespace, name, op.rbac);
      ctx.authorize(req, appCheck(ctx, a, op.rbac));
      if (op.windowed) await refuseOutsideSyncWindows(ctx, a, op.path === 'sync' ? 'cannot sync' : 'rollback cannot be initiated');
      return op.run(ctx, { namespace, name }, req.body);
    };
    const url = `/api/v1/namespaces/:namespace/applications/:name/${op.path}`;
    const config = doc(op.summary);
    if (op.method === 'GET') app.get(url, { config, schema: { params: refParams } }, handler);
    else
      app.post(
        url,
        { config, schema: { params: refParams, body: op.body ?? { type: ['object', 'null'], properties: {}, additionalProperties: false } } },
        handler,
      );
  }
}
