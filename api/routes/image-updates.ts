// Image updates on the HTTP API: the registry webhook (POST /api/webhook/registry, Image
// Updater's payload shapes, authenticated by a secret per provider from the Secret
// argocd-image-updater-secret in the control-plane namespace: `webhook.<provider>-secret`,
// compared with the `secret` query parameter, Harbor's Authorization header, or GHCR's
// X-Hub-Signature-256 HMAC), and what each Application's image workflow last found
// (GET …/images) or finds now (POST …/images/check).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { DEFAULT_PROJECT } from '../../domain/argo/names';
import { imageUpdateConfig, IMAGE_LIST_ANNOTATION } from '../../domain/images/annotations';
import { parseRegistryWebhook, RegistryWebhookError } from '../../domain/images/webhooks';
import { appRBACName } from '../../domain/rbac/policy';
import { imageUpdateNudgeSignal, imageUpdateStatusQuery, imageUpdateWorkflowId, type ImageUpdateStatus } from '../../workflows/definitions';
import { ApiError } from '../errors';
import { refParams, type ApiContext } from '../context';

export const IMAGE_UPDATER_SECRET = 'argocd-image-updater-secret';

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function verified(req: FastifyRequest, provider: string, secret: string): boolean {
  if (provider === 'ghcr.io') {
    const sig = String(req.headers['x-hub-signature-256'] ?? '');
    return same(
      sig,
      `sha256=${createHmac('sha256', secret)
        .update(req.rawBody ?? '')
        .digest('hex')}`,
    );
  }
  if (provider === 'harbor' && req.headers.authorization) return same(String(req.headers.authorization), secret);
  return same(String((req.query as { secret?: string }).secret ?? ''), secret);
}

export function imageUpdateRoutes(client: Client | undefined) {
  return (app: FastifyInstance, ctx: ApiContext): void => {
    app.post<{ Querystring: { type?: string; secret?: string } }>(
      '/api/webhook/registry',
      {
        config: {
          public: true,
          summary: 'Registry webhook (Docker Hub, Harbor, Quay, GHCR): check the Applications following the pushed image now',
          tags: ['images'],
        },
      },
      async (req, reply) => {
        let event;
        try {
          event = parseRegistryWebhook(req.body, req.query.type);
        } catch (err) {
          if (err instanceof RegistryWebhookError) return reply.code(400).send({ code: 'InvalidRequest', message: err.message });
          throw err;
        }
        const secret = await ctx.kube.find<{ data?: Record<string, string> }>(Resources.secret, ctx.controlNamespace, IMAGE_UPDATER_SECRET);
        const key = `webhook.${event.provider === 'docker.io' ? 'docker' : event.provider.replace('.io', '')}-secret`;
        const value = secret?.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined;
        if (!value)
          return reply.code(503).send({ code: 'Unavailable', message: `no ${key} in Secret ${IMAGE_UPDATER_SECRET}: ${event.provider} webhooks are refused` });
        if (!verified(req, event.provider, value)) return reply.code(401).send({ code: 'Unauthenticated', message: 'webhook secret mismatch' });
        const nudged: string[] = [];
        for (const a of ctx.applications.list()) {
          const cfg = imageUpdateConfig(a.metadata.annotations);
          if (!cfg?.images.some((s) => event.images.some((i) => i.registry === s.image.registry && i.repository === s.image.repository))) continue;
          const ref = { namespace: a.metadata.namespace ?? '', name: a.metadata.name };
          await client?.workflow
            .getHandle(imageUpdateWorkflowId(ref))
            .signal(imageUpdateNudgeSignal, { reason: `${event.provider} webhook` })
            .catch(() => undefined); // not started yet: the watcher starts it and it checks at once
          nudged.push(`${ref.namespace}/${ref.name}`);
        }
        return { provider: event.provider, images: event.images, nudged };
      },
    );

    const readable = (req: FastifyRequest, a: KubeObject): boolean => {
      try {
        ctx.authorize(req, {
          resource: 'applications',
          action: 'get',
          object: appRBACName(
            (a as { spec?: { project?: string } }).spec?.project || DEFAULT_PROJECT,
            a.metadata.name,
            a.metadata.namespace,
            ctx.controlNamespace,
          ),
        });
        return true;
      } catch {
        return false;
      }
    };
    const status = async (a: KubeObject): Promise<ImageUpdateStatus | null> => {
      if (!client) return null;
      try {
        return await client.workflow
          .getHandle(imageUpdateWorkflowId({ namespace: a.metadata.namespace ?? '', name: a.metadata.name }))
          .query(imageUpdateStatusQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      }
    };
    const summary = (a: KubeObject) => {
      const cfg = imageUpdateConfig(a.metadata.annotations)!;
      return {
        namespace: a.metadata.namespace,
        name: a.metadata.name,
        writeBack: cfg.writeBack.method,
        images: cfg.images.map((s) => ({ alias: s.alias, image: s.image.name, strategy: s.strategy, ...(s.constraint ? { constraint: s.constraint } : {}) })),
        problems: cfg.problems.map((p) => (p.alias ? `image ${p.alias}: ${p.message}` : p.message)),
      };
    };

    app.get(
      '/api/v1/images',
      { config: { summary: 'Applications with image updates, their images and what the last check found', tags: ['images'] } },
      async (req) => {
        const apps = ctx.applications.list().filter((a) => a.metadata.annotations?.[IMAGE_LIST_ANNOTATION] !== undefined && readable(req, a));
        return { items: await Promise.all(apps.map(async (a) => ({ ...summary(a), status: await status(a) }))) };
      },
    );

    const find = (req: FastifyRequest<{ Params: { namespace: string; name: string } }>) => {
      const a = ctx.findApp(req.params);
      if (!a || !readable(req, a)) throw ctx.missingApplication(req, req.params.namespace, req.params.name, 'get');
      if (a.metadata.annotations?.[IMAGE_LIST_ANNOTATION] === undefined)
        throw new ApiError('NotFound', `application ${req.params.namespace}/${req.params.name} has no ${IMAGE_LIST_ANNOTATION} annotation`);
      return a;
    };

    app.get<{ Params: { namespace: string; name: string } }>(
      '/api/v1/namespaces/:namespace/applications/:name/images',
      { config: { summary: "what an Application's image workflow last found and why", tags: ['images'] }, schema: { params: refParams } },
      async (req) => {
        const a = find(req);
        return { ...summary(a), status: await status(a) };
      },
    );

    app.post<{ Params: { namespace: string; name: string } }>(
      '/api/v1/namespaces/:namespace/applications/:name/images/check',
      { config: { summary: 'check the images now (as a registry webhook would) and return what was found', tags: ['images'] }, schema: { params: refParams } },
      async (req) => {
        const a = find(req);
        if (!client) throw new ApiError('Unavailable', 'no workflow client');
        const handle = client.workflow.getHandle(imageUpdateWorkflowId({ namespace: req.params.namespace, name: req.params.name }));
        const before = (await status(a))?.lastCheckedAt;
        try {
          await handle.signal(imageUpdateNudgeSignal, { reason: 'check requested' });
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            throw new ApiError('Unavailable', 'the image update workflow is not running (SLUICE_IMAGE_UPDATES=on starts it)');
          throw err;
        }
        for (let i = 0; i < 60; i++) {
          const s = await status(a);
          if (s?.lastCheckedAt && s.lastCheckedAt !== before) return { ...summary(a), status: s };
          await new Promise((r) => setTimeout(r, 500));
        }
        return { ...summary(a), status: await status(a), pending: true };
      },
    );
  };
}
