// Accounts and their API tokens, as `argocd account` has them. Managing tokens is
// RBAC `accounts, update, <account>`, and, as in Argo CD, an account may always
// manage its own. A token is shown once, in the response that issues it.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Account } from '../auth/accounts';
import { ApiError } from '../errors';
import type { RouteDoc } from '../openapi';
import type { ApiContext } from '../context';
import { SLUICE_CM } from '../../domain/argo/names';

const doc = (summary: string): RouteDoc => ({ summary, tags: ['accounts'] });
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 253 } } } as const;

export function registerAccountRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const self = (req: FastifyRequest, account: string) => req.principal?.account === account;
  const mayManage = (req: FastifyRequest, account: string, action: 'get' | 'update') => {
    if (!self(req, account)) ctx.authorize(req, { resource: 'accounts', action, object: account });
  };
  const view = (a: Account) => ({ name: a.name, enabled: a.enabled, capabilities: a.capabilities, tokens: ctx.access.tokens(a.name) });
  const existing = (name: string) => {
    const a = ctx.access.account(name);
    if (!a) throw new ApiError('NotFound', `account ${name} not found: declare it as accounts.${name} in ConfigMap ${ctx.access.namespace}/${SLUICE_CM}`);
    return a;
  };

  app.get('/api/v1/session', { config: doc('who the token belongs to') }, async (req) => {
    const { account, tokenId } = req.principal!;
    return { account, tokenId, capabilities: ctx.access.account(account)?.capabilities ?? [] };
  });

  app.get<{ Querystring: { resource: string; action: string; object: string } }>(
    '/api/v1/session/can-i',
    {
      config: doc('whether the caller may perform an action, as `argocd account can-i`: yes or no'),
      schema: {
        querystring: {
          type: 'object',
          required: ['resource', 'action', 'object'],
          properties: { resource: { type: 'string', minLength: 1 }, action: { type: 'string', minLength: 1 }, object: { type: 'string', minLength: 1 } },
          additionalProperties: false,
        },
      },
    },
    async (req) => ({ value: ctx.access.can(req.principal!, req.query.resource, req.query.action, req.query.object) ? 'yes' : 'no' }),
  );

  app.get('/api/v1/accounts', { config: doc('accounts the caller may read, with their tokens (never the secrets)') }, async (req) => ({
    items: ctx.access
      .accounts()
      .filter((a) => self(req, a.name) || ctx.access.can(req.principal!, 'accounts', 'get', a.name))
      .map(view),
  }));

  app.get<{ Params: { name: string } }>(
    '/api/v1/accounts/:name',
    { config: doc('one account and its tokens'), schema: { params: nameParams } },
    async (req) => {
      const a = existing(req.params.name);
      mayManage(req, a.name, 'get');
      return view(a);
    },
  );

  app.post<{ Params: { name: string }; Body: { expiresIn?: number; description?: string } | undefined }>(
    '/api/v1/accounts/:name/tokens',
    {
      config: doc('issue an API token for an account with the apiKey capability; the response holds the token, shown only this once'),
      schema: {
        params: nameParams,
        body: {
          type: ['object', 'null'],
          properties: {
            expiresIn: { type: 'integer', minimum: 0, description: 'seconds; 0 or absent: never expires' },
            description: { type: 'string', maxLength: 200 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const a = existing(req.params.name);
      mayManage(req, a.name, 'update');
      if (!a.enabled)
        throw new ApiError('FailedPrecondition', `account ${a.name} is disabled (accounts.${a.name}.enabled in ${ctx.access.namespace}/${SLUICE_CM})`);
      if (!a.capabilities.includes('apiKey'))
        throw new ApiError(
          'FailedPrecondition',
          `account ${a.name} does not have the apiKey capability (accounts.${a.name} in ${ctx.access.namespace}/${SLUICE_CM})`,
        );
      const { token, info } = await ctx.access.issueToken(a.name, req.body?.expiresIn || undefined, req.body?.description);
      return { token, ...info };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    {
      config: doc('revoke a token: requests with it fail from now on'),
      schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{16}$' } } } },
    },
    async (req) => {
      const info = ctx.access.token(req.params.id);
      if (!info) throw new ApiError('NotFound', `token ${req.params.id} not found`);
      mayManage(req, info.account, 'update');
      await ctx.access.revokeToken(info.id);
      return { message: `token ${info.id} of account ${info.account} revoked`, ...info };
    },
  );
}
