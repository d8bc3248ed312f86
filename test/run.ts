// `npm test`: builds what is missing, starts one shared stack (Temporal dev server,
// control plane, Prometheus) for the layers that need servers, runs every test file
// with node's test runner, and stops the stack whatever happens.
// `npm test -- unit` runs only the unit layer (no servers); `npm test -- e2e/canary-basic
// workflow/replay` runs only those files (a layer, '/', the file's name without .test.js).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLocalStack, type LocalStack } from '../stack/local-stack';
import { ensurePrometheus, ensureTools, useCachedRenderers } from '../stack/toolchain';

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
  const args = process.argv.slice(2);
  const wanted = args.filter((a) => (LAYERS as readonly string[]).includes(a));
  const named = args.filter((a) => (LAYERS as readonly string[]).includes(a.split('/')[0]) && a.includes('/'));
  const layers = wanted.length > 0 || named.length > 0 ? [...new Set([...wanted, ...named.map((a) => a.split('/')[0])])] : [...LAYERS];
  // Whole layers (all of them when nothing is named) and single files by name. Never an
  // empty list: node --test without files would run every .js under test/, benches included.
  const wholeLayers = wanted.length > 0 || named.length > 0 ? wanted : [...LAYERS];
  const files = [...new Set([...wholeLayers.flatMap(testFiles), ...named.map((a) => path.join(__dirname, `${a}.test.js`))])];
  if (files.length === 0) throw new Error('no test files found');
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) throw new Error(`no such test file: ${missing.join(', ')}`);
  const needsServers = layers.some((l) => l !== 'unit');

  let stack: LocalStack | undefined;
  // Unit tests render helm and kustomize sources and run gojq too.
  await useCachedRenderers((l) => console.log(`[test] ${l}`));
  // The tests' repositories are local directories (test/support/git-fixture.ts): file:// on.
  // Image updates stay off unless a test turns them on: the example Applications name
  // images in registries this machine cannot reach.
  const env: NodeJS.ProcessEnv = { SLUICE_ALLOW_FILE_REPOS: 'true', SLUICE_IMAGE_UPDATES: 'off', ...process.env };
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
  // One file at a time: the machine has two cores and the e2e files share one cluster.
  const tests = spawn(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
  // A runner stopped from outside (Ctrl-C, a CI timeout, kill) takes its stack with it;
  // without this, etcd, the apiserver, kwok and Temporal outlived it.
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      tests.kill('SIGTERM');
      void stopStack().then(() => process.exit(code));
    });
  }
  const code = await new Promise<number>((resolve) => tests.on('exit', (c) => resolve(c ?? 1)));
  await stopStack();
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
