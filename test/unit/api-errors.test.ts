import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { mintToken } from '../../domain/rbac/tokens';
import { ApiError, errorBody, toApiError } from '../../api/errors';
import { collectOpenApi } from '../../api/openapi';

test('errors map to status codes and JSON codes the way the API documents', () => {
  const cases: [Parameters<typeof toApiError>[0], number, string][] = [
    [Object.assign(new Error('body too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413, 'PayloadTooLarge'],
    [Object.assign(new Error('body/full must be boolean'), { validation: [{}], statusCode: 400 }), 400, 'InvalidRequest'],
    [new SyntaxError('Unexpected token'), 400, 'InvalidRequest'],
    [Object.assign(new Error('Unsupported Media Type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), 400, 'InvalidRequest'],
    [new ApiError('PermissionDenied', 'no'), 403, 'PermissionDenied'],
    [new Error('boom'), 500, 'Internal'],
  ];
  for (const [err, status, code] of cases) {
    const e = toApiError(err);
    assert.equal(e.status, status, err.message);
    assert.equal(e.code, code, err.message);
  }
});

test('an error body never carries a token', () => {
  const { token } = mintToken('admin', new Date());
  const body = errorBody('InvalidRequest', `malformed JSON body: Unexpected token 's', "${token}" is not valid JSON`);
  assert.ok(!body.message.includes(token));
});

test('the OpenAPI document comes from the route schemas, with bearer security except on public routes', async () => {
  const app = Fastify();
  const build = collectOpenApi(app, { title: 't', version: 'v1' });
  app.get('/healthz', { config: { public: true, summary: 'alive' } }, async () => ({}));
  app.post(
    '/api/v1/namespaces/:namespace/things/:name/poke',
    {
      config: { summary: 'poke a thing', tags: ['things'] },
      schema: {
        params: { type: 'object', properties: { namespace: { type: 'string' }, name: { type: 'string' } } },
        body: { type: 'object', properties: { hard: { type: 'boolean' } } },
      },
    },
    async () => ({}),
  );
  await app.ready();
  const doc = build() as any;
  const poke = doc.paths['/api/v1/namespaces/{namespace}/things/{name}/poke'].post;
  assert.equal(poke.summary, 'poke a thing');
  assert.deepEqual(
    poke.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`),
    ['path:namespace', 'path:name'],
  );
  assert.equal(poke.requestBody.content['application/json'].schema.properties.hard.type, 'boolean');
  assert.ok(poke.responses['401'] && poke.responses['403'] && poke.responses['413']);
  assert.deepEqual(doc.paths['/healthz'].get.security, []);
  assert.equal(doc.paths['/healthz'].get.responses['401'], undefined);
  assert.deepEqual(doc.security, [{ bearer: [] }]);
  await app.close();
});
