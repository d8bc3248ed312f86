import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { normalizeRepoURL, pushConcerns, readPush, WebhookRefused } from '../../api/git-webhook';

const githubBody = JSON.stringify({
  ref: 'refs/heads/main',
  after: 'abc123',
  repository: {
    html_url: 'https://github.com/devops/ops-deploy',
    clone_url: 'https://github.com/devops/ops-deploy.git',
    ssh_url: 'git@github.com:devops/ops-deploy.git',
    default_branch: 'main',
  },
});
const sign = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

test('GitHub: the HMAC signature over the raw body is checked, then the push is read', () => {
  const push = readPush({ 'x-github-event': 'push', 'x-hub-signature-256': sign(githubBody, 's3cret') }, githubBody, { github: 's3cret' });
  assert.equal(push?.branch, 'main');
  assert.equal(push?.revision, 'abc123');
  assert.ok(push?.urls.includes('git@github.com:devops/ops-deploy.git'));
  assert.throws(
    () => readPush({ 'x-github-event': 'push', 'x-hub-signature-256': sign(githubBody, 'wrong') }, githubBody, { github: 's3cret' }),
    (e: unknown) => e instanceof WebhookRefused && e.status === 401,
  );
  assert.throws(
    () => readPush({ 'x-github-event': 'push' }, githubBody, {}),
    (e: unknown) => e instanceof WebhookRefused && e.status === 503,
  );
  assert.equal(readPush({ 'x-github-event': 'ping', 'x-hub-signature-256': sign('{}', 's') }, '{}', { github: 's' }), undefined);
});

test('GitLab: the shared token is checked; tag pushes carry the tag', () => {
  const body = JSON.stringify({ ref: 'refs/tags/v1.2.0', project: { web_url: 'https://gitlab.example.com/devops/ops-deploy', default_branch: 'main' } });
  const push = readPush({ 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': 'tok' }, body, { gitlab: 'tok' });
  assert.equal(push?.tag, 'v1.2.0');
  assert.equal(push?.branch, undefined);
  assert.throws(() => readPush({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' }, body, { gitlab: 'tok' }), /does not match/);
  assert.throws(
    () => readPush({}, body, {}),
    (e: unknown) => e instanceof WebhookRefused && e.status === 400,
  );
});

test('repository URLs compare across https, ssh and .git forms', () => {
  const a = normalizeRepoURL('https://GitHub.com/devops/ops-deploy.git');
  assert.equal(a, 'github.com/devops/ops-deploy');
  assert.equal(normalizeRepoURL('git@github.com:devops/ops-deploy.git'), a);
  assert.equal(normalizeRepoURL('ssh://git@github.com:22/devops/ops-deploy'), a);
  assert.equal(normalizeRepoURL('https://user:tok@github.com/devops/ops-deploy/'), a);
});

test('a push concerns Applications of that repository that follow the pushed branch (HEAD = the default branch)', () => {
  const push = readPush({ 'x-github-event': 'push', 'x-hub-signature-256': sign(githubBody, 's') }, githubBody, { github: 's' })!;
  const repoURL = 'git@github.com:devops/ops-deploy.git';
  assert.equal(pushConcerns(push, { repoURL, targetRevision: 'HEAD' }), true);
  assert.equal(pushConcerns(push, { repoURL }), true);
  assert.equal(pushConcerns(push, { repoURL, targetRevision: 'main' }), true);
  assert.equal(pushConcerns(push, { repoURL, targetRevision: 'release-1' }), false);
  assert.equal(pushConcerns(push, { repoURL, targetRevision: '0123456789abcdef0123456789abcdef01234567' }), false);
  assert.equal(pushConcerns(push, { repoURL: 'https://github.com/other/repo', targetRevision: 'HEAD' }), false);
  assert.equal(pushConcerns({ ...push, branch: 'feature' }, { repoURL, targetRevision: 'HEAD' }), false);
});
