// Argo's own kubectl plugin (kubectl-argo-rollouts v1.10.1, built from the Go module
// proxy into the tool cache) driving Sluice, as Argo's users and course material do:
// `get rollout` (which waits for its informers, Experiments included, so it must
// return), `set image`, `promote`, `promote --full`, `abort`, `retry`, `undo`,
// `restart`, on a canary and on a blue-green. Each step checks what the plugin printed
// and what the cluster then did.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import type { RunningSluice } from '../../cmd/process';
import { ensureArgoRolloutsPlugin } from '../../stack/toolchain';
import { EXPERIMENT_NOT_SUPPORTED_MESSAGE } from '../../worker/experiment-watcher';
import { examplesDir } from '../support/paths';
import { createNamespace, deleteNamespace, eventually, kubectl, runCommand, startSluiceFor, testStack, type TestStack } from '../support/stack';

let stack: TestStack;
let sluice: RunningSluice;
let ns: string;
let pluginEnv: NodeJS.ProcessEnv;

before(
  async () => {
    // The first build takes several minutes on two cores; later runs find it cached.
    const plugin = await ensureArgoRolloutsPlugin((l) => console.log(`[plugin] ${l}`));
    stack = await testStack();
    ns = await createNamespace(stack.kube, 'e2e-argo-plugin');
    sluice = await startSluiceFor(stack, ns);
    // The plugin's own config dir (~/.kube/cache) goes to a scratch HOME, not the user's.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-argo-plugin-'));
    pluginEnv = {
      ...process.env,
      HOME: home,
      KUBECONFIG: stack.kubeconfigPath,
      PATH: [path.dirname(plugin), path.dirname(stack.kubectlPath), process.env.PATH].join(path.delimiter),
    };
  },
  { timeout: 900_000 },
);
after(async () => {
  await sluice?.stop();
  if (ns) await deleteNamespace(stack.kube, ns);
  await stack?.stop();
  if (pluginEnv?.HOME) fs.rmSync(pluginEnv.HOME, { recursive: true, force: true });
});

/** `kubectl argo rollouts <args> -n <ns>`, through kubectl's plugin lookup; fails if it does not return in time. */
async function argo(args: string[], timeoutMs = 30_000): Promise<string> {
  const run = runCommand(stack.kubectlPath, ['argo', 'rollouts', ...args, '-n', ns], pluginEnv);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kubectl argo rollouts ${args.join(' ')} did not return within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const res = await Promise.race([run, timedOut]);
    if (res.code !== 0) throw new Error(`kubectl argo rollouts ${args.join(' ')} failed (${res.code}): ${res.stderr}${res.stdout}`);
    return res.stdout;
  } finally {
    clearTimeout(timer);
  }
}

const get = (name: string) => argo(['get', 'rollout', name, '--no-color']);
const rollout = (name: string) => stack.kube.get(Resources.rollout, ns, name);
const image = (ro: KubeObject) => ro.spec.template.spec.containers[0].image as string;
const replicaSets = async (app: string) => (await stack.kube.list(Resources.replicaSet, ns, { labelSelector: `app=${app}` })).items;
const rsOf = async (app: string, hash: string) => (await replicaSets(app)).find((rs) => rs.metadata.labels?.['rollouts-pod-template-hash'] === hash);
const selectorHash = async (service: string) => (await stack.kube.get(Resources.service, ns, service)).spec.selector?.['rollouts-pod-template-hash'];
const livePods = async (app: string) =>
  (await stack.kube.list(Resources.pod, ns, { labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);

/**
 * The names of the live pods, once the newest is two seconds old. restartAt and
 * creationTimestamp have one-second resolution and a pod created in the same second as
 * restartAt is not older than it (Argo's rule too), so a restart right after a promotion
 * would rightly leave that pod running.
 */
async function podsOldEnoughToRestart(app: string): Promise<Set<string>> {
  const running = await livePods(app);
  const newest = Math.max(...running.map((p) => Date.parse(p.metadata.creationTimestamp ?? '')));
  await eventually('the newest pod two seconds old', async () => Date.now() >= newest + 2_000);
  return new Set(running.map((p) => p.metadata.name));
}

/** The value of one `Field:  value` line of `get rollout`. */
function field(output: string, name: string): string | undefined {
  return new RegExp(`^\\s*${name}:\\s+(.*)$`, 'm').exec(output)?.[1]?.trim();
}

async function waitPhase(name: string, phase: string, extra: (ro: KubeObject) => boolean = () => true, timeoutMs = 90_000): Promise<KubeObject> {
  let last: KubeObject | undefined;
  try {
    return await eventually(
      `${name} ${phase}`,
      async () => {
        const ro = (last = await rollout(name));
        return ro.status?.phase === phase && ro.status.observedGeneration === String(ro.metadata.generation) && extra(ro) ? ro : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    // Say where it stands instead: the status and the ReplicaSets.
    const sets = (await replicaSets(name)).map(
      (rs) => `${rs.metadata.name} rev ${rs.metadata.annotations?.['rollout.argoproj.io/revision']} ×${rs.spec.replicas}`,
    );
    throw new Error(`${(err as Error).message}; generation ${last?.metadata.generation}, status ${JSON.stringify(last?.status)}; ${sets.join(', ')}`, {
      cause: err,
    });
  }
}

test('get returns against Sluice, and an Experiment is told it is not supported', async () => {
  await kubectl(stack, ['apply', '-n', ns, '-f', path.join(examplesDir, 'rollouts', 'canary-basic.yaml')]);
  await waitPhase('canary-basic', 'Healthy');
  const out = await get('canary-basic');
  assert.equal(field(out, 'Name'), 'canary-basic', out);
  assert.equal(field(out, 'Namespace'), ns);
  assert.match(field(out, 'Status') ?? '', /Healthy/, out);
  assert.equal(field(out, 'Strategy'), 'Canary');
  assert.match(out, /argoproj\/rollouts-demo:blue \(stable\)/);
  assert.match(out, /ReplicaSet\s+✔ Healthy/);

  // --watch streams until its timeout, then returns.
  const watched = await argo(['get', 'rollout', 'canary-basic', '--no-color', '--watch', '--timeout-seconds', '3'], 30_000);
  assert.match(watched, /Healthy/);

  const experiment = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Experiment',
    metadata: { name: 'compare', namespace: ns },
    spec: {
      duration: '1m',
      templates: [
        {
          name: 'baseline',
          replicas: 1,
          selector: { matchLabels: { app: 'x' } },
          template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } },
        },
      ],
    },
  };
  await kubectl(stack, ['apply', '-f', '-'], JSON.stringify(experiment));
  const ex = await eventually('the experiment has a status', async () => {
    const e = await stack.kube.get(Resources.experiment, ns, 'compare');
    return e.status?.phase ? e : undefined;
  });
  assert.equal(ex.status.phase, 'Error');
  assert.equal(ex.status.message, EXPERIMENT_NOT_SUPPORTED_MESSAGE);
  assert.equal((await replicaSets('x')).length, 0, 'nothing runs for it');
  const shown = await argo(['get', 'experiment', 'compare', '--no-color']);
  assert.match(shown, /Status:\s+\S+ Error/, shown);
  assert.match(shown, /Experiments are not supported yet/);
});

test('canary: set image, promote, abort, retry, promote --full, undo, restart', async () => {
  const name = 'canary-basic';
  const blue = (await rollout(name)).status.stableRS as string;

  assert.match(await argo(['set', 'image', name, 'app=argoproj/rollouts-demo:yellow']), /rollout "canary-basic" image updated/);
  const paused = await waitPhase(name, 'Paused', (ro) => ro.status.currentStepIndex === 1);
  const yellow = paused.status.currentPodHash as string;
  assert.equal((await rsOf(name, yellow))?.spec.replicas, 1, '33 % of 3');
  let out = await get(name);
  assert.match(field(out, 'Status') ?? '', /Paused/, out);
  assert.equal(field(out, 'Step'), '1/4');
  assert.equal(field(out, 'SetWeight'), '33');
  assert.match(out, /argoproj\/rollouts-demo:yellow \(canary\)/);

  assert.match(await argo(['promote', name]), /rollout 'canary-basic' promoted/);
  await waitPhase(name, 'Healthy', (ro) => ro.status.stableRS === yellow, 120_000);
  await eventually('the old ReplicaSet scaled down', async () => (await rsOf(name, blue))?.spec.replicas === 0);
  out = await get(name);
  assert.match(field(out, 'Status') ?? '', /Healthy/, out);
  assert.equal(field(out, 'Step'), '4/4');
  assert.match(out, /argoproj\/rollouts-demo:yellow \(stable\)/);

  await argo(['set', 'image', name, 'app=argoproj/rollouts-demo:green']);
  const green = (await waitPhase(name, 'Paused', (ro) => ro.status.currentStepIndex === 1)).status.currentPodHash as string;
  assert.match(await argo(['abort', name]), /rollout 'canary-basic' aborted/);
  await waitPhase(name, 'Degraded', (ro) => ro.status.abort === true);
  const canaryGone = async () => (await rsOf(name, green))?.spec.replicas === 0 && (await rsOf(name, yellow))?.spec.replicas === 3;
  await eventually('canary gone, stable back at 3', canaryGone);
  out = await get(name);
  assert.match(field(out, 'Status') ?? '', /Degraded/, out);
  assert.match(field(out, 'Message') ?? '', /RolloutAborted/);

  assert.match(await argo(['retry', 'rollout', name]), /rollout 'canary-basic' retried/);
  await waitPhase(name, 'Paused', (ro) => ro.status.currentStepIndex === 1 && !ro.status.abort);
  assert.equal((await rsOf(name, green))?.spec.replicas, 1);

  assert.match(await argo(['promote', name, '--full']), /rollout 'canary-basic' fully promoted/);
  await waitPhase(name, 'Healthy', (ro) => ro.status.stableRS === green, 120_000);
  assert.match(await get(name), /argoproj\/rollouts-demo:green \(stable\)/);

  // undo: back to the previous revision's template (yellow), through the steps again.
  assert.match(await argo(['undo', name]), /rollout 'canary-basic' undo/);
  await eventually('the template is yellow again', async () => image(await rollout(name)) === 'argoproj/rollouts-demo:yellow');
  await waitPhase(name, 'Paused', (ro) => ro.status.currentPodHash === yellow && ro.status.currentStepIndex === 1);
  await argo(['promote', name, '--full']);
  await waitPhase(name, 'Healthy', (ro) => ro.status.stableRS === yellow, 120_000);

  const before = await podsOldEnoughToRestart(name);
  assert.match(await argo(['restart', name]), /rollout 'canary-basic' restarts in 0s/);
  await eventually(
    'every pod replaced',
    async () => {
      const pods = await livePods(name);
      return pods.length === 3 && pods.every((p) => !before.has(p.metadata.name)) && (await rollout(name)).status?.restartedAt;
    },
    90_000,
  );
});

const blueGreen = (name: string) => [
  {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'argoproj/rollouts-demo:blue' }] } },
      strategy: { blueGreen: { activeService: `${name}-active`, previewService: `${name}-preview`, autoPromotionEnabled: false, scaleDownDelaySeconds: 3 } },
    },
  },
  ...['active', 'preview'].map((role) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `${name}-${role}` },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  })),
];

test('blue-green: set image, promote, abort, retry, promote --full, undo, restart', async () => {
  const name = 'bg-plugin';
  await kubectl(
    stack,
    ['apply', '-n', ns, '-f', '-'],
    blueGreen(name)
      .map((o) => JSON.stringify(o))
      .join('\n---\n'),
  );
  const blue = (await waitPhase(name, 'Healthy')).status.stableRS as string;
  let out = await get(name);
  assert.match(field(out, 'Status') ?? '', /Healthy/, out);
  assert.equal(field(out, 'Strategy'), 'BlueGreen');
  assert.match(out, /argoproj\/rollouts-demo:blue \(stable, active\)/);

  await argo(['set', 'image', name, 'app=argoproj/rollouts-demo:yellow']);
  const yellow = (await waitPhase(name, 'Paused', (ro) => ro.status.currentPodHash !== blue)).status.currentPodHash as string;
  const previewOnYellow = async () => (await selectorHash(`${name}-preview`)) === yellow && (await selectorHash(`${name}-active`)) === blue;
  await eventually('preview on yellow, active still on blue', previewOnYellow);
  out = await get(name);
  assert.match(field(out, 'Status') ?? '', /Paused/, out);
  assert.match(field(out, 'Message') ?? '', /BlueGreenPause/);
  assert.match(out, /argoproj\/rollouts-demo:yellow \(preview\)/);

  assert.match(await argo(['promote', name]), /rollout 'bg-plugin' promoted/);
  await waitPhase(name, 'Healthy', (ro) => ro.status.stableRS === yellow);
  assert.equal(await selectorHash(`${name}-active`), yellow);
  await eventually('blue scaled down after the delay', async () => (await rsOf(name, blue))?.spec.replicas === 0, 30_000);
  assert.match(await get(name), /argoproj\/rollouts-demo:yellow \(stable, active\)/);

  await argo(['set', 'image', name, 'app=argoproj/rollouts-demo:green']);
  const green = (await waitPhase(name, 'Paused', (ro) => ro.status.currentPodHash !== yellow)).status.currentPodHash as string;
  assert.match(await argo(['abort', name]), /rollout 'bg-plugin' aborted/);
  await waitPhase(name, 'Degraded', (ro) => ro.status.abort === true);
  assert.equal(await selectorHash(`${name}-active`), yellow, 'an abort keeps the active side');
  out = await get(name);
  assert.match(field(out, 'Status') ?? '', /Degraded/, out);

  assert.match(await argo(['retry', 'rollout', name]), /rollout 'bg-plugin' retried/);
  await waitPhase(name, 'Paused', (ro) => ro.status.currentPodHash === green && !ro.status.abort);
  await eventually('preview on green again', async () => (await selectorHash(`${name}-preview`)) === green);

  assert.match(await argo(['promote', name, '--full']), /rollout 'bg-plugin' fully promoted/);
  await waitPhase(name, 'Healthy', (ro) => ro.status.stableRS === green);
  assert.equal(await selectorHash(`${name}-active`), green);

  assert.match(await argo(['undo', name]), /rollout 'bg-plugin' undo/);
  await eventually('the template is yellow again', async () => image(await rollout(name)) === 'argoproj/rollouts-demo:yellow');
  await waitPhase(name, 'Paused', (ro) => ro.status.currentPodHash === yellow);
  await argo(['promote', name]);
  await waitPhase(name, 'Healthy', (ro) => ro.status.stableRS === yellow);
  assert.equal(await selectorHash(`${name}-active`), yellow);

  const before = await podsOldEnoughToRestart(name);
  assert.match(await argo(['restart', name]), /rollout 'bg-plugin' restarts in 0s/);
  await eventually(
    'every pod of the active side replaced',
    async () => {
      const pods = (await livePods(name)).filter((p) => p.metadata.labels?.['rollouts-pod-template-hash'] === yellow);
      return pods.length === 2 && pods.every((p) => !before.has(p.metadata.name));
    },
    90_000,
  );
});
