// The HTTP API: JSON over REST, versioned under /api/v1, with request schemas
// validated by Fastify. Errors are {code, message} naming the object.
import Fastify, { type FastifyInstance } from 'fastify';
import { Resources, type KubeClient } from '../k8s/kube-client';
import { CommandRefused, RolloutCommands } from './rollout-commands';

export interface ApiDeps {
  kube: KubeClient;
  commands: RolloutCommands;
}

const refParams = {
  type: 'object',
  required: ['namespace', 'name'],
  properties: { namespace: { type: 'string', minLength: 1 }, name: { type: 'string', minLength: 1 } },
} as const;

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1 << 20 });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    if (err instanceof CommandRefused) return reply.code(err.code === 'NotFound' ? 404 : 409).send({ code: err.code, message: err.message });
    if (err.validation) return reply.code(400).send({ code: 'InvalidRequest', message: err.message });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    return reply.code(status).send({ code: status === 500 ? 'Internal' : 'InvalidRequest', message: err.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get<{ Querystring: { namespace?: string } }>('/api/v1/rollouts', async (req) => {
    const { items } = await deps.kube.list(Resources.rollout, req.query.namespace);
    return { items: items.map((ro) => ({ namespace: ro.metadata.namespace, name: ro.metadata.name, status: ro.status ?? {} })) };
  });

  app.get<{ Params: { namespace: string; name: string } }>('/api/v1/namespaces/:namespace/rollouts/:name', { schema: { params: refParams } }, async (req, reply) => {
    const { namespace, name } = req.params;
    const ro = await deps.kube.find(Resources.rollout, namespace, name);
    if (!ro) return reply.code(404).send({ code: 'NotFound', message: `rollout ${namespace}/${name} not found` });
    const view = await deps.commands.view({ namespace, name }).catch(() => undefined);
    return { rollout: ro, workflow: view };
  });

  app.post<{ Params: { namespace: string; name: string }; Body: { full?: boolean } | undefined }>(
    '/api/v1/namespaces/:namespace/rollouts/:name/promote',
    { schema: { params: refParams, body: { type: ['object', 'null'], properties: { full: { type: 'boolean' } }, additionalProperties: false } } },
    async (req) => deps.commands.promote(req.params, req.body?.full ?? false),
  );

  return app;
}
