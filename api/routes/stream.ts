// Live updates for the dashboard: server-sent events fed by the caches the API already
// keeps (api/object-cache.ts), each object checked against the caller's RBAC before it
// is sent. A client names what it watches in `watch`:
//   applications                   every Application summary the caller may read
//   rollouts                       every Rollout summary
//   applicationsets                every ApplicationSet summary
//   application/<ns>/<name>        one Application in full
//   rollout/<ns>/<name>            one Rollout in full (also when one of its AnalysisRuns changes)
//   applicationset/<ns>/<name>     one ApplicationSet in full
// The first events are a snapshot; then only what changed, coalesced over a short tick,
// so a burst of 1,000 status updates is one write. Browsers' EventSource cannot send an
// Authorization header, so the dashboard reads this stream with fetch(). The stream is
// gzipped when the client accepts it, flushed after every write: a snapshot of 1,000
// summaries is ~40 KB instead of ~300 KB, and each change still arrives at once.
import * as zlib from 'node:zlib';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { KubeObject } from '../../k8s/kube-client';
import { ApiError } from '../errors';
import type { RouteDoc } from '../openapi';
import { appCheck, appSetCheck, can, type ApiContext } from '../context';
import type { CacheChange, ObjectCache } from '../object-cache';
import { applicationSetSummary, applicationSummary, rolloutSummary } from '../dashboard/summaries';

const FLUSH_MS = 100;
const KEEPALIVE_MS = 15_000;
const MAX_WATCHES = 8;

const LISTS = ['applications', 'rollouts', 'applicationsets'] as const;
const OBJECTS = ['application', 'rollout', 'applicationset'] as const;
type ListKind = (typeof LISTS)[number];
type ObjectKind = (typeof OBJECTS)[number];

export type Watch = { kind: ListKind } | { kind: ObjectKind; namespace: string; name: string };

export function parseWatch(value: string): Watch[] {
  const watches = value
    .split(',')
    .filter(Boolean)
    .map((w): Watch => {
      if ((LISTS as readonly string[]).includes(w)) return { kind: w as ListKind };
      const [kind, namespace, name, ...rest] = w.split('/');
      if ((OBJECTS as readonly string[]).includes(kind) && namespace && name && rest.length === 0) return { kind: kind as ObjectKind, namespace, name };
      throw new ApiError(
        'InvalidRequest',
        `watch: unknown item ${JSON.stringify(w.slice(0, 100))} (${LISTS.join(', ')}, ${OBJECTS.map((o) => `${o}/<ns>/<name>`).join(', ')})`,
      );
    });
  if (watches.length === 0 || watches.length > MAX_WATCHES) throw new ApiError('InvalidRequest', `watch: name 1 to ${MAX_WATCHES} items`);
  return watches;
}

// The server-side apply bookkeeping is most of an object's bytes and nothing the page shows.
const withoutManagedFields = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } });

const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** One kind the stream serves: its cache, who may read an object, and what a list sends of it. */
interface Source {
  cache: ObjectCache;
  mayRead: (req: FastifyRequest, obj: KubeObject) => boolean;
  summary: (obj: KubeObject) => unknown;
  /** The list's events: the snapshot, and the changes after it. */
  snapshotEvent: string;
  changesEvent: string;
}

export function registerStreamRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Open streams never end by themselves: end them before the server waits for its connections.
  const open = new Set<Writable>();
  app.addHook('preClose', async () => {
    for (const out of open) out.end();
  });
  const sources: Record<ObjectKind, Source> = {
    application: {
      cache: ctx.applications,
      mayRead: (req, a) => can(ctx, req, appCheck(ctx, a, 'get')),
      summary: applicationSummary,
      snapshotEvent: 'applications',
      changesEvent: 'application-changes',
    },
    rollout: {
      cache: ctx.rollouts,
      mayRead: (req, ro) => {
        try {
          return can(ctx, req, ctx.rolloutCheck(ro, undefined));
        } catch {
          return false; // the Application list is not loaded yet: show nothing rather than guess
        }
      },
      summary: rolloutSummary,
      snapshotEvent: 'rollouts',
      changesEvent: 'rollout-changes',
    },
    applicationset: {
      cache: ctx.applicationSets,
      mayRead: (req, s) => can(ctx, req, appSetCheck(ctx, s, 'get')),
      summary: applicationSetSummary,
      snapshotEvent: 'applicationsets',
      changesEvent: 'applicationset-changes',
    },
  };
  const listKind: Record<ListKind, ObjectKind> = { applications: 'application', rollouts: 'rollout', applicationsets: 'applicationset' };

  app.get<{ Querystring: { watch: string } }>(
    '/api/v1/stream',
    {
      config: {
        summary: `server-sent events: a snapshot, then changes, of what \`watch\` names (${LISTS.join(', ')}, ${OBJECTS.map((o) => `${o}/<ns>/<name>`).join(', ')}), filtered by RBAC`,
        tags: ['dashboard'],
      } satisfies RouteDoc,
      schema: { querystring: { type: 'object', required: ['watch'], properties: { watch: { type: 'string', maxLength: 2000 } }, additionalProperties: false } },
    },
    async (req, reply) => {
      const watches = parseWatch(req.query.watch);
      const lists = new Set(watches.filter((w) => !('namespace' in w)).map((w) => listKind[w.kind as ListKind]));
      const objects = watches.filter((w): w is Extract<Watch, { namespace: string }> => 'namespace' in w);
      const kinds = new Set<ObjectKind>([...lists, ...objects.map((w) => w.kind)]);
      // What changed since the last write, per kind: a key, or '*' for everything (a snapshot).
      const dirty = new Map<ObjectKind, Set<string>>([...kinds].map((k) => [k, new Set(['*'])]));
      let timer: NodeJS.Timeout | undefined;

      reply.hijack();
      const res: ServerResponse = reply.raw;
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      // One compressor for the whole stream, so later changes compress against the snapshot too.
      const zip = gzip ? zlib.createGzip({ level: 6 }) : undefined;
      zip?.pipe(res);
      zip?.on('error', () => res.destroy());
      const out: Writable = zip ?? res;
      const write = (text: string) => {
        if (res.destroyed || out.writableEnded) return;
        out.write(text);
        // A sync flush: what was written goes out now, not when the compressor's buffer fills (a full
        // flush, the default, would also drop the history later changes compress against).
        zip?.flush(zlib.constants.Z_SYNC_FLUSH);
      };
      const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

      const flush = () => {
        timer = undefined;
        if (res.destroyed) return;
        for (const kind of lists) {
          const src = sources[kind];
          const changed = dirty.get(kind)!;
          if (!changed.size) continue;
          if (changed.has('*'))
            send(src.snapshotEvent, {
              items: src.cache
                .list()
                .filter((o) => src.mayRead(req, o))
                .map(src.summary),
            });
          else {
            const changes = [...changed].map((k) => {
              const [ns, name] = k.split('/');
              const o = src.cache.get(ns, name);
              return o && src.mayRead(req, o) ? { key: k, item: src.summary(o) } : { key: k, item: null };
            });
            send(src.changesEvent, { changes });
          }
        }
        for (const w of objects) {
          const k = `${w.namespace}/${w.name}`;
          const changed = dirty.get(w.kind)!;
          if (!changed.has('*') && !changed.has(k)) continue;
          const src = sources[w.kind];
          const obj = src.cache.get(w.namespace, w.name);
          send('object', { kind: w.kind, key: k, object: obj && src.mayRead(req, obj) ? withoutManagedFields(obj) : null });
        }
        for (const d of dirty.values()) d.clear();
      };
      const schedule = () => (timer ??= setTimeout(flush, FLUSH_MS));
      const mark = (changed: Set<string>) => (change: CacheChange<KubeObject>) => {
        changed.add(change.type === 'RELISTED' ? '*' : key(change.obj));
        schedule();
      };
      const onAnalysisRun = (change: CacheChange<KubeObject>) => {
        const rollouts = dirty.get('rollout')!;
        if (change.type === 'RELISTED') return mark(rollouts)(change);
        const owner = change.obj.metadata.ownerReferences?.find((o) => o.kind === 'Rollout');
        if (owner) {
          rollouts.add(`${change.obj.metadata.namespace}/${owner.name}`);
          schedule();
        }
      };
      const unsubscribe = [
        ...[...kinds].map((kind) => sources[kind].cache.subscribe(mark(dirty.get(kind)!))),
        ...(objects.some((w) => w.kind === 'rollout') ? [ctx.analysisRuns.subscribe(onAnalysisRun)] : []),
      ];
      // A comment line now and then keeps proxies from closing an idle stream; the token is
      // checked again each time, so a revoked or expired one stops the stream within that period.
      const keepalive = setInterval(() => {
        ctx.access.authenticate(req.headers.authorization).then(
          () => write(': keepalive\n\n'),
          () => out.end(),
        );
      }, KEEPALIVE_MS);
      open.add(out);
      res.on('close', () => {
        open.delete(out);
        for (const u of unsubscribe) u();
        clearInterval(keepalive);
        if (timer) clearTimeout(timer);
        zip?.destroy();
      });
      flush();
    },
  );
}
