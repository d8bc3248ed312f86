// Image Updater's write branch template: its data (names, the change list's SHA256) as
// Image Updater gives them, the 255-character cut, names git could misread refused, and
// the git-branch annotation split at the first ':' only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { changeListDigestInput, templateImageName, writeBranchData, writeBranchName } from '../../domain/images/write-branch';
import { imageUpdateConfig } from '../../domain/images/annotations';
import { parseImageReference } from '../../domain/images/reference';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('SHA256 is the digest of name-old-new per change, as Image Updater computes it', () => {
  const changes = [{ alias: 'bar', image: parseImageReference('foo/bar'), from: '1.0', to: '1.1' }];
  // Image Updater's own test vector for foo/bar 1.0 -> 1.1.
  assert.equal(sha256(changeListDigestInput(changes)), '0fcc2782543e4bb067c174c21bf44eb947f3e55c0d62c403e359c1c209cbd041');
  const data = writeBranchData(changes, 'x');
  assert.deepEqual(data.Images, [{ Name: 'foo/bar', Alias: 'bar', OldTag: '1.0', NewTag: '1.1' }]);
  assert.deepEqual([data.AppName, data.AppNamespace, data.TargetKey], ['', '', '']);
});

test("image names: the registry path, without Docker Hub's implied library/", () => {
  assert.equal(templateImageName(parseImageReference('nginx')), 'nginx');
  assert.equal(templateImageName(parseImageReference('library/nginx')), 'library/nginx');
  assert.equal(templateImageName(parseImageReference('ghcr.io/team/web')), 'team/web');
  assert.equal(templateImageName(parseImageReference('localhost:5000/web')), 'web');
});

test('the rendered name: cut at 255 characters; empty or unsafe names refused', () => {
  const long = 'image-updater-' + 'x'.repeat(300);
  assert.deepEqual(writeBranchName(long, 't'), { branch: long.slice(0, 255) });
  assert.match((writeBranchName('  ', 't') as { problem: string }).problem, /empty branch name/);
  assert.match((writeBranchName('-delete', 't') as { problem: string }).problem, /not a branch name git accepts/);
  assert.match((writeBranchName('a..b', 't') as { problem: string }).problem, /not a branch name git accepts/);
});

test('git-branch: a template after the first colon is kept to render; other colons are no branch', () => {
  const P = 'argocd-image-updater.argoproj.io/';
  const cfg = (branch: string) => imageUpdateConfig({ [`${P}image-list`]: 'web=nginx', [`${P}write-back-method`]: 'git', [`${P}git-branch`]: branch })!;
  const templated = cfg('main:image-updater-{{.SHA256}}');
  assert.deepEqual(templated.problems, []);
  assert.equal(templated.writeBack.method === 'git' && templated.writeBack.targetBranchTemplate, 'image-updater-{{.SHA256}}');
  assert.equal(templated.writeBack.method === 'git' && templated.writeBack.baseBranch, 'main');
  const plain = cfg('main:release');
  assert.equal(plain.writeBack.method === 'git' && plain.writeBack.targetBranch, 'release');
  assert.match(
    cfg('main:a:b')
      .problems.map((p) => p.message)
      .join(),
    /invalid git-branch/,
  );
});
