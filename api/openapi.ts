// The OpenAPI 3 description at /api/openapi.json, built from the routes' own JSON
// schemas as Fastify registers them, so the document cannot drift from validation.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { errorSchema } from './errors';

export interface RouteDoc {
  summary?: string;
  /** No bearer token needed (health, readiness, metrics, this document). */
  public?: boolean;
  tags?: string[];
}

const ERROR_RESPONSES: Record<string, string> = {
  '400': 'malformed JSON or an invalid request',
  '401': 'no token, or an unknown, expired or revoked token',
  '403': 'the account may not perform this action on this object',
  '404': 'the object does not exist',
  '409': "the command was refused in the object's current state",
  '413': 'the request body is too large',
};

export function collectOpenApi(app: FastifyInstance, info: { title: string; version: string }): () => object {
  const paths: Record<string, Record<string, object>> = {};
  app.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url;
    if (url.includes('*')) return;
    const doc = (route.config ?? {}) as RouteDoc;
    const schema = (route.schema ?? {}) as { params?: any; querystring?: any; body?: any; response?: Record<string, object> };
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const openPath = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters = [
      ...Object.entries(schema.params?.properties ?? {}).map(([name, s]) => ({ name, in: 'path', required: true, schema: s })),
      ...Object.entries(schema.querystring?.properties ?? {}).map(([name, s]) => ({
        name,
        in: 'query',
        required: (schema.querystring?.required ?? []).includes(name),
        schema: s,
      })),
    ];
    const responses: Record<string, object> = {
      '200': { description: 'OK', ...(schema.response?.['200'] ? { content: { 'application/json': { schema: schema.response['200'] } } } : {}) },
    };
    for (const [code, description] of Object.entries(ERROR_RESPONSES)) {
      if (doc.public && code !== '404') continue;
      responses[code] = { description, content: { 'application/json': { schema: errorSchema } } };
    }
    for (const method of methods) {
      (paths[openPath] ??= {})[method.toLowerCase()] = {
        summary: doc.summary,
        tags: doc.tags,
        ...(doc.public ? { security: [] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(schema.body ? { requestBody: { required: false, content: { 'application/json': { schema: schema.body } } } } : {}),
        responses,
      };
    }
  });
  return () => ({
    openapi: '3.0.3',
    info,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a Sluice API token (sluice account generate-token)' } } },
    security: [{ bearer: [] }],
    paths,
  });
}
