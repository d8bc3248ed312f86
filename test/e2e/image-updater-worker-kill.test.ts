// SIGKILL the Sluice process after its git write-back has committed and before it pushed
// (a test hook holds the write there and says so in a file): a second process retries the
// write-back from a fresh fetch, and the repository ends with exactly one commit for the tag.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources } from '../../k8s/kube-client';
import { examplesRepo, type GitFixture } from '../support/git-fixture';
import { createNamespace, eventually, spawnSluice, testStack, type SluiceProcess, type TestStack } from '../support/stack';
import { startRegistry, type TestRegistry } from '../support/registry';

let stack: TestStack;
let ns: string;
let repo: GitFixture;
let registry: TestRegistry;
const processes: SluiceProcess[] = [];
const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-image-kill-'));
const holdFile = path.join(logDir, 'held-before-push');
const OVERLAY = 'kustomize-demo/overlays/dev';

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'image-kill');
  registry = await startRegistry();
  repo = examplesRepo();
  execFileSync('git', ['config', 'receive.denyCurrentBranch', 'updateInstead'], { cwd: repo.dir });
  await stack.kube.create(Resources.configMap, ns, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-image-updater-config', namespace: ns },
    data: { 'registries.conf': `registries:\n- name: local\n  prefix: ${registry.host}\n  api_url: ${registry.url}\n` },
  });
  process.env.SLUICE_HOME = path.join(logDir, 'home');
  process.env.SLUICE_IMAGE_UPDATES = 'on';
  process.env.SLUICE_IMAGE_CHECK_INTERVAL_SECONDS = '2';
});

after(async () => {
  for (const p of processes) await p.kill('SIGTERM').catch(() => undefined);
  delete process.env.SLUICE_IMAGE_UPDATES;
  delete process.env.SLUICE_IMAGE_CHECK_INTERVAL_SECONDS;
  delete process.env.SLUICE_TEST_HOLD_BEFORE_PUSH;
  await stack.kube.delete(Resources.namespace, undefined, ns).catch(() => undefined);
  repo?.remove();
  await registry?.stop();
  await stack.stop();
  fs.rmSync(logDir, { recursive: true, force: true });
});

const updateCommits = () =>
  execFileSync('git', ['log', '--format=%s', 'main'], { cwd: repo.dir, encoding: 'utf8' })
    .split('\n')
    .filter((s) => s.startsWith('build: automatic update of'));

test('a worker killed between the commit and the push: after a restart, exactly one commit for the new tag', async () => {
  await registry.push('team/web', '1.0.0');
  await registry.push('team/web', '1.1.0');
  const logFile = path.join(logDir, 'sluice.log');
  process.env.SLUICE_TEST_HOLD_BEFORE_PUSH = holdFile;
  processes.push(await spawnSluice(stack, ns, logFile));
  delete process.env.SLUICE_TEST_HOLD_BEFORE_PUSH;
  const P = 'argocd-image-updater.argoproj.io/';
  await stack.kube.create(Resources.application, ns, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: 'web-dev',
      namespace: ns,
      annotations: {
        [`${P}image-list`]: `web=${registry.host}/team/web`,
        [`${P}web.kustomize.image-name`]: 'nginx',
        [`${P}write-back-method`]: 'git',
      },
    },
    spec: {
      project: 'default',
      source: { repoURL: repo.url, targetRevision: 'HEAD', path: OVERLAY, kustomize: {} },
      destination: { server: 'https://kubernetes.default.svc', namespace: ns },
    },
  });
  await eventually('the write-back has committed and is held before its push', async () => fs.existsSync(holdFile), 90_000, 100).catch((err) => {
    throw new Error(`${err.message}\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
  });
  await processes[0].kill('SIGKILL');
  assert.equal(updateCommits().length, 0, 'nothing pushed before the kill');

  processes.push(await spawnSluice(stack, ns, logFile));
  await eventually('the write-back retried by the new process has pushed', async () => updateCommits().length > 0, 120_000, 200).catch((err) => {
    throw new Error(`${err.message}\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
  });
  const file = execFileSync('git', ['show', `main:${OVERLAY}/.argocd-source-web-dev.yaml`], { cwd: repo.dir, encoding: 'utf8' });
  assert.match(file, new RegExp(`nginx=${registry.host}/team/web:1\\.1\\.0`));
  // Several more checks at a 2 s interval: still the one commit.
  await new Promise((r) => setTimeout(r, 8_000));
  assert.deepEqual(updateCommits(), [`build: automatic update of web-dev`]);
});
