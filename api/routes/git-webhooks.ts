// POST /api/webhook (Argo CD's path): GitHub and GitLab push events refresh the
// Applications whose source follows the pushed branch, so a commit is synced within
// seconds instead of at the next reconcile. The secrets are Argo CD's own keys in
// argocd-secret (webhook.github.secret, webhook.gitlab.secret) in the control-plane
// namespace; without one, that provider's webhooks are refused.
import type { FastifyInstance } from 'fastify';
import { Resources } from '../../k8s/kube-client';
import { APPSET_REFRESH_ANNOTATION, ARGOCD_SECRET, REFRESH_ANNOTATION } from '../../domain/argo/names';
import { pushConcerns, readPush, WebhookRefused, type WebhookSecrets } from '../git-webhook';
import type { ApiContext } from '../context';
import { gitSources } from '../../domain/applicationsets/generators/transform';
import type { ApplicationSet } from '../../domain/applicationsets/types';

async function webhookSecrets(ctx: ApiContext): Promise<WebhookSecrets> {
  const secret = await ctx.kube.find<{ data?: Record<string, string> }>(Resources.secret, ctx.controlNamespace, ARGOCD_SECRET);
  const value = (key: string) => (secret?.data?.[key] ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined);
  return { github: value('webhook.github.secret'), gitlab: value('webhook.gitlab.secret') };
}

export function registerGitWebhookRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/api/webhook',
    { config: { public: true, summary: 'Git push webhook (GitHub, GitLab): refresh the Applications that follow the pushed branch', tags: ['applications'] } },
    async (req, reply) => {
      let push;
      try {
        push = readPush(req.headers, req.rawBody ?? '', await webhookSecrets(ctx));
      } catch (err) {
        if (err instanceof WebhookRefused)
          return reply
            .code(err.status)
            .send({ code: err.status === 401 ? 'Unauthenticated' : err.status === 503 ? 'Unavailable' : 'InvalidRequest', message: err.message });
        throw err;
      }
      if (!push) return { refreshed: [] };
      const refreshed: string[] = [];
      const commands = ctx.applicationCommands;
      for (const a of ctx.applications.list()) {
        // A multi-source app follows every one of its sources (a ref source's values included).
        const spec = a.spec as
          { source?: { repoURL?: string; targetRevision?: string }; sources?: { repoURL?: string; targetRevision?: string }[] } | undefined;
        const sources = spec?.sources?.length ? spec.sources : [spec?.source];
        if (!sources.some((s) => pushConcerns(push, s))) continue;
        const ref = { namespace: a.metadata.namespace ?? '', name: a.metadata.name };
        if (commands)
          await commands.refresh(ref).catch(() => undefined); // its workflow not started yet: the watcher starts it with a fresh compare
        else await ctx.kube.patch(Resources.application, ref.namespace, ref.name, { metadata: { annotations: { [REFRESH_ANNOTATION]: 'normal' } } });
        refreshed.push(`${ref.namespace}/${ref.name}`);
      }
      // ApplicationSets whose git generators read the pushed branch generate again (Argo's refresh annotation, which their watcher acts on).
      const applicationSets: string[] = [];
      const sets = await ctx.kube.list<ApplicationSet>(Resources.applicationSet).catch(() => ({ items: [] as ApplicationSet[] }));
      for (const set of sets.items) {
        if (!(set.spec?.generators ?? []).some((g) => gitSources(g).some((s) => pushConcerns(push, s)))) continue;
        const ref = { namespace: set.metadata.namespace ?? '', name: set.metadata.name };
        await ctx.kube
          .patch(Resources.applicationSet, ref.namespace, ref.name, { metadata: { annotations: { [APPSET_REFRESH_ANNOTATION]: 'true' } } })
          .catch(() => undefined);
        applicationSets.push(`${ref.namespace}/${ref.name}`);
      }
      // applicationSets only when a push refreshed some, so the answer to an Application-only push is as before.
      return { refreshed, ...(applicationSets.length > 0 ? { applicationSets } : {}) };
    },
  );
}
