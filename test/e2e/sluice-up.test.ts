// `sluice up` (npm start) run as a user runs it, in a temporary HOME and state directory
// on free ports: a second start while one runs says where the running one is and starts
// nothing; a start that fails half-way or is interrupted leaves no process behind. The
// process list is read from /proc: every server the stack starts names the state
// directory in its command line, so a leftover cannot hide.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../../stack/process-group';
import { commandLine } from '../../stack/ports';
import { cacheRoot } from '../../stack/toolchain';
import { cliPath } from '../support/paths';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-up-test-'));
const started: ChildProcess[] = [];

interface Up {
  child: ChildProcess;
  output: () => string;
  waitFor(pattern: RegExp, ms: number): Promise<void>;
  exited: Promise<number | null>;
}

interface Ports {
  api: number;
  temporal: number;
  temporalUi: number;
  apiserver: number;
  etcd: number;
  prometheus: number;
}

async function freePorts(): Promise<Ports> {
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort());
  const [api, temporal, temporalUi, apiserver, etcd, prometheus] = ports;
  return { api, temporal, temporalUi, apiserver, etcd, prometheus };
}

function startUp(stateDir: string, ports: Ports): Up {
  const home = path.join(root, 'home');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    SLUICE_HOME: path.join(home, '.sluice'),
    SLUICE_CACHE: cacheRoot(), // the tools already built, not a rebuild under the new HOME
    SLUICE_API_PORT: String(ports.api),
    SLUICE_TEMPORAL_PORT: String(ports.temporal),
    SLUICE_TEMPORAL_UI_PORT: String(ports.temporalUi),
    SLUICE_KUBE_APISERVER_PORT: String(ports.apiserver),
    SLUICE_ETCD_PORT: String(ports.etcd),
    SLUICE_PROMETHEUS_PORT: String(ports.prometheus),
  };
  for (const name of ['KUBECONFIG', 'TEMPORAL_ADDRESS', 'SLUICE_WATCH_NAMESPACE']) delete env[name];
  const child = spawn(process.execPath, [cliPath, 'up', '--state-dir', stateDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(out)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${pattern} within ${ms} ms; output so far:\n${out.slice(-4000)}`));
        }, ms);
        const quit = () => {
          done();
          reject(new Error(`sluice up exited (${child.exitCode}) before ${pattern}; output:\n${out.slice(-4000)}`));
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', quit);
        };
        listeners.add(check);
        child.once('exit', quit);
        check();
      });
    },
  };
}

/** Processes whose command line names `dir`: the stack's servers all do. */
function processesNaming(dir: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmd = commandLine(Number(entry));
    if (cmd.includes(dir)) found.push({ pid: Number(entry), cmd });
  }
  return found;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

after(async () => {
  // A failed assertion must not leave a stack running: stop what this file started, by pid.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 8000));
  for (const p of processesNaming(root)) process.kill(p.pid, 'SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

test('a second start while one runs prints where the running one is, exits non-zero and starts nothing', { timeout: 420_000 }, async () => {
  const stateDir = path.join(root, 'state-a');
  const ports = await freePorts();
  const first = startUp(stateDir, ports);
  await first.waitFor(/Sluice is up/, 300_000);
  const running = new Set(processesNaming(root).map((p) => p.pid));
  assert.ok(running.size >= 6, `expected the stack's servers, found ${running.size}`);

  // Same state directory: the lock file names the running one.
  const second = startUp(stateDir, ports);
  const code = await withTimeout(second.exited, 30_000, 'the second start');
  const said = second.output();
  assert.notEqual(code, 0, said);
  assert.match(said, /already running/);
  assert.ok(said.includes(`http://127.0.0.1:${ports.api}`), `API URL missing:\n${said}`);
  assert.ok(said.includes(`http://127.0.0.1:${ports.temporalUi}`), `Temporal UI missing:\n${said}`);
  assert.ok(said.includes(path.join(stateDir, 'kubernetes', 'kubeconfig')), `kubeconfig missing:\n${said}`);
  assert.doesNotMatch(said, /starting (etcd|kube-|the Temporal)/);
  assert.deepEqual(
    processesNaming(root).filter((p) => !running.has(p.pid)),
    [],
  );

  // Another state directory, the same ports: refused on the ports, naming one.
  const otherDir = path.join(root, 'state-b');
  const third = startUp(otherDir, ports);
  const thirdCode = await withTimeout(third.exited, 30_000, 'the start on taken ports');
  assert.notEqual(thirdCode, 0, third.output());
  assert.match(third.output(), new RegExp(`port ${ports.temporal} \\(Temporal\\) is in use`));
  assert.deepEqual(
    processesNaming(root).filter((p) => !running.has(p.pid)),
    [],
  );
  assert.equal(fs.existsSync(path.join(otherDir, 'sluice-up.json')), false, 'the refused start keeps no lock');

  // The first one is untouched by all this, and Ctrl-C stops all of it.
  assert.equal(first.child.exitCode, null);
  first.child.kill('SIGINT');
  assert.equal(await withTimeout(first.exited, 60_000, 'stopping the stack'), 0);
  assert.deepEqual(processesNaming(root), []);
  assert.equal(fs.existsSync(path.join(stateDir, 'sluice-up.json')), false);
});

test('a start that fails half-way (its API port taken meanwhile) stops everything it started', { timeout: 420_000 }, async () => {
  const stateDir = path.join(root, 'state-c');
  const ports = await freePorts();
  const up = startUp(stateDir, ports);
  // The port check has passed by now; the controllers are starting against the new cluster.
  await up.waitFor(/starting kube-controller-manager/, 300_000);
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(ports.api, '127.0.0.1', resolve));
  try {
    const code = await withTimeout(up.exited, 240_000, 'the failing start');
    assert.notEqual(code, 0, up.output());
    assert.match(up.output(), /EADDRINUSE|address already in use/i);
    assert.match(up.output(), /start-up failed; stopping/);
    assert.deepEqual(processesNaming(stateDir), []);
    assert.equal(fs.existsSync(path.join(stateDir, 'sluice-up.json')), false);
  } finally {
    blocker.close();
  }
});

test('SIGTERM during start-up stops what has started', { timeout: 300_000 }, async () => {
  const stateDir = path.join(root, 'state-d');
  const up = startUp(stateDir, await freePorts());
  await up.waitFor(/starting kube-apiserver/, 240_000);
  assert.ok(processesNaming(stateDir).length > 0, 'something has started');
  up.child.kill('SIGTERM');
  const code = await withTimeout(up.exited, 60_000, 'the interrupted start');
  assert.equal(code, 143, up.output());
  assert.deepEqual(processesNaming(stateDir), []);
  assert.equal(fs.existsSync(path.join(stateDir, 'sluice-up.json')), false);
});
