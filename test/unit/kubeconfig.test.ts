import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kubeAccess, kubeAccessFromDefault, kubeAccessFromFiles, kubeAccessInCluster } from '../../k8s/kubeconfig';
import { repoRoot } from '../support/paths';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const headers = async (access: { requestOptions(): Promise<{ headers?: unknown }> }) => (await access.requestOptions()).headers as Record<string, unknown>;

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-kubeconfig-'));
}

function write(dir: string, name: string, doc: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return file;
}

const config = (cluster: Record<string, unknown>, user: Record<string, unknown>, name = 'c') => ({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name, cluster }],
  users: [{ name, user }],
  contexts: [{ name, context: { cluster: name, user: name } }],
  'current-context': name,
});

test('a kubeconfig with a token, a CA file relative to it and client certificate data', async () => {
  const dir = tmpDir();
  write(dir, 'ca.crt', 'CA-PEM');
  const file = write(
    dir,
    'config',
    config(
      { server: 'https://api.example:6443/', 'certificate-authority': 'ca.crt', 'tls-server-name': 'kubernetes' },
      { token: 'tok', 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY'), as: 'alice', 'as-groups': ['devs'] },
    ),
  );
  const access = kubeAccessFromFiles([file]);
  assert.equal(access.server, 'https://api.example:6443');
  const opts = await access.requestOptions();
  assert.equal(String(opts.ca), 'CA-PEM');
  assert.equal(String(opts.cert), 'CERT');
  assert.equal(String(opts.key), 'KEY');
  assert.equal(opts.servername, 'kubernetes');
  assert.equal(opts.rejectUnauthorized, undefined, 'TLS verified unless the kubeconfig says otherwise');
  assert.deepEqual(opts.headers, { Authorization: 'Bearer tok', 'Impersonate-User': 'alice', 'Impersonate-Group': ['devs'] });
  fs.rmSync(dir, { recursive: true });
});

test('client certificate files and insecure-skip-tls-verify; basic auth', async () => {
  const dir = tmpDir();
  write(dir, 'a.crt', 'CERT-FILE');
  write(dir, 'a.key', 'KEY-FILE');
  const file = write(
    dir,
    'config',
    config(
      { server: 'https://10.0.0.1', 'insecure-skip-tls-verify': true },
      { 'client-certificate': 'a.crt', 'client-key': path.join(dir, 'a.key'), username: 'u', password: 'p' },
    ),
  );
  const opts = await kubeAccessFromFiles([file]).requestOptions();
  assert.equal(String(opts.cert), 'CERT-FILE');
  assert.equal(String(opts.key), 'KEY-FILE');
  assert.equal(opts.rejectUnauthorized, false);
  assert.equal((opts.headers as Record<string, string>).Authorization, `Basic ${b64('u:p')}`);
  fs.rmSync(dir, { recursive: true });
});

test('a token file is read again once its refresh interval has passed', async () => {
  const dir = tmpDir();
  const tokenFile = write(dir, 'token', 'first\n');
  const access = kubeAccess({ name: 'c', server: 'https://api' }, { name: 'u', tokenFile }, 0);
  assert.equal((await headers(access)).Authorization, 'Bearer first');
  fs.writeFileSync(tokenFile, 'second');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal((await headers(access)).Authorization, 'Bearer second');
  // A file missing for a moment (the kubelet swaps it): the last token serves.
  fs.rmSync(tokenFile);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal((await headers(access)).Authorization, 'Bearer second');
  const never = kubeAccess({ name: 'c', server: 'https://api' }, { name: 'u', tokenFile }, 0);
  await assert.rejects(never.requestOptions(), /cannot read the token file .*token: ENOENT/);
  fs.rmSync(dir, { recursive: true });
});

test('KUBECONFIG lists several files: the first to name an entry or the current context wins', async () => {
  const dir = tmpDir();
  const first = write(dir, 'one', { ...config({ server: 'https://one' }, { token: 'one' }, 'one'), 'current-context': 'two' });
  const second = write(dir, 'two', {
    ...config({ server: 'https://two' }, { token: 'two' }, 'two'),
    clusters: [
      { name: 'one', cluster: { server: 'https://shadowed' } },
      { name: 'two', cluster: { server: 'https://two' } },
    ],
    'current-context': 'one',
  });
  const access = kubeAccessFromDefault({ KUBECONFIG: `${first}${path.delimiter}${second}` });
  assert.equal(access.server, 'https://two');
  assert.equal((await headers(access)).Authorization, 'Bearer two');
  fs.rmSync(dir, { recursive: true });
});

test('in a cluster: the service account token and CA, the server from the environment', async () => {
  const dir = tmpDir();
  write(dir, 'token', 'sa-token');
  write(dir, 'ca.crt', 'SA-CA');
  const access = kubeAccessInCluster(dir, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
  assert.equal(access.server, 'https://10.96.0.1:443');
  const opts = await access.requestOptions();
  assert.equal(String(opts.ca), 'SA-CA');
  assert.equal(opts.rejectUnauthorized, undefined);
  assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer sa-token');
  assert.equal(kubeAccessInCluster(dir, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }).server, 'https://[fd00::1]:6443');
  assert.throws(() => kubeAccessInCluster(dir, {}), /KUBERNETES_SERVICE_HOST/);
  fs.rmSync(dir, { recursive: true });
});

test('refused or broken kubeconfigs say where, never what the credentials are', () => {
  const dir = tmpDir();
  const plain = write(dir, 'plain', config({ server: 'http://api:8080' }, { token: 'hunter2' }));
  assert.throws(
    () => kubeAccessFromFiles([plain]),
    (err: Error) => /plain HTTP/.test(err.message) && !err.message.includes('hunter2'),
  );
  const insecurePlain = write(dir, 'insecure-plain', config({ server: 'http://api:8080', 'insecure-skip-tls-verify': true }, { token: 't' }));
  assert.equal(kubeAccessFromFiles([insecurePlain]).server, 'http://api:8080');
  const broken = write(dir, 'broken', 'users:\n- name: u\n  user: {token: hunter2\n');
  assert.throws(
    () => kubeAccessFromFiles([broken]),
    (err: Error) => /not YAML/.test(err.message) && !err.message.includes('hunter2'),
  );
  const noContext = write(dir, 'no-context', { ...config({ server: 'https://a' }, { token: 'hunter2' }), 'current-context': 'other' });
  assert.throws(() => kubeAccessFromFiles([noContext]), /has no context other/);
  const missingCa = write(dir, 'missing-ca', config({ server: 'https://a', 'certificate-authority': 'nope.crt' }, { token: 'hunter2' }));
  assert.throws(() => kubeAccessFromFiles([missingCa]), /certificate-authority file .*nope\.crt: ENOENT/);
  fs.rmSync(dir, { recursive: true });
});

test('an exec plugin user is handed to client-node, which runs the plugin', async () => {
  const dir = tmpDir();
  const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } };
  const file = write(
    dir,
    'config',
    config(
      { server: 'https://api', 'certificate-authority-data': b64('CA') },
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: ['-e', `console.log(${JSON.stringify(JSON.stringify(credential))})`],
        },
      },
    ),
  );
  const opts = await kubeAccessFromFiles([file]).requestOptions();
  assert.equal((opts.headers as Record<string, string>).Authorization, 'Bearer from-exec');
  assert.equal(String(opts.ca), 'CA');
  assert.equal(opts.agent, undefined, "the KubeClient's own agent carries the requests");
  fs.rmSync(dir, { recursive: true });
});

test('the Sluice process starts without @kubernetes/client-node, axios or nodemailer (~50 MiB resident)', () => {
  const script = `require(${JSON.stringify(path.join(repoRoot, 'dist', 'cmd', 'process.js'))});
    const loaded = Object.keys(require.cache).filter((f) => /node_modules\\/(@kubernetes\\/client-node|axios|nodemailer)\\//.test(f)).map((f) => f.split('node_modules/')[1]);
    process.stdout.write(JSON.stringify(loaded));`;
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
  assert.deepEqual(loaded, []);
});
