// The GitOps bench's Flux peer: the objects it gives Flux, how it reads Flux's Ready, and
// the smart-HTTP git server it serves the repository with (real git on both ends).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fluxManifests, fluxReady } from '../bench/flux-peer';
import { parseCgiResponse, serveGitOverHttp } from '../support/git-http-server';
import { gitEnv } from '../support/git-fixture';

test('one GitRepository and a pruning Kustomization per application folder, into the same namespace', () => {
  const { gitRepository, kustomizations } = fluxManifests({ namespace: 'bench', repoUrl: 'http://127.0.0.1:1/repo', branch: 'main', apps: 3 });
  assert.deepEqual(gitRepository, {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name: 'bench-repo', namespace: 'bench' },
    spec: { url: 'http://127.0.0.1:1/repo', ref: { branch: 'main' }, interval: '60m' },
  });
  assert.deepEqual(
    kustomizations.map((k) => [k.metadata.name, k.spec.path]),
    [
      ['app-0', './app-0'],
      ['app-1', './app-1'],
      ['app-2', './app-2'],
    ],
  );
  assert.deepEqual(kustomizations[2]!.spec, {
    interval: '60m',
    path: './app-2',
    prune: true,
    sourceRef: { kind: 'GitRepository', name: 'bench-repo' },
    targetNamespace: 'bench',
  });
  assert.equal(kustomizations[0]!.apiVersion, 'kustomize.toolkit.fluxcd.io/v1');
});

test('Ready counts only when it is True for the current generation', () => {
  const k = (status: string, observedGeneration: number, generation = 2) => ({
    metadata: { name: 'app-0', generation },
    status: {
      conditions: [
        { type: 'Reconciling', status: 'True' },
        { type: 'Ready', status, observedGeneration },
      ],
    },
  });
  assert.equal(fluxReady(k('True', 2)), true);
  assert.equal(fluxReady(k('True', 1)), false, 'Ready from the spec before the last change');
  assert.equal(fluxReady(k('False', 2)), false);
  assert.equal(fluxReady(k('Unknown', 2)), false);
  assert.equal(fluxReady({ metadata: { name: 'app-0', generation: 1 } }), false, 'no status yet');
});

test('a CGI response: Status header, other headers, body after the blank line (CRLF or LF)', () => {
  const crlf = parseCgiResponse(Buffer.from('Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope\r\n\r\nmore'));
  assert.equal(crlf.status, 404);
  assert.deepEqual(crlf.headers, [['Content-Type', 'text/plain']]);
  assert.equal(crlf.body.toString(), 'nope\r\n\r\nmore');
  const lf = parseCgiResponse(Buffer.from('Content-Type: application/x-git-upload-pack-advertisement\nCache-Control: no-cache\n\n\x00\x01binary'));
  assert.equal(lf.status, 200);
  assert.deepEqual(
    lf.headers.map(([n]) => n),
    ['Content-Type', 'Cache-Control'],
  );
  assert.deepEqual([...lf.body], [0, 1, ...Buffer.from('binary')]);
  assert.throws(() => parseCgiResponse(Buffer.from('Content-Type: text/plain')), /blank line/);
  assert.throws(() => parseCgiResponse(Buffer.from('garbage\n\nbody')), /not a CGI header/);
});

test('git clones the repository over smart HTTP; other paths and pushes are refused', async () => {
  const env = gitEnv;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-git-http-'));
  const repo = path.join(root, 'repo');
  fs.mkdirSync(path.join(repo, 'app-0'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'app-0', 'configmap.yaml'), 'kind: ConfigMap\n');
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo, env });
  execFileSync('git', ['add', '-A'], { cwd: repo, env });
  execFileSync('git', ['commit', '-qm', 'one'], { cwd: repo, env });
  const server = await serveGitOverHttp(repo);
  try {
    // Asynchronous: the server answers from this same event loop.
    const git = (args: string[], cwd = root) =>
      new Promise<string>((resolve, reject) =>
        execFile('git', args, { cwd, env }, (err, stdout, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve(stdout))),
      );
    await git(['clone', '-q', server.url, 'copy']);
    assert.equal(fs.readFileSync(path.join(root, 'copy', 'app-0', 'configmap.yaml'), 'utf8'), 'kind: ConfigMap\n');
    assert.ok(server.requests >= 2, `requests: ${server.requests}`);
    fs.writeFileSync(path.join(root, 'copy', 'new.yaml'), 'x');
    await git(['add', '-A'], path.join(root, 'copy'));
    await git(['commit', '-qm', 'two'], path.join(root, 'copy'));
    await assert.rejects(git(['push', '-q', 'origin', 'main'], path.join(root, 'copy')));
    assert.equal((await fetch(server.url.replace(/\/repo$/, '/other/info/refs?service=git-upload-pack'))).status, 404);
    assert.equal((await fetch(`${server.url}/../../etc/passwd`)).status, 404);
  } finally {
    await server.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
