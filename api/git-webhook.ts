// Git push webhooks from GitHub and GitLab, as Argo CD reads them: verify the sender
// (GitHub's HMAC-SHA256 over the body, GitLab's shared token), read which repository
// and branch were pushed, and decide which Applications that push concerns. Pure, apart
// from the HMAC.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ARGOCD_SECRET } from '../domain/argo/names';

export interface GitPush {
  provider: 'github' | 'gitlab';
  /** Every URL the payload gives for the repository (web, https clone, ssh clone). */
  urls: string[];
  /** The pushed branch, without refs/heads/; undefined for a tag push. */
  branch?: string;
  tag?: string;
  defaultBranch?: string;
  revision?: string;
}

export class WebhookRefused extends Error {
  constructor(
    readonly status: 400 | 401 | 503,
    message: string,
  ) {
    super(message);
  }
}

export interface WebhookSecrets {
  github?: string;
  gitlab?: string;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function equalText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Verifies the sender and reads the push; throws WebhookRefused (no secret configured, bad signature, not a push). */
export function readPush(headers: Record<string, string | string[] | undefined>, rawBody: string, secrets: WebhookSecrets): GitPush | undefined {
  const githubEvent = header(headers, 'x-github-event');
  const gitlabEvent = header(headers, 'x-gitlab-event');
  if (githubEvent) {
    if (!secrets.github) throw new WebhookRefused(503, `GitHub webhooks are not configured: set webhook.github.secret in ${ARGOCD_SECRET}`);
    const signature = header(headers, 'x-hub-signature-256') ?? '';
    const expected = `sha256=${createHmac('sha256', secrets.github).update(rawBody).digest('hex')}`;
    if (!equalText(signature, expected)) throw new WebhookRefused(401, 'GitHub webhook signature (X-Hub-Signature-256) does not match');
    if (githubEvent !== 'push') return undefined;
    const body = parse(rawBody);
    const repo = body.repository ?? {};
    return withRef(
      {
        provider: 'github',
        urls: [repo.html_url, repo.clone_url, repo.ssh_url, repo.git_url, repo.url].filter(isText),
        defaultBranch: repo.default_branch ?? repo.master_branch,
        revision: body.after,
      },
      body.ref,
    );
  }
  if (gitlabEvent) {
    if (!secrets.gitlab) throw new WebhookRefused(503, `GitLab webhooks are not configured: set webhook.gitlab.secret in ${ARGOCD_SECRET}`);
    if (!equalText(header(headers, 'x-gitlab-token') ?? '', secrets.gitlab))
      throw new WebhookRefused(401, 'GitLab webhook token (X-Gitlab-Token) does not match');
    if (gitlabEvent !== 'Push Hook' && gitlabEvent !== 'Tag Push Hook') return undefined;
    const body = parse(rawBody);
    const project = body.project ?? body.repository ?? {};
    return withRef(
      {
        provider: 'gitlab',
        urls: [project.web_url, project.git_http_url, project.git_ssh_url, project.homepage, project.url].filter(isText),
        defaultBranch: project.default_branch,
        revision: body.after ?? body.checkout_sha,
      },
      body.ref,
    );
  }
  throw new WebhookRefused(400, 'not a GitHub or GitLab webhook (no X-GitHub-Event or X-Gitlab-Event header)');
}

const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';

function parse(raw: string): any {
  try {
    return JSON.parse(raw);
  } catch {
    throw new WebhookRefused(400, 'the webhook body is not JSON (configure the webhook with content type application/json)');
  }
}

function withRef(push: GitPush, ref: unknown): GitPush {
  if (typeof ref === 'string' && ref.startsWith('refs/heads/')) push.branch = ref.slice('refs/heads/'.length);
  else if (typeof ref === 'string' && ref.startsWith('refs/tags/')) push.tag = ref.slice('refs/tags/'.length);
  return push;
}

/** Repository URLs compared as Argo CD does: scheme, credentials, ".git" and case aside; scp-like ssh as its host/path. */
export function normalizeRepoURL(url: string): string {
  let u = url.trim().toLowerCase();
  const scp = /^[^@/]+@([^:/]+):(.+)$/.exec(u);
  if (scp) u = `${scp[1]}/${scp[2]}`;
  u = u.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/^[^@/]+@/, '');
  u = u.replace(/:\d+\//, '/');
  return u.replace(/\/+$/, '').replace(/\.git$/, '');
}

/** Whether a push concerns an Application source: same repository, and its targetRevision follows the pushed branch or tag. */
export function pushConcerns(push: GitPush, source: { repoURL?: string; targetRevision?: string } | undefined): boolean {
  if (!source?.repoURL) return false;
  const repo = normalizeRepoURL(source.repoURL);
  if (!push.urls.some((u) => normalizeRepoURL(u) === repo)) return false;
  const target = (source.targetRevision ?? '').trim();
  if (target === '' || target === 'HEAD') return push.branch !== undefined && (push.defaultBranch === undefined || push.branch === push.defaultBranch);
  const bare = target.replace(/^refs\/(heads|tags)\//, '');
  return bare === push.branch || bare === push.tag;
}
