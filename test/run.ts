// `npm test`: builds what is missing, starts one shared stack (Temporal dev server,
// control plane, Prometheus) for the layers that need servers, runs every test file
// with node's test runner, and stops the stack whatever happens.
// `npm test -- unit` runs only the unit layer (no servers).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalStack, type LocalStack } from '../k8s/local-stack';
import { ensurePrometheus, ensureTools } from '../k8s/toolchain';

const LAYERS = ['unit', 'workflow', 'e2e'] as const;

function testFiles(layer: string): string[] {
  const dir = path.join(__dirname, layer);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => path.join(dir, f));
}

async function main() {
  const wanted = process.argv.slice(2).filter((a) => (LAYERS as readonly string[]).includes(a));
  const layers = wanted.length > 0 ? wanted : [...LAYERS];
  const files = layers.flatMap(testFiles);
  const needsServers = layers.some((l) => l !== 'unit');

  let stack: LocalStack | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-test-'));
  if (needsServers) {
    const started = Date.now();
    const tools = await ensureTools((l) => console.log(`[test] ${l}`));
    await ensurePrometheus((l) => console.log(`[test] ${l}`));
    stack = await startLocalStack({ stateDir, fixedPorts: false, headless: true, etcdNoFsync: true, prometheus: true, log: (l) => console.log(`[test] ${l}`) });
    console.log(`[test] shared stack up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    Object.assign(env, {
      SLUICE_TEST_KUBECONFIG: stack.kubeconfigPath,
      SLUICE_TEST_TEMPORAL_ADDRESS: stack.temporalAddress,
      SLUICE_TEST_PROMETHEUS_URL: stack.prometheusUrl ?? '',
      SLUICE_TEST_PROMETHEUS_TARGETS: stack.prometheusServer?.targetsDir ?? '',
      SLUICE_TEMPORAL_BINARY: tools.temporal,
      SLUICE_KUBECTL: tools.kubectl,
    });
  }

  const stopStack = async () => {
    if (stack) await stack.stop();
    stack = undefined;
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopStack().then(() => process.exit(130)));

  // One file at a time: the machine has two cores and the e2e files share one cluster.
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
    child.on('exit', (c) => resolve(c ?? 1));
  });
  await stopStack();
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
