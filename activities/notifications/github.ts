// Argo's GitHub service: commit statuses and deployments through GitHub's REST API.
// `service.github: {appID, installationID, privateKey, enterpriseBaseURL}` as in Argo (a GitHub
// App: a JWT signed with the private key buys an installation token), or `token` (a personal or
// fine-grained token; Sluice's addition), and `apiURL` to name the REST root outright (Sluice's,
// for a proxy or a test receiver). Template block `github: {repoURLPath, revisionPath, status:
// {state, label, targetURL}, deployment: {state, environment, environmentURL, logURL,
// requiredContexts, autoMerge, transientEnvironment, reference}}`; the description is the
// message cut to 140 characters. A deployment for the revision and environment is reused when
// one exists, so a retried send adds a status to it rather than a second deployment. Also
// Argo's `pullRequestComment: {content, commentTag}` on each pull request holding the revision
// (the comment carrying the tag is edited; without a tag Sluice tags it with the firing, so a
// retry edits rather than repeats it), `checkRun: {name, details_url, status, conclusion,
// started_at, completed_at, output: {title, summary, text}}` and `repositoryDispatch:
// {event_type, client_payload}` (JSON text).
import { createHash, createSign } from 'node:crypto';
import {
  block,
  jsonField,
  httpSend,
  insecureOption,
  optionString,
  PermanentSendError,
  serviceKey,
  type HttpAnswer,
  type NotificationService,
  type SendContext,
} from './service';
import type { ServiceConfig } from '../../domain/notifications/config';

const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const trunc = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 3).join('')}...` : s);
const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** `owner/repo` from an https, ssh or scp-style git URL, as Argo's repo.FullNameByRepoURL. */
export function fullNameByRepoURL(repoURL: string): string | undefined {
  const url = repoURL.trim();
  let path: string;
  const scp = /^[^/@:]+@[^/:]+:(.*)$/.exec(url);
  if (scp && !url.includes('://')) path = scp[1]!;
  else {
    try {
      path = new URL(url).pathname;
    } catch {
      return undefined;
    }
  }
  const parts = path
    .replace(/\.git$/, '')
    .split('/')
    .filter((p) => p !== '');
  return parts.length >= 2 ? `${parts[0]}/${parts[1]}` : undefined;
}

/** The REST root: `apiURL` as is; `enterpriseBaseURL` with `/api/v3` added as go-github adds it; else api.github.com. */
export function githubApiRoot(o: Record<string, unknown>): string {
  const explicit = optionString(o, 'apiURL');
  if (explicit) return explicit.replace(/\/$/, '');
  const enterprise = optionString(o, 'enterpriseBaseURL');
  if (!enterprise) return 'https://api.github.com';
  const u = new URL(enterprise);
  const path = u.pathname.replace(/\/$/, '');
  if (!path.endsWith('/api/v3') && !u.hostname.startsWith('api.') && !u.hostname.includes('.api.')) u.pathname = `${path}/api/v3`;
  return u.toString().replace(/\/$/, '');
}

// Installation tokens live an hour; kept in memory (never in history) until a minute before.
const tokens = new Map<string, { token: string; until: number }>();

async function authorization(config: ServiceConfig, api: string, ctx: SendContext): Promise<string> {
  const o = config.options;
  const token = optionString(o, 'token');
  if (token) return `Bearer ${token}`;
  const appID = String(o.appID ?? '');
  const installationID = String(o.installationID ?? '');
  const privateKey = optionString(o, 'privateKey');
  if (!/^\d+$/.test(appID) || !/^\d+$/.test(installationID) || !privateKey) {
    throw new PermanentSendError(`${serviceKey(config)}: needs appID, installationID and privateKey (a GitHub App), or token`);
  }
  const cacheKey = `${api}|${appID}|${installationID}`;
  const cached = tokens.get(cacheKey);
  if (cached && cached.until > Date.now()) return `token ${cached.token}`;
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify({ iat: now - 60, exp: now + 540, iss: appID }))}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(unsigned).sign(privateKey, 'base64url');
  } catch {
    throw new PermanentSendError(`${serviceKey(config)}: privateKey is not a PEM RSA private key`);
  }
  const answer = await httpSend(
    'github (installation token)',
    {
      url: `${api}/app/installations/${installationID}/access_tokens`,
      method: 'POST',
      headers: { Authorization: `Bearer ${unsigned}.${signature}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
      insecureSkipVerify: insecureOption(o),
      detail: githubMessage,
      permanent: rateLimitedIsRetryable,
    },
    ctx,
  );
  const d = (answer.data ?? {}) as { token?: unknown; expires_at?: unknown };
  if (typeof d.token !== 'string') throw new Error('github: the installation token answer has no token');
  const expires = typeof d.expires_at === 'string' ? Date.parse(d.expires_at) : NaN;
  tokens.set(cacheKey, { token: d.token, until: (Number.isFinite(expires) ? expires : Date.now() + 3_600_000) - 60_000 });
  return `token ${d.token}`;
}

const githubMessage = (a: HttpAnswer): string | undefined => {
  const d = a.data as { message?: unknown } | undefined;
  return d && typeof d.message === 'string' ? d.message : undefined;
};

// GitHub answers 403 (or 429) when a rate limit is hit: that passes; other 4xx do not.
const rateLimitedIsRetryable = (a: HttpAnswer): boolean | undefined => {
  if (a.status === 429) return false;
  if (a.status === 403 && (a.headers['x-ratelimit-remaining'] === '0' || a.headers['retry-after'] !== undefined || /rate limit/i.test(githubMessage(a) ?? '')))
    return false;
  return undefined;
};

export const github: NotificationService = {
  templateDefaults: {
    repoURLPath: '{{.app.spec.source.repoURL}}',
    revisionPath: '{{.app.status.operationState.syncResult.revision}}',
  },

  async send(notification, _destination, config, ctx) {
    if (!isMap(notification.github)) throw new PermanentSendError('github: the template has no github block');
    const g = block(notification, 'github');
    const repoURL = text(g.repoURLPath);
    const revision = text(g.revisionPath).trim();
    const fullName = fullNameByRepoURL(repoURL);
    if (!fullName) throw new PermanentSendError(`github: repoURLPath gave ${JSON.stringify(repoURL)}, which names no owner/repository`);
    if (!revision) throw new PermanentSendError('github: revisionPath gave an empty revision');
    const status = isMap(g.status) ? g.status : undefined;
    const deployment = isMap(g.deployment) ? g.deployment : undefined;
    const comment = isMap(g.pullRequestComment) ? g.pullRequestComment : undefined;
    const checkRun = isMap(g.checkRun) ? g.checkRun : undefined;
    const dispatch = isMap(g.repositoryDispatch) ? g.repositoryDispatch : undefined;
    if (!status && !deployment && !comment && !checkRun && !dispatch) {
      throw new PermanentSendError("github: the template's github block has none of status, deployment, pullRequestComment, checkRun, repositoryDispatch");
    }
    // Checked before anything is sent, so a bad field never leaves half a notification behind.
    const run = checkRun ? checkRunRequest(checkRun, revision) : undefined;
    const clientPayload = dispatch ? jsonField('github', 'repositoryDispatch.client_payload', dispatch.client_payload) : undefined;

    const api = githubApiRoot(config.options);
    const repo = `${api}/repos/${fullName.split('/').map(encodeURIComponent).join('/')}`;
    const auth = await authorization(config, api, ctx);
    const description = trunc(text(notification.message), 140);
    const call = (method: string, path: string, data?: unknown, permanent = rateLimitedIsRetryable) =>
      httpSend(
        'github',
        {
          url: `${repo}${path}`,
          method,
          headers: { Authorization: auth, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
          ...(data !== undefined ? { data } : {}),
          insecureSkipVerify: insecureOption(config.options),
          detail: githubMessage,
          permanent,
        },
        ctx,
      );

    if (status) {
      // 422 on a status: the commit has the most statuses GitHub keeps for this context (Argo does not retry it either).
      await call('POST', `/statuses/${encodeURIComponent(revision)}`, {
        state: text(status.state),
        description,
        context: text(status.label),
        ...(text(status.targetURL) ? { target_url: text(status.targetURL) } : {}),
      });
    }
    if (deployment) {
      const environment = text(deployment.environment);
      const listed = await call('GET', `/deployments?${new URLSearchParams({ ref: revision, environment }).toString()}`);
      let id = Array.isArray(listed.data) && isMap(listed.data[0]) ? listed.data[0].id : undefined;
      if (id === undefined) {
        const created = await call('POST', '/deployments', {
          ref: text(deployment.reference) || revision,
          environment,
          ...(Array.isArray(deployment.requiredContexts) ? { required_contexts: deployment.requiredContexts.map(String) } : {}),
          auto_merge: deployment.autoMerge === undefined ? true : deployment.autoMerge === true || deployment.autoMerge === 'true',
          transient_environment: deployment.transientEnvironment === true || deployment.transientEnvironment === 'true',
          description,
        });
        id = isMap(created.data) ? created.data.id : undefined;
        // 202 with a message: GitHub merged the default branch first and made no deployment yet.
        if (id === undefined) throw new Error(`github: no deployment was created${githubMessage(created) ? `: ${githubMessage(created)}` : ''}`);
      }
      await call('POST', `/deployments/${encodeURIComponent(String(id))}/statuses`, {
        state: text(deployment.state),
        description,
        environment,
        ...(text(deployment.logURL) ? { log_url: text(deployment.logURL) } : {}),
        ...(text(deployment.environmentURL) ? { environment_url: text(deployment.environmentURL) } : {}),
      });
    }
    if (comment) {
      const tag = text(comment.commentTag);
      const marker = `<!-- ${tag ? `argocd-notifications ${tag}` : `sluice-notification ${createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 16)}`} -->`;
      const body = `${trunc(text(comment.content), 65536 - marker.length - 1)}\n${marker}`;
      const pulls = await call('GET', `/commits/${encodeURIComponent(revision)}/pulls?per_page=100`);
      for (const pr of Array.isArray(pulls.data) ? pulls.data.filter(isMap) : []) {
        const comments = await call('GET', `/issues/${Number(pr.number)}/comments?per_page=100`);
        const existing = (Array.isArray(comments.data) ? comments.data.filter(isMap) : []).find((c) => text(c.body).includes(marker));
        if (existing) await call('PATCH', `/issues/comments/${Number(existing.id)}`, { body });
        else await call('POST', `/issues/${Number(pr.number)}/comments`, { body });
      }
    }
    if (run) await call('POST', '/check-runs', run);
    if (dispatch)
      await call('POST', '/dispatches', { event_type: text(dispatch.event_type), ...(clientPayload !== undefined ? { client_payload: clientPayload } : {}) });
  },
};

/** A check run as Argo builds it: a conclusion alone means completed; completed needs a conclusion; times are RFC 3339. */
function checkRunRequest(c: Record<string, unknown>, revision: string): Record<string, unknown> {
  const conclusion = text(c.conclusion);
  const status = text(c.status) || (conclusion ? 'completed' : '');
  if ((status === 'completed' || text(c.completed_at)) && !conclusion) {
    throw new PermanentSendError('github: checkRun needs a conclusion when its status is completed or completed_at is set');
  }
  const time = (field: 'started_at' | 'completed_at') => {
    const v = text(c[field]);
    if (!v) return {};
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(v) || Number.isNaN(Date.parse(v))) {
      throw new PermanentSendError(`github: checkRun.${field} ${JSON.stringify(v)} is not an RFC 3339 time`);
    }
    return { [field]: new Date(v).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  };
  const output = isMap(c.output) ? { title: text(c.output.title), summary: text(c.output.summary), text: text(c.output.text) } : undefined;
  return {
    name: text(c.name),
    head_sha: revision,
    external_id: 'argocd-notifications',
    ...(text(c.details_url) ? { details_url: text(c.details_url) } : {}),
    ...(status ? { status } : {}),
    ...(conclusion ? { conclusion } : {}),
    ...time('started_at'),
    ...time('completed_at'),
    ...(output ? { output } : {}),
  };
}
