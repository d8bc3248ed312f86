import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRepoURL, checkSourcePath, pickRepoCredentials, redactURL, SourceRefusedError } from '../../domain/applications/source-safety';

test('repoURL: plain transports pass, command-running ones are refused', () => {
  for (const ok of ['https://git.example.com/devops/ops-deploy', 'ssh://git@host/repo.git', 'git@github.com:org/repo.git', 'file:///tmp/repo', 'http://h/r']) {
    assert.equal(checkRepoURL(ok, { allowFileRepos: true }), ok);
  }
  for (const bad of [
    'ext::sh -c touch% /tmp/pwned',
    '-uhelp',
    '--upload-pack=touch /tmp/x',
    'fd::17',
    'transport::https://h/r',
    'ftp://h/r',
    'gopher://h/r',
    '',
    'just-a-word',
    'https://h/r\n',
  ]) {
    assert.throws(() => checkRepoURL(bad), SourceRefusedError, bad);
  }
  assert.match(
    String(
      (() => {
        try {
          checkRepoURL('ext::sh -c x');
        } catch (e) {
          return (e as Error).message;
        }
      })(),
    ),
    /spec\.source\.repoURL .*remote helper/,
  );
});

test('file:// repositories are refused unless allowed, and the refusal says how to allow them', () => {
  assert.throws(
    () => checkRepoURL('file:///var/lib/other-team/repo'),
    (err: Error) => {
      assert.ok(err instanceof SourceRefusedError);
      assert.match(err.message, /file:\/\/ repository on the controller's own disk; refused/);
      assert.match(err.message, /SLUICE_ALLOW_FILE_REPOS=true/);
      return true;
    },
  );
  assert.throws(() => checkRepoURL('FILE:///tmp/repo', { allowFileRepos: false }), SourceRefusedError);
  assert.equal(checkRepoURL('file:///tmp/repo', { allowFileRepos: true }), 'file:///tmp/repo');
  // Other transports do not depend on the setting.
  assert.equal(checkRepoURL('https://h/r'), 'https://h/r');
});

test('source path: relative paths normalised; absolute and .. refused', () => {
  assert.equal(checkSourcePath('sync-waves-demo'), 'sync-waves-demo');
  assert.equal(checkSourcePath('./kustomize-demo//overlays/dev/'), 'kustomize-demo/overlays/dev');
  assert.equal(checkSourcePath(undefined), '');
  assert.equal(checkSourcePath('.'), '');
  assert.throws(() => checkSourcePath('../other'), /leaves the repository/);
  assert.throws(() => checkSourcePath('apps/../../etc'), /leaves the repository/);
  assert.throws(() => checkSourcePath('/etc'), /absolute/);
});

test('credentials in URLs are redacted', () => {
  assert.equal(redactURL('fatal: unable to access https://bob:s3cret@git.example.com/r/'), 'fatal: unable to access https://***@git.example.com/r/');
  assert.equal(redactURL('https://git.example.com/r'), 'https://git.example.com/r');
});

test('repository credentials: exact repository Secret first, else the longest repo-creds prefix', () => {
  const secrets = [
    { type: 'repo-creds' as const, url: 'https://git.example.com/', id: 'all' },
    { type: 'repo-creds' as const, url: 'https://git.example.com/devops', id: 'devops' },
    { type: 'repository' as const, url: 'https://git.example.com/devops/ops-deploy.git', id: 'exact' },
  ];
  assert.equal(pickRepoCredentials('https://git.example.com/devops/ops-deploy', secrets)?.id, 'exact');
  assert.equal(pickRepoCredentials('https://git.example.com/devops/other', secrets)?.id, 'devops');
  assert.equal(pickRepoCredentials('https://git.example.com/x', secrets)?.id, 'all');
  assert.equal(pickRepoCredentials('https://elsewhere/x', secrets), undefined);
});
