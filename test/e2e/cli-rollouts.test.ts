// The CLI against a live rollout: the tree of `rollouts get` (plain, -o json, and
// --watch when stdout is not a terminal), `rollouts status` exit codes, set image,
// abort, and bash completion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { cliPath, examplesDir } from '../support/paths';
import { createNamespace, eventually, kubectl, runCommand, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;

before(async () => {
  stack = await testStack();
  ns = await createNamespace(stack.kube, 'e2e-cli');
  sluice = await startSluiceFor(stack, ns);
});

after(async () => {
  await sluice?.stop();
  await stack?.stop();
});

const cli = (...args: string[]) => runCommand(process.execPath, [cliPath, '--server', sluice.apiUrl, ...args]);
const rollout = () => stack.kube.get(Resources.rollout, ns, 'canary-basic');

test('rollouts get draws revisions, ReplicaSets and pods; status, set image and abort behave as scripts expect', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  await eventually('Healthy', async () => (await rollout()).status?.phase === 'Healthy' && (await rollout()).status.availableReplicas === 3);

  const healthy = await cli('rollouts', 'status', 'canary-basic', '-n', ns, '--timeout', '30s');
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.match(healthy.stdout, /^Healthy/m);

  const setImage = await cli('rollouts', 'set', 'image', 'canary-basic', 'app=argoproj/rollouts-demo:yellow', '-n', ns);
  assert.equal(setImage.code, 0, setImage.stderr);
  await eventually('paused at step 1 with the canary pod ready', async () => {
    const ro = await rollout();
    return ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1 && ro.status.readyReplicas >= 4;
  });

  // The metrics the API derives from the watched Rollout.
  const metrics = await (await fetch(`${sluice.apiUrl}/metrics`)).text();
  assert.ok(metrics.includes(`sluice_rollout_phase{namespace="${ns}",name="canary-basic",strategy="canary",phase="Paused"} 1`), 'phase gauge');
  assert.match(metrics, new RegExp(`sluice_rollout_step_transitions_total\\{namespace="${ns}",name="canary-basic",step="1"\\} [1-9]`));

  const got = await cli('rollouts', 'get', 'canary-basic', '-n', ns);
  assert.equal(got.code, 0, got.stderr);
  const text = got.stdout;
  assert.match(text, /^Status:\s+Paused$/m);
  assert.match(text, /^ {2}Step:\s+1\/4 \(pause \(until promoted\)\)$/m);
  assert.match(text, /^Images:\s+argoproj\/rollouts-demo:blue \(stable\)\n\s+argoproj\/rollouts-demo:yellow \(canary\)$/m);
  assert.match(text, /^⟳ canary-basic\s+Rollout\s+॥ Paused/m);
  assert.match(text, /^├──# revision:2$/m);
  assert.match(text, /^│ {2}└──⧉ canary-basic-\w+\s+ReplicaSet\s+✔ Healthy\s+\S+\s+canary$/m);
  assert.match(text, /^└──# revision:1$/m);
  assert.match(text, /^ {3}└──⧉ canary-basic-\w+\s+ReplicaSet\s+✔ Healthy\s+\S+\s+stable$/m);
  assert.equal((text.match(/ Pod /g) ?? []).length, 4, text);
  assert.equal((text.match(/ready:1\/1/g) ?? []).length, 4, text);

  const json = await cli('rollouts', 'get', 'canary-basic', '-n', ns, '-o', 'json');
  const tree = JSON.parse(json.stdout).tree;
  assert.deepEqual(
    tree.revisions.map((r: { revision: number; replicaSets: { desired: number }[] }) => [r.revision, r.replicaSets[0]!.desired]),
    [
      [2, 1],
      [1, 3],
    ],
  );
  const yaml = await cli('rollouts', 'get', 'canary-basic', '-n', ns, '-o', 'yaml');
  assert.match(yaml.stdout, /^tree:\n {2}namespace: /);

  // Not a terminal: --watch prints the tree, then only when it changes, until the timeout.
  const watched = await cli('rollouts', 'get', 'canary-basic', '-n', ns, '--watch', '--timeout', '3s');
  assert.equal(watched.code, 0, watched.stderr);
  assert.ok(!watched.stdout.includes('\x1b['), 'no cursor movement when not a terminal');
  assert.match(watched.stdout, /# revision:2/);

  const paused = await cli('rollouts', 'status', 'canary-basic', '-n', ns);
  assert.equal(paused.code, 0);
  assert.match(paused.stdout, /^Paused/m);

  const listed = await cli('rollouts', 'list', '-n', ns);
  assert.match(listed.stdout, new RegExp(`^${ns}\\s+canary-basic\\s+Canary\\s+Paused\\s+1\\s+33\\s`, 'm'));

  const aborted = await cli('rollouts', 'abort', 'canary-basic', '-n', ns);
  assert.equal(aborted.code, 0, aborted.stderr);
  await eventually('aborted', async () => ['Degraded', 'Aborted'].includes((await rollout()).status?.phase));
  const degraded = await cli('rollouts', 'status', 'canary-basic', '-n', ns, '--no-watch');
  assert.equal(degraded.code, 1);

  const undoBad = await cli('rollouts', 'undo', 'canary-basic', '-n', ns, '--to-revision', 'x');
  assert.equal(undoBad.code, 1);
  assert.equal((await cli('rollouts', 'promote', 'no-such-rollout', '-n', ns)).code, 2);
});

test('analysisrun list and get show a run with its measurements', async () => {
  // In a namespace no Sluice watches, so the status written here stays as written.
  const other = await createNamespace(stack.kube, 'e2e-cli-ar');
  await stack.kube.create(Resources.analysisRun, other, {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name: 'checkout-7f9c-2' },
    spec: {
      metrics: [
        { name: 'error-rate', provider: { prometheus: { address: 'http://prometheus:9090', query: 'vector(0.01)' } }, successCondition: 'result[0] < 0.05' },
      ],
    },
  });
  const at = new Date().toISOString();
  await stack.kube.patch(
    Resources.analysisRun,
    other,
    'checkout-7f9c-2',
    {
      status: {
        phase: 'Successful',
        metricResults: [
          {
            name: 'error-rate',
            phase: 'Successful',
            count: 2,
            successful: 2,
            measurements: [
              { phase: 'Successful', value: '[0.01]', startedAt: at, finishedAt: at },
              { phase: 'Successful', value: '[0.02]', startedAt: at, finishedAt: at },
            ],
          },
        ],
      },
    },
    { subresource: 'status' },
  );
  const listed = await cli('analysisrun', 'list', '-n', other);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /checkout-7f9c-2\s+-\s+Successful/);
  const got = await cli('ar', 'get', 'checkout-7f9c-2', '-n', other);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, /^Status:\s+✔ Successful$/m);
  assert.match(got.stdout, /^error-rate: ✔ Successful {2}successful 2, failed 0/m);
  assert.match(got.stdout, /Successful\s+\[0\.02\]/);
  const json = JSON.parse((await cli('ar', 'get', 'checkout-7f9c-2', '-n', other, '-o', 'json')).stdout);
  assert.equal(json.analysisRun.status.metricResults[0].measurements.length, 2);
  await stack.kube.delete(Resources.namespace, undefined, other);
});

test('bash completion knows the commands and their options', async () => {
  const res = await runCommand(process.execPath, [cliPath, 'completion', 'bash']);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /complete -F _sluice_complete sluice kubectl-sluice/);
  assert.match(res.stdout, /"rollouts set"\) opts="image/);
  assert.match(res.stdout, /"rollouts promote"\) opts="[^"]*--full/);
  assert.match(res.stdout, /"app sync"\) opts="[^"]*--prune/);
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-completion-')), 'sluice.bash');
  fs.writeFileSync(script, res.stdout);
  const bash = await runCommand('bash', [
    '-c',
    `source "$0"; COMP_WORDS=(sluice rollouts pro); COMP_CWORD=2; _sluice_complete; echo "\${COMPREPLY[@]}"`,
    script,
  ]);
  assert.equal(bash.stdout.trim(), 'promote');
});
