// Soak (prints figures; not a pass/fail test, but it exits 1 when something did not
// converge): 20 Rollouts of mixed strategies and 20 Applications, driven for
// SLUICE_SOAK_MINUTES (default 10) by random commands, image changes, Git commits and
// drift, on a stack of its own. Then every Rollout is promoted in full and every
// Application refreshed; the soak waits for all to settle and prints: objects converged,
// workflows that ended in failure, and each ReplicaSet's generation beside the writes its
// rollout's steps explain.
//   node dist/test/bench/soak.js          (SLUICE_SOAK_MINUTES=2 for a short one; SLUICE_SOAK_SEED=n repeats one)
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Resources, type KubeObject } from '../../k8s/kube-client';
import { RolloutCommands } from '../../api/rollout-commands';
import { applicationNudgeSignal, applicationWorkflowId } from '../../workflows/definitions';
import { configFromEnv } from '../../worker/config';
import { startSluice } from '../../cmd/process';
import { benchStack, cpuByProgram, inBatches, printCpuDeltas } from './bench-support';

const MINUTES = Number(process.env.SLUICE_SOAK_MINUTES ?? 10);
const ROLLOUTS = 20;
const APPS = 20;
const NS = 'soak';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A small deterministic generator, so a seed repeats a soak's choices. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]! };
}

function rollout(i: number) {
  const name = `ro-${i}`;
  const kind = i % 4;
  const strategy =
    kind === 0
      ? { canary: { steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: '2s' } }, { setWeight: 75 }] } }
      : kind === 1
        ? { canary: { maxSurge: 1, maxUnavailable: 0, steps: [{ setWeight: 50 }, { pause: { duration: '1s' } }] } }
        : kind === 2
          ? { blueGreen: { activeService: `${name}-active`, previewService: `${name}-preview`, autoPromotionEnabled: false, scaleDownDelaySeconds: 2 } }
          : {
              blueGreen: {
                activeService: `${name}-active`,
                previewService: `${name}-preview`,
                previewReplicaCount: 1,
                autoPromotionEnabled: true,
                autoPromotionSeconds: 2,
                scaleDownDelaySeconds: 1,
              },
            };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 4,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'demo:0' }] } },
      strategy,
    },
  };
}

const service = (name: string, app: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { selector: { app }, ports: [{ port: 80 }] },
});

async function main() {
  const seed = Number(process.env.SLUICE_SOAK_SEED ?? Date.now() % 100000);
  const rnd = random(seed);
  console.log(`soak: ${ROLLOUTS} rollouts, ${APPS} applications, ${MINUTES} min, seed ${seed}`);
  const { stack, stop } = await benchStack();
  const kube = stack.kube;
  await kube.create(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  process.env.SLUICE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-soak-home-'));

  // A Git repository with one ConfigMap per Application.
  const repoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-soak-repo-'));
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: repoDir,
      env: { ...process.env, GIT_AUTHOR_NAME: 's', GIT_AUTHOR_EMAIL: 's@s', GIT_COMMITTER_NAME: 's', GIT_COMMITTER_EMAIL: 's@s' },
    });
  const writeConfigMap = (i: number, value: number) => {
    fs.mkdirSync(path.join(repoDir, `app-${i}`), { recursive: true });
    fs.writeFileSync(
      path.join(repoDir, `app-${i}`, 'configmap.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  value: "${value}"\n`,
    );
  };
  for (let i = 0; i < APPS; i++) writeConfigMap(i, 0);
  git(['init', '--quiet']);
  git(['add', '-A']);
  git(['commit', '--quiet', '-m', 'soak']);

  const sluice = await startSluice(
    {
      ...configFromEnv({}),
      temporalAddress: stack.temporalAddress,
      taskQueue: 'soak',
      watchNamespace: NS,
      apiPort: 0,
      applicationTimings: { reconcileMs: 30_000, jitterMs: 0 },
    },
    kube,
    () => undefined,
  );
  const commands = new RolloutCommands(sluice.client);

  for (let i = 0; i < ROLLOUTS; i++)
    if (i % 4 >= 2) for (const s of ['active', 'preview']) await kube.create(Resources.service, NS, service(`ro-${i}-${s}`, `ro-${i}`));
  await inBatches([...Array(ROLLOUTS).keys()], 10, (i) => kube.create(Resources.rollout, NS, rollout(i)));
  await inBatches([...Array(APPS).keys()], 10, (i) =>
    kube.create(Resources.application, NS, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: `app-${i}`, namespace: NS },
      spec: {
        project: 'default',
        source: { repoURL: `file://${repoDir}`, targetRevision: 'HEAD', path: `app-${i}` },
        destination: { server: 'https://kubernetes.default.svc', namespace: NS },
        syncPolicy: { automated: { prune: true, selfHeal: i % 2 === 0 } },
      },
    }),
  );

  // The drive: one random action every 1-3 s.
  const counts = new Map<string, number>();
  const count = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  const imageChanges = new Map<string, number>();
  const cmValue = new Map<number, number>();
  const cpuBefore = cpuByProgram();
  const started = Date.now();
  const until = started + MINUTES * 60_000;
  let version = 1;
  while (Date.now() < until) {
    const i = Math.floor(rnd.next() * ROLLOUTS);
    const ref = { namespace: NS, name: `ro-${i}` };
    const action = rnd.pick(['image', 'image', 'promote', 'promote', 'promote-full', 'abort', 'retry', 'commit', 'drift', 'refresh'] as const);
    try {
      if (action === 'image') {
        await kube.patch(Resources.rollout, NS, ref.name, [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: `demo:${version++}` }], {
          type: 'json',
        });
        imageChanges.set(ref.name, (imageChanges.get(ref.name) ?? 0) + 1);
      } else if (action === 'promote') await commands.promote(ref);
      else if (action === 'promote-full') await commands.promote(ref, true);
      else if (action === 'abort') await commands.abort(ref);
      else if (action === 'retry') await commands.retry(ref);
      else {
        const a = Math.floor(rnd.next() * APPS);
        if (action === 'commit') {
          cmValue.set(a, (cmValue.get(a) ?? 0) + 1);
          writeConfigMap(a, cmValue.get(a)!);
          git(['commit', '--quiet', '-am', `app-${a} ${cmValue.get(a)}`]);
          await sluice.client.workflow
            .getHandle(applicationWorkflowId({ namespace: NS, name: `app-${a}` }))
            .signal(applicationNudgeSignal, { reason: 'soak', refresh: 'normal', askedAt: Date.now() });
        } else if (action === 'drift') {
          await kube.patch(Resources.configMap, NS, `cm-${a}`, { data: { value: 'drift' } }, { type: 'merge' });
        } else {
          await sluice.client.workflow
            .getHandle(applicationWorkflowId({ namespace: NS, name: `app-${a}` }))
            .signal(applicationNudgeSignal, { reason: 'soak', refresh: 'normal', askedAt: Date.now() });
        }
      }
      count(action);
    } catch {
      // A command refused ("not paused") is part of the soak.
      count(`${action} refused`);
    }
    await new Promise((r) => setTimeout(r, 1000 + rnd.next() * 2000));
  }
  const drivenMs = Date.now() - started;

  // Settle: promote every rollout in full (retrying aborted ones first), refresh every app.
  for (let i = 0; i < ROLLOUTS; i++) {
    const ref = { namespace: NS, name: `ro-${i}` };
    await commands.retry(ref).catch(() => undefined);
    await commands.promote(ref, true).catch(() => undefined);
  }
  for (let a = 0; a < APPS; a++)
    await sluice.client.workflow
      .getHandle(applicationWorkflowId({ namespace: NS, name: `app-${a}` }))
      .signal(applicationNudgeSignal, { reason: 'soak', refresh: 'normal', askedAt: Date.now() });
  const settleStarted = Date.now();
  let rollouts: KubeObject[] = [];
  let apps: KubeObject[] = [];
  const settled = () =>
    rollouts.filter((r) => r.status?.phase === 'Healthy').length === ROLLOUTS &&
    apps.filter((a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy').length === APPS;
  while (Date.now() - settleStarted < 180_000) {
    rollouts = (await kube.list(Resources.rollout, NS)).items;
    apps = (await kube.list(Resources.application, NS)).items;
    if (settled()) break;
    // A rollout that paused again (a step reached after the full promotion) is promoted once more.
    for (const r of rollouts.filter((r) => r.status?.phase === 'Paused'))
      await commands.promote({ namespace: NS, name: r.metadata.name }, true).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const settleMs = Date.now() - settleStarted;

  // Workflows that ended in failure, of any type.
  let failed = 0;
  for await (const wf of sluice.client.workflow.list({ query: `ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut'` })) {
    failed++;
    console.log(`  failed workflow: ${wf.workflowId} (${wf.type})`);
  }

  // ReplicaSet generations against what the rollout's steps explain: each revision scales its
  // ReplicaSet at most once per step up and once per step down, plus aborts, retries and
  // scale-down; more than that is a controller fighting itself.
  const replicaSets = (await kube.list(Resources.replicaSet, NS)).items;
  let worstRatio = 0;
  let worst = '';
  for (const rs of replicaSets) {
    const owner = rs.metadata.ownerReferences?.[0]?.name ?? '';
    const spec = rollouts.find((r) => r.metadata.name === owner)?.spec;
    const steps = spec?.strategy?.canary?.steps?.length ?? 3;
    const commandsOnIt = (imageChanges.get(owner) ?? 0) + 4;
    const explained = 2 * (steps + 2) * commandsOnIt + 10;
    const ratio = (rs.metadata.generation ?? 0) / explained;
    if (ratio > worstRatio) [worstRatio, worst] = [ratio, `${rs.metadata.name} generation ${rs.metadata.generation}, explained ≤ ${explained}`];
  }

  const notSettledRollouts = rollouts.filter((r) => r.status?.phase !== 'Healthy').map((r) => `${r.metadata.name}:${r.status?.phase}`);
  const notSettledApps = apps
    .filter((a) => !(a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy'))
    .map((a) => `${a.metadata.name}:${a.status?.sync?.status}/${a.status?.health?.status}`);
  console.log(`\nSoak (seed ${seed}) driven for ${seconds(drivenMs)}; actions:`);
  for (const [k, v] of [...counts].sort()) console.log(`  ${k.padEnd(22)} ${v}`);
  console.log(`Settled after the drive in ${seconds(settleMs)}`);
  console.log(
    `  rollouts Healthy       ${ROLLOUTS - notSettledRollouts.length}/${ROLLOUTS}${notSettledRollouts.length ? `  (not: ${notSettledRollouts.join(', ')})` : ''}`,
  );
  console.log(`  apps Synced+Healthy    ${APPS - notSettledApps.length}/${APPS}${notSettledApps.length ? `  (not: ${notSettledApps.join(', ')})` : ''}`);
  console.log(`  workflows failed       ${failed}`);
  console.log(`  ReplicaSets            ${replicaSets.length}; highest generation / explained: ${worstRatio.toFixed(2)} (${worst})`);
  printCpuDeltas('over the whole soak', cpuBefore, cpuByProgram());

  await sluice.stop();
  await stop();
  const ok = notSettledRollouts.length === 0 && notSettledApps.length === 0 && failed === 0 && worstRatio <= 1;
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
