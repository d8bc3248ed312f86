// The git cache against repositories in temporary directories (the git CLI, no servers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GitRepositories } from '../../activities/git';
import { gitEnv } from '../support/git-fixture';

const env = gitEnv;
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { env })
    .toString()
    .trim();

function repository(): { dir: string; url: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-git-unit-'));
  execFileSync('git', ['init', '-q', '-b', 'main', dir], { env });
  fs.mkdirSync(path.join(dir, 'app'));
  fs.writeFileSync(path.join(dir, 'app', 'cm.yaml'), 'v1');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'one');
  git(dir, 'tag', '-a', 'v1', '-m', 'release');
  return { dir, url: `file://${dir}` };
}

test('targetRevision: HEAD, branch, annotated tag, full and short SHA resolve to the commit; a new commit is seen', async () => {
  const repo = repository();
  const repos = new GitRepositories(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-git-home-')));
  const first = git(repo.dir, 'rev-parse', 'HEAD');
  for (const rev of [undefined, 'HEAD', 'main', 'v1', first, first.slice(0, 10)]) assert.equal(await repos.resolve(repo.url, rev), first, String(rev));
  await assert.rejects(repos.resolve(repo.url, 'no-such-branch'), /targetRevision "no-such-branch" is not a branch, tag or commit/);
  await assert.rejects(repos.resolve(repo.url, '--upload-pack=x'), /starts with "-"; refused/);

  fs.writeFileSync(path.join(repo.dir, 'app', 'cm.yaml'), 'v2');
  git(repo.dir, 'commit', '-qam', 'two');
  const second = git(repo.dir, 'rev-parse', 'HEAD');
  assert.equal(await repos.resolve(repo.url, 'HEAD'), second);
  assert.equal(await repos.resolve(repo.url, 'v1'), first);

  const tree = await repos.tree(repo.url, first);
  assert.equal(fs.readFileSync(path.join(tree, 'app', 'cm.yaml'), 'utf8'), 'v1');
  assert.equal(await repos.tree(repo.url, first), tree, 'a commit is exported once');
});

test('concurrent requests share one fetch; refused URLs never reach git; credentials never appear in errors', async () => {
  const repo = repository();
  const repos = new GitRepositories(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-git-home-')));
  const shas = await Promise.all(Array.from({ length: 20 }, () => repos.resolve(repo.url, 'HEAD')));
  assert.equal(new Set(shas).size, 1);
  await assert.rejects(repos.resolve('ext::sh -c touch% /tmp/x', 'HEAD'), /remote helper; refused/);
  await assert.rejects(repos.resolve('-oProxyCommand=x', 'HEAD'), /starts with "-"/);
  const err = await repos.resolve('http://bob:hunter2@127.0.0.1:1/repo.git', 'HEAD').catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.doesNotMatch(err.message, /hunter2/);
  assert.match(err.message, /git fetch failed/);
});
