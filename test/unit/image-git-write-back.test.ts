// Git write-back against a real repository: `.argocd-source-<app>.yaml` in Helm shape,
// nothing committed when the branch already holds the values, one commit even when the
// worker dies between commit and push, a non-fast-forward push re-applied on the new tip,
// base:target branches, kustomization and Helm values targets, and a path leaving the repo refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { imageUpdateConfig } from '../../domain/images/annotations';
import { writeBackFile } from '../../domain/images/git-target';
import { gitWriteBack, type GitWriteBackRequest } from '../../activities/images/git-write-back';
import { gitEnv } from '../support/git-fixture';

const env = gitEnv;
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function repo(files: Record<string, string>): {
  bare: string;
  url: string;
  work: string;
  log: (branch?: string) => string[];
  show: (file: string, branch?: string) => string;
  commitFile: (file: string, text: string) => void;
} {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-wb-test-'));
  const bare = path.join(root, 'repo.git');
  const work = path.join(root, 'work');
  git(root, 'init', '-q', '--bare', '-b', 'main', bare);
  git(root, 'clone', '-q', bare, work);
  git(work, 'checkout', '-q', '-b', 'main');
  for (const [f, t] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, f)), { recursive: true });
    fs.writeFileSync(path.join(work, f), t);
  }
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'initial');
  git(work, 'push', '-q', 'origin', 'main');
  return {
    bare,
    url: `file://${bare}`,
    work,
    log: (branch = 'main') => git(bare, 'log', '--format=%s', branch).split('\n'),
    show: (file, branch = 'main') => git(bare, 'show', `${branch}:${file}`),
    commitFile(file, text) {
      git(work, 'pull', '-q', 'origin', 'main');
      fs.writeFileSync(path.join(work, file), text);
      git(work, 'add', file);
      git(work, 'commit', '-q', '-m', `edit ${file}`);
      git(work, 'push', '-q', 'origin', 'main');
    },
  };
}

const P = 'argocd-image-updater.argoproj.io/';
const api = imageUpdateConfig({
  [`${P}image-list`]: 'api-tester=127.0.0.1:5000/api-tester',
  [`${P}api-tester.helm.image-name`]: 'image.repository',
  [`${P}api-tester.helm.image-tag`]: 'image.tag',
})!.images[0]!;

const request = (url: string, tag: string, extra: Partial<GitWriteBackRequest> = {}): GitWriteBackRequest => ({
  repoURL: url,
  baseBranch: 'main',
  targetBranch: 'main',
  appName: 'api-tester',
  appPath: 'deploy/helm/api-tester',
  sourceKind: 'helm',
  target: { kind: 'argocd-source' },
  updates: [{ spec: api, chosen: { tag } }],
  commitTimeMs: 1_700_000_000_000,
  ...extra,
});

test('one commit with .argocd-source-<app>.yaml; the same values again commit nothing', async () => {
  const r = repo({ 'deploy/helm/api-tester/values.yaml': 'image:\n  tag: 1.0.0\n' });
  const first = await gitWriteBack(request(r.url, '1.0.1'));
  assert.equal(first.committed, true);
  assert.equal(first.file, 'deploy/helm/api-tester/.argocd-source-api-tester.yaml');
  assert.deepEqual(parse(r.show(first.file)).helm.parameters[1], { name: 'image.tag', value: '1.0.1', forcestring: true });
  assert.equal(r.log()[0], 'build: automatic update of api-tester');
  assert.match(git(r.bare, 'log', '-1', '--format=%B', 'main'), /updates image 127.0.0.1:5000\/api-tester tag '' to '1.0.1'/);
  const again = await gitWriteBack(request(r.url, '1.0.1'));
  assert.equal(again.committed, false);
  assert.equal(again.commit, first.commit);
  assert.equal(r.log().length, 2);
  const next = await gitWriteBack(request(r.url, '1.2.0'));
  assert.deepEqual(next.changes, [{ image: '127.0.0.1:5000/api-tester', from: '1.0.1', to: '1.2.0' }]);
  assert.equal(r.log().length, 3);
});

test('the worker dies between commit and push: the retry makes the one commit', async () => {
  const r = repo({ 'deploy/helm/api-tester/values.yaml': 'x: 1\n' });
  await assert.rejects(
    gitWriteBack(request(r.url, '2.0.0'), undefined, {
      beforePush: async () => {
        throw new Error('SIGKILL');
      },
    }),
    /SIGKILL/,
  );
  assert.equal(r.log().length, 1);
  const retry = await gitWriteBack(request(r.url, '2.0.0'));
  assert.equal(retry.committed, true);
  // And if it died after the push, the retry finds the change there and commits nothing.
  const afterPush = await gitWriteBack(request(r.url, '2.0.0'));
  assert.equal(afterPush.committed, false);
  assert.deepEqual(r.log(), ['build: automatic update of api-tester', 'initial']);
});

test('a non-fast-forward push fetches, re-applies on the new tip and pushes', async () => {
  const r = repo({ 'deploy/helm/api-tester/values.yaml': 'x: 1\n', README: 'a\n' });
  let raced = false;
  const res = await gitWriteBack(request(r.url, '3.0.0'), undefined, {
    beforePush: async () => {
      if (raced) return;
      raced = true;
      r.commitFile('README', 'someone else\n');
    },
  });
  assert.equal(res.committed, true);
  assert.deepEqual(r.log(), ['build: automatic update of api-tester', 'edit README', 'initial']);
  assert.equal(r.show('README'), 'someone else');
});

test('git-branch base:target pushes to the target branch, later changes build on it', async () => {
  const r = repo({ 'deploy/helm/api-tester/values.yaml': 'x: 1\n' });
  await gitWriteBack(request(r.url, '1.0.1', { targetBranch: 'image-updates' }));
  await gitWriteBack(request(r.url, '1.0.2', { targetBranch: 'image-updates' }));
  assert.deepEqual(r.log('image-updates'), ['build: automatic update of api-tester', 'build: automatic update of api-tester', 'initial']);
  assert.deepEqual(r.log('main'), ['initial']);
});

test('kustomization and helmvalues targets edit those files; a target outside the repo is refused', async () => {
  const r = repo({
    'k/overlays/dev/kustomization.yaml': 'resources:\n  - ../../base\n',
    'k/base/kustomization.yaml': 'resources:\n  - deployment.yaml\nimages:\n  - name: nginx\n    newTag: "1.0"\n',
    'charts/api/values.yaml': '# values\nimage:\n  repository: old\n  tag: 0.1.0\n',
  });
  const web = imageUpdateConfig({ [`${P}image-list`]: 'web=127.0.0.1:5000/web', [`${P}web.kustomize.image-name`]: 'nginx' })!.images[0]!;
  await gitWriteBack(
    request(r.url, '', {
      appPath: 'k/overlays/dev',
      sourceKind: 'kustomize',
      target: { kind: 'kustomization', path: '../../base' },
      updates: [{ spec: web, chosen: { tag: '2.0' } }],
    }),
  );
  assert.deepEqual(parse(r.show('k/base/kustomization.yaml')).images, [{ name: 'nginx', newTag: '2.0', newName: '127.0.0.1:5000/web' }]);
  await gitWriteBack(request(r.url, '0.2.0', { appPath: 'charts/api', target: { kind: 'helmvalues', path: '/charts/api/values.yaml' } }));
  assert.match(r.show('charts/api/values.yaml'), /^# values\nimage:\n {2}repository: 127.0.0.1:5000\/api-tester\n {2}tag: 0.2.0/);
  assert.throws(() => writeBackFile({ kind: 'helmvalues', path: '../../../etc/passwd' }, 'charts/api', 'a'), /outside the repository/);
  await assert.rejects(gitWriteBack(request(r.url, '1', { baseBranch: '--upload-pack=x' })), /invalid branch/);
  await assert.rejects(
    gitWriteBack(request(r.url, '1', { appPath: 'charts/nope', target: { kind: 'helmvalues', path: 'values.yaml' } })),
    /charts\/nope does not exist on branch main/,
  );
  await assert.rejects(
    gitWriteBack(request(r.url, '1', { appPath: 'charts/missing-chart' })),
    /charts\/missing-chart does not exist on branch main; nothing written/,
  );
  await assert.rejects(
    gitWriteBack(request(r.url, '1', { appPath: 'charts/api', target: { kind: 'helmvalues', path: 'other-values.yaml' } })),
    /values file does not exist/,
  );
  assert.equal(git(r.bare, 'log', '--format=%s', 'main').split('\n').length, 3, 'nothing written by the refusals');
});

test('a plain-directory source: the marked lines of every manifest rewritten in one commit, a subdirectory only with recurse, a second run commits nothing', async () => {
  const line = (tag: string) => `image: 127.0.0.1:5000/api-tester:${tag} # {"$imagepolicy": "default:api-tester"}\n`;
  const r = repo({
    'plain/a.yaml': `kind: ConfigMap\n${line('1.0.0')}`,
    'plain/b.yml': `kind: ConfigMap\nother: 127.0.0.1:5000/api-tester:1.0.0\n`,
    'plain/sub/c.yaml': `kind: ConfigMap\n${line('1.0.0')}`,
  });
  const req = request(r.url, '1.1.0', { appPath: 'plain', sourceKind: 'directory' });
  const first = await gitWriteBack(req);
  assert.equal(first.committed, true);
  assert.deepEqual(first.changes, [{ image: '127.0.0.1:5000/api-tester', from: '1.0.0', to: '1.1.0' }]);
  assert.equal(r.show('plain/a.yaml'), `kind: ConfigMap\n${line('1.1.0')}`.trimEnd());
  assert.match(r.show('plain/b.yml'), /api-tester:1\.0\.0/, 'no marker: untouched');
  assert.match(r.show('plain/sub/c.yaml'), /api-tester:1\.0\.0/, 'no recurse: the subdirectory is not read');
  assert.equal((await gitWriteBack(req)).committed, false);
  const deep = await gitWriteBack({ ...req, recurse: true });
  assert.equal(deep.committed, true);
  assert.match(r.show('plain/sub/c.yaml'), /api-tester:1\.1\.0 # \{"\$imagepolicy"/);
  assert.equal(r.log().filter((s) => s.startsWith('build: automatic update of api-tester')).length, 2);
});
