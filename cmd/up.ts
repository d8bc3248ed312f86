// `sluice up` / `npm start`: the embedded stack and Sluice in one process, until Ctrl-C.
// One per state directory, and never beside another on the same ports: both are
// checked before anything starts. Whatever fails or is interrupted during start-up
// stops everything started so far.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLocalStack, type LocalStack } from '../stack/local-stack';
import { stopAllChildren } from '../stack/process-group';
import { stackPortsFromEnv, takenPorts, type StackPorts } from '../stack/ports';
import { describeOwner, StackLock } from '../stack/stack-lock';
import { issueBootstrapToken } from '../api/auth/bootstrap';
import { configFromEnv, type SluiceConfig } from '../worker/config';
import { jsonLog, startSluice, type RunningSluice } from './process';

export class UpRefused extends Error {}

export async function up(stateDir: string, cliConfigFile: string): Promise<void> {
  const log = (line: string) => console.log(`[sluice] ${line}`);
  const started = Date.now();
  // The local stack is one user's machine: its examples and quick starts use file:// repositories.
  process.env.SLUICE_ALLOW_FILE_REPOS ??= 'true';
  // One Sluice on one machine: nothing to share out between replicas.
  const config: SluiceConfig = { ...configFromEnv(), replicaShards: false };
  const ports = stackPortsFromEnv();

  const taken = StackLock.acquire(stateDir);
  if (!taken.acquired) throw new UpRefused(describeOwner(taken.owner));
  const lock = taken.lock;

  const busy = await takenPorts(config.apiHost, wantedPorts(config, ports));
  if (busy.length > 0) {
    lock.release();
    throw new UpRefused(
      [
        `cannot start: ${busy.map((t) => `port ${t.port} (${t.purpose}) is in use${t.holder ? ` by ${t.holder}` : ''}`).join('; ')}.`,
        'Is another `sluice up` running with another state directory? Stop it, or choose other ports:',
        '  SLUICE_API_PORT, SLUICE_TEMPORAL_PORT, SLUICE_TEMPORAL_UI_PORT, SLUICE_KUBE_APISERVER_PORT, SLUICE_ETCD_PORT, SLUICE_PROMETHEUS_PORT.',
      ].join('\n'),
    );
  }

  let stack: LocalStack | undefined;
  let sluice: RunningSluice | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = (reason: string) =>
    (stopping ??= (async () => {
      log(`${reason}; stopping …`);
      await sluice?.stop().catch(() => undefined);
      await stack?.stop().catch(() => undefined);
      // Whatever start-up was in the middle of (a server not yet handed to the stack, a tool build).
      await stopAllChildren();
      lock.release();
      log('stopped');
    })());
  // From here on a signal stops what has started, whether start-up has finished or not.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  let running = false;
  const interrupted = signalled.then(async (signal) => {
    await stopAll(signal);
    // Ctrl-C is how a running stack is meant to end; during start-up it is an interruption.
    process.exit(running ? 0 : signal === 'SIGINT' ? 130 : 143);
  });

  try {
    stack = await startLocalStack({
      stateDir,
      fixedPorts: true,
      ports,
      kubeconfig: process.env.KUBECONFIG,
      // A server named by TEMPORAL_ADDRESS or the profile; otherwise the stack's own dev server.
      temporalAddress: config.temporalConnection?.addressConfigured ? config.temporalAddress : undefined,
      prometheus: true,
      log,
    });
    // The stack's own dev server speaks plain gRPC on loopback: no TLS or API key for it.
    const temporalConnection = stack.temporal ? undefined : config.temporalConnection;
    sluice = await startSluice(
      { ...config, temporalAddress: stack.temporalAddress, temporalConnection, temporalUiUrl: config.temporalUiUrl ?? stack.temporalUiUrl },
      stack.kube,
      (msg, fields) => jsonLog(msg, fields),
    );
    const bootstrap = await issueBootstrapToken(stack.kube, config.sluiceNamespace);
    fs.mkdirSync(path.dirname(cliConfigFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(cliConfigFile, JSON.stringify({ server: sluice.apiUrl, token: bootstrap.token }, null, 2), { mode: 0o600 });
    fs.chmodSync(cliConfigFile, 0o600);
    lock.ready({
      apiUrl: sluice.apiUrl,
      temporalAddress: stack.temporalAddress,
      temporalUiUrl: stack.temporalUiUrl,
      kubeconfig: stack.kubeconfigPath,
      prometheusUrl: stack.prometheusUrl,
    });
    running = true;
    printWelcome(stack, sluice.apiUrl, bootstrap, cliConfigFile, started);
  } catch (err) {
    if (stopping) await interrupted; // a signal arrived mid-start and is stopping everything already
    await stopAll('start-up failed');
    throw err;
  }
  await interrupted;
}

/** The ports this start will listen on: the Sluice API, and those of the servers it runs itself. */
function wantedPorts(config: SluiceConfig, ports: StackPorts): Record<string, number> {
  const wanted: Record<string, number> = { 'Sluice API': config.apiPort };
  if (!process.env.TEMPORAL_ADDRESS) Object.assign(wanted, { Temporal: ports.temporal, 'Temporal UI': ports.temporalUi });
  if (!process.env.KUBECONFIG) Object.assign(wanted, { 'kube-apiserver': ports.kubeApiserver, etcd: ports.etcd });
  wanted.Prometheus = ports.prometheus;
  return wanted;
}

function printWelcome(stack: LocalStack, apiUrl: string, bootstrap: { token: string; expiresAt?: string }, cliConfigFile: string, started: number): void {
  const examples = path.resolve(__dirname, '..', '..', 'examples', 'rollouts', 'canary-basic.yaml');
  const exampleFile = fs.existsSync(examples) ? path.relative(process.cwd(), examples) : 'canary-basic.yaml';
  console.log(
    [
      '',
      `Sluice is up (${Math.round((Date.now() - started) / 1000)}s).`,
      `  Temporal UI   ${stack.temporalUiUrl ?? `(external Temporal at ${stack.temporalAddress})`}`,
      `  Sluice API    ${apiUrl}`,
      `  Admin token   ${bootstrap.token}`,
      `                (shown once; saved for the CLI in ${cliConfigFile}; expires ${bootstrap.expiresAt})`,
      ...(stack.prometheusUrl ? [`  Prometheus    ${stack.prometheusUrl}`] : []),
      `  Kubeconfig    export KUBECONFIG=${stack.kubeconfigPath}`,
      `  kubectl       export PATH=${path.dirname(stack.kubectl)}:$PATH   # kubectl matching this control plane`,
      '',
      'Try, in another terminal:',
      `  export KUBECONFIG=${stack.kubeconfigPath}`,
      `  kubectl apply -f ${exampleFile}`,
      `  kubectl patch rollout canary-basic --type json -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"argoproj/rollouts-demo:yellow"}]'`,
      '  npx sluice rollouts get canary-basic',
      '  npx sluice rollouts promote canary-basic',
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
}
