#!/usr/bin/env node
// `sluice` (also `kubectl sluice`): the local stack (`up`) and commands that talk to
// the HTTP API, so it works from any machine with the API's URL.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import axios, { AxiosError } from 'axios';
import { Command } from 'commander';

const home = () => process.env.SLUICE_HOME ?? path.join(os.homedir(), '.sluice');
const cliConfigFile = () => path.join(home(), 'cli.json');

interface CliConfig {
  server?: string;
}

function readCliConfig(): CliConfig {
  try {
    return JSON.parse(fs.readFileSync(cliConfigFile(), 'utf8')) as CliConfig;
  } catch {
    return {};
  }
}

function serverUrl(opts: { server?: string }): string {
  return opts.server ?? process.env.SLUICE_SERVER ?? readCliConfig().server ?? 'http://127.0.0.1:8080';
}

/** Exit codes scripts can rely on: 1 refused or failed, 2 not found, 3 unreachable. */
async function callApi<T>(program: Command, method: 'get' | 'post', urlPath: string, body?: unknown): Promise<T> {
  const base = serverUrl(program.opts());
  try {
    const res = await axios.request<T>({ method, url: base + urlPath, data: body, timeout: 30_000 });
    return res.data;
  } catch (err) {
    const e = err as AxiosError<{ message?: string }>;
    if (e.response) {
      console.error(`error: ${e.response.data?.message ?? e.message}`);
      process.exit(e.response.status === 404 ? 2 : 1);
    }
    console.error(`error: cannot reach the Sluice API at ${base} (${e.code ?? e.message}); is \`npm start\` running, or is --server right?`);
    process.exit(3);
  }
}

interface RolloutStatusView {
  phase?: string;
  message?: string;
  currentStepIndex?: number;
  stableRS?: string;
  currentPodHash?: string;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  canary?: { weights?: { canary: { weight: number }; stable: { weight: number } } };
  pauseConditions?: { reason: string; startTime: string }[] | null;
}

function printRollout(ro: { metadata: { namespace: string; name: string }; spec: any; status?: RolloutStatusView }, workflow?: { summary?: string }) {
  const st = ro.status ?? {};
  const steps = ro.spec?.strategy?.canary?.steps as unknown[] | undefined;
  const lines = [
    ['Name', ro.metadata.name],
    ['Namespace', ro.metadata.namespace],
    ['Status', `${st.phase ?? 'Unknown'}${st.message ? ` (${st.message})` : ''}`],
    ['Strategy', ro.spec?.strategy?.canary ? 'Canary' : ro.spec?.strategy?.blueGreen ? 'BlueGreen' : '-'],
    ...(steps ? [['Step', `${st.currentStepIndex ?? 0}/${steps.length}`]] : []),
    ...(st.canary?.weights ? [['Weights', `canary ${st.canary.weights.canary.weight}%, stable ${st.canary.weights.stable.weight}%`]] : []),
    ['Images', (ro.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => c.image).join(', ')],
    ['Replicas', `desired ${ro.spec?.replicas ?? 1}, current ${st.replicas ?? 0}, updated ${st.updatedReplicas ?? 0}, ready ${st.readyReplicas ?? 0}, available ${st.availableReplicas ?? 0}`],
    ['Stable', st.stableRS ?? '-'],
    ['Current', st.currentPodHash ?? '-'],
    ...(st.pauseConditions?.length ? [['Paused', st.pauseConditions.map((p) => `${p.reason} since ${p.startTime}`).join(', ')]] : []),
    ...(workflow?.summary ? [['Workflow', workflow.summary]] : []),
  ];
  for (const [k, v] of lines) console.log(`${(k + ':').padEnd(11)}${v}`);
}

export function buildProgram(): Command {
  const program = new Command('sluice')
    .description('GitOps sync and progressive delivery on Temporal, for Argo CD and Argo Rollouts manifests')
    .option('--server <url>', 'Sluice API URL (env SLUICE_SERVER; default from `sluice up`, else http://127.0.0.1:8080)');

  program
    .command('up')
    .description('start the local stack (Temporal, Kubernetes, Prometheus) and Sluice; what `npm start` runs')
    .option('--state-dir <dir>', 'where the stack keeps its state', path.join(home(), 'stack'))
    .action(async (opts: { stateDir: string }) => {
      const { up } = await import('./up');
      await up(opts.stateDir, cliConfigFile());
    });

  const rollouts = program.command('rollouts').alias('rollout').alias('ro').description('Argo Rollouts-style commands');
  const ns = (c: Command) => c.option('-n, --namespace <ns>', 'namespace', 'default');

  ns(rollouts.command('list').description('list rollouts').option('-A, --all-namespaces', 'all namespaces')).action(async (opts: { namespace: string; allNamespaces?: boolean }) => {
    const q = opts.allNamespaces ? '' : `?namespace=${encodeURIComponent(opts.namespace)}`;
    const data = await callApi<{ items: { namespace: string; name: string; status: RolloutStatusView }[] }>(program, 'get', `/api/v1/rollouts${q}`);
    console.log(['NAMESPACE', 'NAME', 'PHASE', 'STEP', 'AVAILABLE'].map((h, i) => h.padEnd([16, 28, 12, 6, 10][i])).join(''));
    for (const r of data.items) {
      console.log([r.namespace, r.name, r.status.phase ?? '', String(r.status.currentStepIndex ?? '-'), String(r.status.availableReplicas ?? 0)].map((v, i) => v.padEnd([16, 28, 12, 6, 10][i])).join(''));
    }
  });

  ns(rollouts.command('get <name>').description('show a rollout').option('-o, --output <format>', 'json')).action(async (name: string, opts: { namespace: string; output?: string }) => {
    const data = await callApi<{ rollout: any; workflow?: { summary?: string } }>(program, 'get', `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/rollouts/${encodeURIComponent(name)}`);
    if (opts.output === 'json') console.log(JSON.stringify(data, null, 2));
    else printRollout(data.rollout, data.workflow);
  });

  ns(rollouts.command('promote <name>').description('continue a paused rollout; --full skips the remaining steps').option('--full', 'skip all remaining steps')).action(
    async (name: string, opts: { namespace: string; full?: boolean }) => {
      const data = await callApi<{ message: string }>(program, 'post', `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/rollouts/${encodeURIComponent(name)}/promote`, { full: !!opts.full });
      console.log(data.message);
    },
  );

  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
