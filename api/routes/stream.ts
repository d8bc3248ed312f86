// Live updates for the dashboard: server-sent events fed by the caches the API already
// keeps (api/object-cache.ts), each object checked against the caller's RBAC before it
// is sent. A client names what it watches in `watch`:
//   applications               every Application summary the caller may read
//   rollouts                   every Rollout summary
//   application/<ns>/<name>    one Application in full
//   rollout/<ns>/<name>        one Rollout in full (also when one of its AnalysisRuns changes)
// The first events are a snapshot; then only what changed, coalesced over a short tick,
// so a burst of 1,000 status updates is one write. Browsers' EventSource cannot send an
// Authorization header, so the dashboard reads this stream with fetch().
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KubeObject } from '../../k8s/kube-client';
import { ApiError } from '../errors';
import type { RouteDoc } from '../openapi';
import { appCheck, can, type ApiContext } from '../context';
import type { CacheChange } from '../object-cache';
import { applicationSummary, rolloutSummary } from '../dashboard/summaries';

const FLUSH_MS = 100;
const KEEPALIVE_MS = 15_000;
const MAX_WATCHES = 8;

export type Watch = { kind: 'applications' } | { kind: 'rollouts' } | { kind: 'application' | 'rollout'; namespace: string; name: string };

export function parseWatch(value: string): Watch[] {
  const watches = value
    .split(',')
    .filter(Boolean)
    .map((w): Watch => {
      if (w === 'applications' || w === 'rollouts') return { kind: w };
      const [kind, namespace, name, ...rest] = w.split('/');
      if ((kind === 'application' || kind === 'rollout') && namespace && name && rest.length === 0) return { kind, namespace, name };
      throw new ApiError(
        'InvalidRequest',
        `watch: unknown item ${JSON.stringify(w.slice(0, 100))} (applications, rollouts, application/<ns>/<name>, rollout/<ns>/<name>)`,
      );
    });
  if (watches.length === 0 || watches.length > MAX_WATCHES) throw new ApiError('InvalidRequest', `watch: name 1 to ${MAX_WATCHES} items`);
  return watches;
}

// The server-side apply bookkeeping is most of an object's bytes and nothing the page shows.
const withoutManagedFields = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } });

const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

export function registerStreamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Open streams never end by themselves: end them before the server waits for its connections.
  const open = new Set<import('node:http').ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  const mayReadApp = (req: FastifyRequest, a: KubeObject) => can(ctx, req, appCheck(ctx, a, 'get'));
  const mayReadRollout = (req: FastifyRequest, ro: KubeObject) => {
    try {
      return can(ctx, req, ctx.rolloutCheck(ro, undefined));
    } catch {
      return false; // the Application list is not loaded yet: show nothing rather than guess
    }
  };

  app.get<{ Querystring: { watch: string } }>(
    '/api/v1/stream',
    {
      config: {
        summary:
          'server-sent events: a snapshot, then changes, of what `watch` names (applications, rollouts, application/<ns>/<name>, rollout/<ns>/<name>), filtered by RBAC',
        tags: ['dashboard'],
      } satisfies RouteDoc,
      schema: { querystring: { type: 'object', required: ['watch'], properties: { watch: { type: 'string', maxLength: 2000 } }, additionalProperties: false } },
    },
    async (req, reply) => {
      const watches = parseWatch(req.query.watch);
      const lists = new Set(watches.filter((w) => w.kind === 'applications' || w.kind === 'rollouts').map((w) => w.kind));
      const objects = watches.filter((w): w is Extract<Watch, { namespace: string }> => 'namespace' in w);
      // What changed since the last write: a key, or '*' for everything (a snapshot).
      const dirtyApps = new Set<string>(['*']);
      const dirtyRollouts = new Set<string>(['*']);
      let timer: NodeJS.Timeout | undefined;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

      const flush = () => {
        timer = undefined;
        if (res.destroyed) return;
        if (lists.has('applications') && dirtyApps.size) {
          if (dirtyApps.has('*'))
            send('applications', {
              items: ctx.applications
                .list()
                .filter((a) => mayReadApp(req, a))
                .map(applicationSummary),
            });
          else {
            const changes = [...dirtyApps].map((k) => {
              const [ns, name] = k.split('/');
              const a = ctx.applications.get(ns, name);
              return a && mayReadApp(req, a) ? { key: k, item: applicationSummary(a) } : { key: k, item: null };
            });
            send('application-changes', { changes });
          }
        }
        if (lists.has('rollouts') && dirtyRollouts.size) {
          if (dirtyRollouts.has('*'))
            send('rollouts', {
              items: ctx.rollouts
                .list()
                .filter((ro) => mayReadRollout(req, ro))
                .map(rolloutSummary),
            });
          else {
            const changes = [...dirtyRollouts].map((k) => {
              const [ns, name] = k.split('/');
              const ro = ctx.rollouts.get(ns, name);
              return ro && mayReadRollout(req, ro) ? { key: k, item: rolloutSummary(ro) } : { key: k, item: null };
            });
            send('rollout-changes', { changes });
          }
        }
        for (const w of objects) {
          const k = `${w.namespace}/${w.name}`;
          const dirty = w.kind === 'application' ? dirtyApps : dirtyRollouts;
          if (!dirty.has('*') && !dirty.has(k)) continue;
          const obj = w.kind === 'application' ? ctx.applications.get(w.namespace, w.name) : ctx.rollouts.get(w.namespace, w.name);
          const visible = obj && (w.kind === 'application' ? mayReadApp(req, obj) : mayReadRollout(req, obj));
          send('object', { kind: w.kind, key: k, object: visible ? withoutManagedFields(obj) : null });
        }
        dirtyApps.clear();
        dirtyRollouts.clear();
      };
      const schedule = () => (timer ??= setTimeout(flush, FLUSH_MS));
      const mark = (dirty: Set<string>) => (change: CacheChange<KubeObject>) => {
        dirty.add(change.type === 'RELISTED' ? '*' : key(change.obj));
        schedule();
      };
      const onAnalysisRun = (change: CacheChange<KubeObject>) => {
        if (change.type === 'RELISTED') return mark(dirtyRollouts)(change);
        const owner = change.obj.metadata.ownerReferences?.find((o) => o.kind === 'Rollout');
        if (owner) {
          dirtyRollouts.add(`${change.obj.metadata.namespace}/${owner.name}`);
          schedule();
        }
      };
      const unsubscribe = [
        ctx.applications.subscribe(mark(dirtyApps)),
        ctx.rollouts.subscribe(mark(dirtyRollouts)),
        ...(objects.some((w) => w.kind === 'rollout') ? [ctx.analysisRuns.subscribe(onAnalysisRun)] : []),
      ];
      // A comment line now and then keeps proxies from closing an idle stream; the token is
      // checked again each time, so a revoked or expired one stops the stream within that period.
      const keepalive = setInterval(() => {
        ctx.access.authenticate(req.headers.authorization).then(
          () => res.write(': keepalive\n\n'),
          () => res.end(),
        );
      }, KEEPALIVE_MS);
      const close = () => {
        for (const u of unsubscribe) u();
        clearInterval(keepalive);
        if (timer) clearTimeout(timer);
      };
      open.add(res);
      res.on('close', () => {
        open.delete(res);
        close();
      });
      flush();
    },
  );
}
