// `sluice up` / `npm start`: the embedded stack and Sluice in one process, until Ctrl-C.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLocalStack } from '../../k8s/local-stack';
import { issueBootstrapToken } from '../auth/bootstrap';
import { configFromEnv } from '../../worker/config';
import { jsonLog, startSluice } from '../../worker/sluice';

export async function up(stateDir: string, cliConfigFile: string): Promise<void> {
  const log = (line: string) => console.log(`[sluice] ${line}`);
  const started = Date.now();
  const stack = await startLocalStack({
    stateDir,
    fixedPorts: true,
    kubeconfig: process.env.KUBECONFIG,
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    prometheus: true,
    log,
  });
  const config = { ...configFromEnv(), temporalAddress: stack.temporalAddress };
  const sluice = await startSluice(config, stack.kube, (msg, fields) => jsonLog(msg, fields));
  const bootstrap = await issueBootstrapToken(stack.kube, config.sluiceNamespace);
  fs.mkdirSync(path.dirname(cliConfigFile), { recursive: true, mode: 0o700 });
  fs.writeFileSync(cliConfigFile, JSON.stringify({ server: sluice.apiUrl, token: bootstrap.token }, null, 2), { mode: 0o600 });
  fs.chmodSync(cliConfigFile, 0o600);

  const examples = path.resolve(__dirname, '..', '..', '..', 'examples', 'rollouts', 'canary-basic.yaml');
  const exampleFile = fs.existsSync(examples) ? path.relative(process.cwd(), examples) : 'canary-basic.yaml';
  console.log(
    [
      '',
      `Sluice is up (${Math.round((Date.now() - started) / 1000)}s).`,
      `  Temporal UI   ${stack.temporalUiUrl ?? `(external Temporal at ${stack.temporalAddress})`}`,
      `  Sluice API    ${sluice.apiUrl}`,
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

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping …');
  await sluice.stop();
  await stack.stop();
  log('stopped');
  process.exit(0);
}
