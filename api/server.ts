// The HTTP API: JSON over REST, versioned under /api/v1, with request schemas
// validated by Fastify. Every route but /healthz, /readyz, /metrics and
// /api/openapi.json needs a bearer token (api/auth), and every route checks Argo CD
// RBAC (api/rbac/policy.ts) before it reads or acts. Errors are {code, message}.
import Fastify, { type FastifyInstance } from 'fastify';
import { Resources, type KubeClient, type KubeObject } from '../k8s/kube-client';
import { ARGOCD_NAMESPACE, DEFAULT_PROJECT, SLUICE_NAMESPACE } from '../domain/argo/names';
import { observeApplications, observeRollouts, recordApiRequest, registry } from './metrics';
import { AccessControl, Unauthenticated } from './auth/access-control';
import { redactTokens } from '../domain/rbac/tokens';
import { onAnalysisRunEvent, onApplicationEvent, onRolloutEvent } from './derived-metrics';
import { ApiError, errorBody, toApiError } from './errors';
import { ObjectCache } from './object-cache';
import { collectOpenApi, type RouteDoc } from './openapi';
import type { ApplicationCommands } from './application-commands';
import { CommandRefused, type RolloutCommands } from './rollout-commands';
import { owningApp, rolloutCheck, type AppRef } from './rollout-access';
import type { ApiContext, ApiLog } from './context';
import { SLUICE_VERSION } from '../domain/version';
import { registerAccountRoutes } from './routes/accounts';
import { registerAnalysisRunRoutes } from './routes/analysis-runs';
import { registerApplicationRoutes } from './routes/applications';
import { registerRolloutCommandRoutes } from './routes/rollout-commands';
import { registerRolloutRoutes } from './routes/rollouts';
import { registerApplicationResourceRoutes, registerRolloutPermissionRoute } from './routes/application-resources';
import { dashboardRoutes, type DashboardOptions } from './routes/dashboard';
import { registerStreamRoutes } from './routes/stream';

export interface ApiDeps {
  kube: KubeClient;
  commands: RolloutCommands;
  /** Application operations (sync, refresh, ...); their routes answer 503 without it. */
  applications?: ApplicationCommands;
  /** Where accounts, RBAC and tokens live (SLUICE_NAMESPACE); default sluice-system. */
  sluiceNamespace?: string;
  /** Argo CD's control-plane namespace: Applications there are named `<project>/<app>` in RBAC. */
  controlNamespace?: string;
  log?: ApiLog;
  /** The web dashboard at `/`: where Temporal UI is, and where its built page lives. */
  dashboard?: DashboardOptions;
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /**
   * More routes, such as the Git webhooks. A route with `config: { public: true }` skips
   * the bearer token and must authenticate the caller itself (e.g. an HMAC over req.rawBody).
   */
  routes?: ((app: FastifyInstance, ctx: ApiContext) => void)[];
  /** What /readyz also probes, by name (e.g. temporal, kubernetes): each must answer within 3 s. */
  readiness?: Record<string, () => Promise<unknown>>;
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const log = deps.log ?? (() => undefined);
  const sluiceNamespace = deps.sluiceNamespace || process.env.SLUICE_NAMESPACE || SLUICE_NAMESPACE;
  const controlNamespace = deps.controlNamespace ?? ARGOCD_NAMESPACE;
  const app = Fastify({ logger: false, bodyLimit: deps.bodyLimit ?? 1 << 20 });
  const openApi = collectOpenApi(app, { title: 'Sluice API', version: 'v1' });

  const access = new AccessControl(deps.kube, sluiceNamespace, log);
  const watchError = (what: string) => (err: unknown) => log('watch failed; listing again', { resource: what, error: redactTokens(String(err)) });
  const rollouts = new ObjectCache(deps.kube, Resources.rollout, {
    onError: watchError('rollouts'),
    onEvent: (t, o, prev) => t !== 'DELETED' && onRolloutEvent(o, prev),
  });
  const applications = new ObjectCache(deps.kube, Resources.application, {
    onError: watchError('applications'),
    onEvent: (t, o, prev) => t !== 'DELETED' && onApplicationEvent(o, prev),
  });
  const analysisRuns = new ObjectCache(deps.kube, Resources.analysisRun, {
    onError: watchError('analysisruns'),
    onEvent: (t, o, prev) => t !== 'DELETED' && onAnalysisRunEvent(o, prev),
  });
  // For the ApplicationSet list and the dashboard's live view of it.
  const applicationSets = new ObjectCache(deps.kube, Resources.applicationSet, { onError: watchError('applicationsets') });

  observeRollouts(() =>
    rollouts.list().map((ro) => ({
      namespace: ro.metadata.namespace!,
      name: ro.metadata.name,
      phase: (ro.status?.phase as string | undefined) ?? 'Progressing',
      strategy: ro.spec?.strategy?.blueGreen ? 'blueGreen' : 'canary',
    })),
  );
  observeApplications(() =>
    applications.list().map((a) => ({
      namespace: a.metadata.namespace!,
      name: a.metadata.name,
      project: a.spec?.project || DEFAULT_PROJECT,
      syncStatus: a.status?.sync?.status ?? 'Unknown',
      healthStatus: a.status?.health?.status ?? 'Unknown',
    })),
  );

  // A bare instance name means an Application in the control-plane namespace, as in
  // Argo CD; never a same-named one elsewhere, which someone else may have created.
  const findApp = (ref: AppRef): KubeObject | undefined => applications.get(ref.namespace ?? controlNamespace, ref.name);

  const ctx: ApiContext = {
    kube: deps.kube,
    commands: deps.commands,
    applicationCommands: deps.applications,
    access,
    rollouts,
    applications,
    analysisRuns,
    applicationSets,
    controlNamespace,
    findApp,
    async rollout(req, namespace, name, command) {
      // A Rollout applied a moment ago may not have reached the watch yet: ask the apiserver.
      const ro = rollouts.get(namespace, name) ?? (await deps.kube.find(Resources.rollout, namespace, name));
      if (!ro) {
        ctx.authorize(req, { resource: 'rollouts', action: command ? 'update' : 'get', object: `${namespace}/${name}` });
        throw new ApiError('NotFound', `rollout ${namespace}/${name} not found`);
      }
      return ro;
    },
    missingApplication(req, namespace, name, action) {
      if (!req.principal || !access.can(req.principal, 'applications', action, `*/${name}`)) {
        return new ApiError('PermissionDenied', `permission denied: account ${req.principal?.account ?? '-'} may not ${action} applications */${name}`);
      }
      return new ApiError('NotFound', `application ${namespace}/${name} not found`);
    },
    authorize(req, check) {
      const principal = req.principal;
      if (!principal) throw new ApiError('Unauthenticated', 'no credentials');
      if (!access.can(principal, check.resource, check.action, check.object)) {
        throw new ApiError('PermissionDenied', `permission denied: account ${principal.account} may not ${check.action} ${check.resource} ${check.object}`);
      }
    },
    rolloutCheck(ro, command) {
      // Without the Application list we cannot know the owner; refusing beats guessing.
      if (owningApp(ro) && !applications.synced)
        throw new ApiError(
          'Unavailable',
          `the Application list is not loaded yet; cannot decide who may act on rollout ${ro.metadata.namespace}/${ro.metadata.name}`,
        );
      return rolloutCheck(ro, command, findApp, controlNamespace);
    },
  };

  app.addHook('onReady', async () => {
    rollouts.start();
    applications.start();
    analysisRuns.start();
    applicationSets.start();
    await access.start();
    await rollouts.waitSynced(5000);
  });
  app.addHook('onClose', async () => {
    await Promise.all([access.stop(), rollouts.stop(), applications.stop(), analysisRuns.stop(), applicationSets.stop()]);
  });

  // The parser's own message helps whoever wrote the body; a token inside it is redacted on the way out.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    req.rawBody = body as string;
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new ApiError('InvalidRequest', `malformed JSON body: ${(err as Error).message}`), undefined);
    }
  });

  app.decorateRequest('principal', undefined);
  app.decorateRequest('rawBody', undefined);
  app.addHook('onRequest', async (req) => {
    if ((req.routeOptions.config as RouteDoc | undefined)?.public) return;
    try {
      req.principal = await access.authenticate(req.headers.authorization);
    } catch (err) {
      if (err instanceof Unauthenticated) throw new ApiError('Unauthenticated', err.message);
      throw err;
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    recordApiRequest(req.method, route, reply.statusCode, reply.elapsedTime / 1000);
    // Mutations and failures are worth a line; successful reads are not. Never the URL's
    // query or any header: both can carry a token.
    if (req.method !== 'GET' || reply.statusCode >= 400) {
      log('api request', { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime), account: req.principal?.account });
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, _req, reply) => {
    const apiErr = err instanceof CommandRefused ? new ApiError(err.code, err.message) : toApiError(err);
    if (apiErr.code === 'Internal') log('api internal error', { error: redactTokens(String(err)) });
    return reply.code(apiErr.status).send(errorBody(apiErr.code, apiErr.message));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('NotFound', `no route ${req.method} ${req.url.split('?')[0]}`)));

  const pub = (summary: string): RouteDoc => ({ public: true, summary, tags: ['health'] });
  app.get('/healthz', { config: pub('liveness: the process serves HTTP') }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: pub('readiness: accounts, RBAC, tokens and the rollout list are loaded') }, async (_req, reply) => {
    const pending = [...(access.ready ? [] : ['access control']), ...(rollouts.synced ? [] : ['rollouts'])];
    const unreachable = await probeAll(deps.readiness ?? {});
    if (unreachable.length) return reply.code(503).send(errorBody('Unavailable', `not ready: ${unreachable.join('; ')}`));
    if (pending.length) return reply.code(503).send(errorBody('Unavailable', `not ready: waiting for ${pending.join(', ')}`));
    return { status: 'ready' };
  });
  app.get('/metrics', { config: pub('Prometheus metrics') }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  app.get('/api/version', { config: pub('the Sluice version this server runs') }, async () => ({ version: SLUICE_VERSION, node: process.version }));
  app.get('/api/openapi.json', { config: pub('this document') }, async () => openApi());

  registerAccountRoutes(app, ctx);
  registerRolloutRoutes(app, ctx);
  registerRolloutCommandRoutes(app, ctx);
  registerAnalysisRunRoutes(app, ctx);
  registerApplicationRoutes(app, ctx);
  registerApplicationResourceRoutes(app, ctx);
  registerRolloutPermissionRoute(app, ctx, ['promote', 'promote-full', 'abort', 'retry', 'undo', 'restart', 'pause', 'resume', 'set-image']);
  registerStreamRoutes(app, ctx);
  dashboardRoutes(deps.dashboard)(app);
  for (const register of deps.routes ?? []) register(app, ctx);
  return app;
}

/** The probes that failed, each as "<name> unreachable: <why>". */
async function probeAll(probes: Record<string, () => Promise<unknown>>): Promise<string[]> {
  const results = await Promise.all(
    Object.entries(probes).map(async ([name, probe]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 3 s')), 3_000)))]);
        return undefined;
      } catch (err) {
        return `${name} unreachable: ${redactTokens(err instanceof Error ? err.message : String(err)).slice(0, 300)}`;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results.filter((r): r is string => r !== undefined);
}
