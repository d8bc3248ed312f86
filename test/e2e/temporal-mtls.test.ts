// Sluice against a Temporal endpoint that requires mTLS, configured only the Temporal way
// (TEMPORAL_ADDRESS, TEMPORAL_TLS_*, or a TEMPORAL_CONFIG_FILE profile): with the right
// client certificate the production entry point (dist/cmd/main.js) connects its client
// and its worker and serves; with a certificate from another CA it exits, naming the
// address and the certificate it used. The endpoint is the dev server behind an mTLS
// front (test/support/tls-proxy.ts): `temporal server start-dev` has no TLS options.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectClient, temporalSettingsFromEnv } from '../../worker/temporal-connection';
import { freePort } from '../../stack/process-group';
import { makePki, startMtlsProxy, type Pki, type TlsProxy } from '../support/tls-proxy';
import { workerMainPath } from '../support/paths';
import { createNamespace, eventually, testStack, type TestStack } from '../support/stack';
import { SLUICE_VERSION } from '../../domain/version';

const SERVER_NAME = 'temporal.sluice.test';
let stack: TestStack;
let dir: string;
let good: Pki;
let wrong: Pki;
let proxy: TlsProxy;
let ns: string;

before(async () => {
  stack = await testStack();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-mtls-'));
  good = await makePki(dir, 'good', SERVER_NAME);
  wrong = await makePki(dir, 'wrong', SERVER_NAME);
  proxy = await startMtlsProxy(good, stack.temporalAddress);
  ns = await createNamespace(stack.kube, 'mtls');
});

after(async () => {
  await proxy?.close();
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const tlsEnv = (pki: Pki) => ({
  TEMPORAL_ADDRESS: proxy.address,
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: good.caCert,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
});

/** Runs the production entry point until it logs `sluice running` or exits; returns what it said. */
async function runSluice(env: Record<string, string>): Promise<{ running: boolean; code: number | null; output: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [workerMainPath], {
    env: {
      PATH: process.env.PATH,
      HOME: dir, // no ~/.config/temporalio/temporal.toml of the machine's user
      KUBECONFIG: stack.kubeconfigPath,
      SLUICE_WATCH_NAMESPACE: ns,
      SLUICE_TASK_QUEUE: `mtls-${process.pid}-${port}`,
      SLUICE_API_PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const running = new Promise<boolean>((resolve) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      if (output.includes('"sluice running"')) resolve(true);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => resolve(false));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const ok = await running;
  if (ok) child.kill('SIGTERM');
  const code = await exited;
  clearTimeout(timeout);
  if (ok) {
    // The API it started answered over plain HTTP on its port, so worker, client and API all came up.
    assert.match(output, new RegExp(`127\\.0\\.0\\.1:${port}`));
  }
  return { running: ok, code, output };
}

test('with the right client certificate (TEMPORAL_TLS_* variables) Sluice connects through mTLS and serves', async () => {
  const res = await runSluice(tlsEnv(good));
  assert.equal(res.running, true, res.output);
});

test('the same settings from a TEMPORAL_CONFIG_FILE profile work too', async () => {
  const toml = [
    '[profile.prod]',
    `address = ${JSON.stringify(proxy.address)}`,
    'namespace = "default"',
    '[profile.prod.tls]',
    `client_cert_path = ${JSON.stringify(good.clientCert)}`,
    `client_key_path = ${JSON.stringify(good.clientKey)}`,
    `server_ca_cert_path = ${JSON.stringify(good.caCert)}`,
    `server_name = ${JSON.stringify(SERVER_NAME)}`,
    '',
  ].join('\n');
  const file = path.join(dir, 'temporal.toml');
  fs.writeFileSync(file, toml);
  const settings = temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
  assert.equal(settings.address, proxy.address);
  const connection = await connectClient(settings);
  await connection.close();
  const res = await runSluice({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
  assert.equal(res.running, true, res.output);
});

test('with a client certificate from another CA Sluice is refused and says which address and certificate', async () => {
  const before = proxy.refusals;
  const res = await runSluice(tlsEnv(wrong));
  assert.equal(res.running, false, res.output);
  assert.equal(res.code, 1);
  assert.ok(proxy.refusals > before, 'the mTLS endpoint refused the handshake');
  assert.match(res.output, new RegExp(`cannot reach Temporal at ${proxy.address.replace(/\./g, '\\.')}`));
  assert.ok(res.output.includes(wrong.clientCert), `names the certificate file: ${res.output}`);
  assert.match(res.output, /TEMPORAL_TLS_CLIENT_CERT_PATH/);
  // Only paths reach the message, never key material.
  assert.ok(!res.output.includes('PRIVATE KEY'));
});

test('without a client certificate the endpoint refuses too', async () => {
  const { TEMPORAL_TLS_CLIENT_CERT_PATH: _c, TEMPORAL_TLS_CLIENT_KEY_PATH: _k, ...noCert } = tlsEnv(good);
  const settings = temporalSettingsFromEnv(noCert);
  await assert.rejects(() => connectClient(settings, 5_000), /cannot reach Temporal at .*no client certificate/);
});

test('/readyz is ready through mTLS and fails naming Temporal once it cannot be reached; /api/version answers', async () => {
  const own = await startMtlsProxy(good, stack.temporalAddress);
  const port = await freePort();
  const child = spawn(process.execPath, [workerMainPath], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      KUBECONFIG: stack.kubeconfigPath,
      SLUICE_WATCH_NAMESPACE: ns,
      SLUICE_TASK_QUEUE: `mtls-ready-${process.pid}-${port}`,
      SLUICE_API_PORT: String(port),
      ...tlsEnv(good),
      TEMPORAL_ADDRESS: own.address,
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually('/readyz answers 200', async () => (await fetch(`${url}/readyz`)).status === 200, 60_000, 300);
    const version = (await (await fetch(`${url}/api/version`)).json()) as { version: string };
    assert.equal(version.version, SLUICE_VERSION);
    await own.close();
    const body = await eventually(
      '/readyz answers 503',
      async () => {
        const res = await fetch(`${url}/readyz`);
        return res.status === 503 ? await res.text() : undefined;
      },
      30_000,
      300,
    );
    assert.match(body, /temporal unreachable/);
    assert.doesNotMatch(body, /kubernetes unreachable/);
  } finally {
    child.kill('SIGKILL');
    await exited;
    await own.close();
  }
});
