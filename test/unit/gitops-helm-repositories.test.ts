// Charts fetched from a real Helm repository (an HTTP server over `helm package` archives
// and `helm repo index`, with Basic auth) and a real OCI registry (docker-registry, charts
// pushed with `helm push`): versions resolved, the index read once per TTL and again on a
// refresh, archives kept by digest, credentials never shown, bad input named.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { HelmRepositories } from '../../activities/render/helm-repositories';
import { repositoryCredentials } from '../../domain/applications/repository-secrets';
import {
  helmBinary,
  packageChart,
  simpleChart,
  startHelmRepository,
  startOciRegistry,
  type HelmRepositoryServer,
  type OciRegistry,
} from '../support/helm-repository';

let repo: HelmRepositoryServer;
let registry: OciRegistry;
let home: string;
let ttl = 60_000;
let helm: HelmRepositories;

before(async () => {
  process.env.SLUICE_HELM = await helmBinary();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-home-'));
  helm = new HelmRepositories(home, () => ttl);
  repo = await startHelmRepository();
  await repo.add(simpleChart('demo', '1.2.0'));
  await repo.add(simpleChart('demo', '1.2.3'));
  await repo.add(simpleChart('demo', '2.0.0'));
  registry = await startOciRegistry();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-oci-pkg-'));
  for (const v of ['0.1.0', '0.2.0', '1.0.0']) await registry.push(await packageChart(simpleChart('ocidemo', v), out), 'charts');
  fs.rmSync(out, { recursive: true, force: true });
});

after(async () => {
  await repo?.stop();
  await registry?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

const creds = () => repositoryCredentials({ type: 'helm', url: repo.url, username: repo.username, password: repo.password });
const ociCreds = (password = registry.password) => repositoryCredentials({ type: 'helm', username: registry.username, password, insecureOCIForceHttp: 'true' });

test('a constraint resolves to the highest matching version; the index is read once per TTL and again on a refresh', async () => {
  const reads = repo.indexReads;
  const pulled = await helm.pull({ repoURL: repo.url, chart: 'demo', targetRevision: '1.2.*', creds: creds() });
  assert.equal(pulled.version, '1.2.3');
  assert.match(fs.readFileSync(path.join(pulled.root, pulled.rel, 'Chart.yaml'), 'utf8'), /version: 1\.2\.3/);
  const archives = repo.archiveReads;
  // Another Application on the same repository: nothing fetched again.
  assert.equal((await helm.pull({ repoURL: repo.url, chart: 'demo', targetRevision: '>=1.0 <2', creds: creds() })).version, '1.2.3');
  assert.equal(repo.indexReads, reads + 1);
  assert.equal(repo.archiveReads, archives);
  await repo.add(simpleChart('demo', '1.2.4'));
  assert.equal((await helm.pull({ repoURL: repo.url, chart: 'demo', targetRevision: '1.2.*', creds: creds() })).version, '1.2.3', 'within the TTL');
  const refreshed = await helm.pull({ repoURL: repo.url, chart: 'demo', targetRevision: '1.2.*', creds: creds(), notBeforeMs: Date.now() });
  assert.equal(refreshed.version, '1.2.4');
  assert.equal(repo.indexReads, reads + 2);
  ttl = 0;
  await helm.pull({ repoURL: repo.url, chart: 'demo', targetRevision: '2.0.0', creds: creds() });
  assert.equal(repo.indexReads, reads + 3, 'an expired TTL reads the index again');
  ttl = 60_000;
});

test('bad input: unknown chart or version, an index that does not parse, wrong credentials, no server — named, never with the password', async () => {
  const wrong = repositoryCredentials({ username: repo.username, password: 'not-the-password-xyz' });
  const fails = async (req: Parameters<HelmRepositories['pull']>[0], pattern: RegExp) => {
    await assert.rejects(helm.pull({ ...req, hard: true }), (err: Error) => {
      assert.match(err.message, pattern);
      assert.ok(!err.message.includes(repo.password) && !err.message.includes('not-the-password-xyz'), err.message);
      return true;
    });
  };
  await fails(
    { repoURL: repo.url, chart: 'nope', targetRevision: '1.0.0', creds: creds() },
    /chart "nope" is not in Helm repository http:\/\/127\.0\.0\.1:\d+\/charts/,
  );
  await fails({ repoURL: repo.url, chart: 'demo', targetRevision: '9.x', creds: creds() }, /chart "demo" has no version matching "9\.x"/);
  await fails(
    { repoURL: repo.url, chart: 'demo', targetRevision: '1.2.*', creds: wrong },
    /Helm repository http:\/\/127\.0\.0\.1:\d+\/charts: fetching index\.yaml failed: HTTP 401 unauthorized/,
  );
  await fails(
    { repoURL: 'http://127.0.0.1:1/charts', chart: 'demo', targetRevision: '1.2.*' },
    /Helm repository http:\/\/127\.0\.0\.1:1\/charts: fetching index\.yaml failed/,
  );
  const good = fs.readFileSync(path.join(repo.dir, 'index.yaml'), 'utf8');
  repo.breakIndex('apiVersion: v1\nentries: [oops\n');
  await fails({ repoURL: repo.url, chart: 'demo', targetRevision: '1.2.*', creds: creds() }, /the index of Helm repository .* does not parse/);
  repo.breakIndex(good);
  assert.equal((await helm.pull({ repoURL: repo.url, chart: 'demo', targetRevision: '1.2.*', creds: creds(), hard: true })).version, '1.2.4');
});

test('an OCI chart: a constraint resolved against the registry, pulled once, with credentials from a private registry config', async () => {
  const ref = { repoURL: `oci://${registry.host}/charts`, chart: 'ocidemo', creds: ociCreds() };
  const pulled = await helm.pull({ ...ref, targetRevision: '^0.1' });
  assert.equal(pulled.version, '0.1.0');
  assert.equal((await helm.pull({ ...ref, targetRevision: '<1' })).version, '0.2.0');
  assert.equal((await helm.pull({ ...ref, targetRevision: '1.0.0' })).version, '1.0.0');
  // A bare registry path with enableOCI, Argo CD 2.x's way.
  const bare = repositoryCredentials({ username: registry.username, password: registry.password, enableOCI: 'true', insecureOCIForceHttp: 'true' });
  assert.equal((await helm.pull({ repoURL: `${registry.host}/charts`, chart: 'ocidemo', targetRevision: '0.2.0', creds: bare })).version, '0.2.0');
  await assert.rejects(helm.pull({ ...ref, creds: ociCreds('wrong-oci-pw-123'), targetRevision: '>=0.3', hard: true }), (err: Error) => {
    assert.match(err.message, /ocidemo/);
    assert.ok(!err.message.includes('wrong-oci-pw-123') && !err.message.includes(registry.password), err.message);
    return true;
  });
});

test('a git chart with dependencies in the authenticated repository builds once per Chart.lock', async () => {
  const chart = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-git-chart-'));
  const dir = path.join(chart, 'umbrella');
  fs.mkdirSync(path.join(dir, 'templates'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'Chart.yaml'),
    `apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n  - name: demo\n    version: "~1.2.0"\n    repository: ${repo.url}\n`,
  );
  let asked = 0;
  const built = await helm.withDependencies(dir, 'umbrella', async (url) => (asked++, url === repo.url ? creds() : undefined));
  assert.ok(built);
  assert.ok(fs.readdirSync(path.join(built, 'charts')).some((f) => /^demo-1\.2\.\d+\.tgz$/.test(f)));
  const reads = repo.archiveReads;
  assert.equal(await helm.withDependencies(dir, 'umbrella', async () => creds()), built);
  assert.equal(repo.archiveReads, reads, 'built once');
  assert.ok(asked >= 1);
  fs.rmSync(chart, { recursive: true, force: true });
});

test("Argo's helm fields reach helm template: skipCrds, skipTests, skipSchemaValidation, namespace, kubeVersion, apiVersions, fileParameters, ignoreMissingValueFiles", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-fields-'));
  const files: Record<string, string> = {
    'c/Chart.yaml': 'apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: ">=1.20.0-0"\n',
    'c/values.yaml': 'replicas: 1\n',
    'c/values.schema.json': '{"type":"object","properties":{"replicas":{"type":"integer"}}}',
    'c/crds/crd.yaml': 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.example.com\n',
    'c/templates/test.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations: {"helm.sh/hook": test}\n',
    'c/templates/cm.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  namespace: {{ .Release.Namespace }}
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
  file: {{ .Values.motd | quote }}
  replicas: {{ .Values.replicas | quote }}
`,
    'c/motd.txt': 'hello from a file',
  };
  for (const [f, t] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), t);
  }
  const { renderHelm } = await import('../../activities/render/helm');
  const all = await renderHelm(root, 'c', { valuesObject: { replicas: 'two' }, skipSchemaValidation: true }, 'app', 'dest');
  assert.deepEqual(all.map((m) => m.kind).sort(), ['ConfigMap', 'CustomResourceDefinition', 'Pod']);
  const out = await renderHelm(
    root,
    'c',
    {
      skipCrds: true,
      skipTests: true,
      namespace: 'release-ns',
      kubeVersion: '1.29.3',
      apiVersions: ['monitoring.coreos.com/v1'],
      fileParameters: [{ name: 'motd', path: 'motd.txt' }],
      valueFiles: ['missing.yaml'],
      ignoreMissingValueFiles: true,
    },
    'app',
    'dest',
  );
  assert.deepEqual(
    out.map((m) => m.kind),
    ['ConfigMap'],
  );
  assert.equal(out[0]!.metadata.namespace, 'release-ns');
  assert.deepEqual((out[0] as any).data, { kube: 'v1.29.3', monitoring: 'true', file: 'hello from a file', replicas: '1' });
  await assert.rejects(renderHelm(root, 'c', { valuesObject: { replicas: 'two' } }, 'app', 'dest'), /schema|replicas/);
  await assert.rejects(renderHelm(root, 'c', { valueFiles: ['missing.yaml'] }, 'app', 'dest'), /missing\.yaml/);
  await assert.rejects(renderHelm(root, 'c', { fileParameters: [{ name: 'x', path: '../../etc/passwd' }] }, 'app', 'dest'), /leaves the repository|outside/);
  fs.rmSync(root, { recursive: true, force: true });
});

test('an https repository with its own CA (argocd-tls-certs-cm) is trusted only with that CA', async () => {
  const { execFileSync } = await import('node:child_process');
  const https = await import('node:https');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  const index = fs.readFileSync(path.join(repo.dir, 'index.yaml'));
  const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert }, (_req, res) => res.end(index));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/charts`;
  try {
    await assert.rejects(helm.index({ repoURL: url, chart: 'demo' }), /fetching index\.yaml failed: self[- ]signed certificate/);
    const withCA = { ...repositoryCredentials({}), tlsCA: cert };
    assert.ok((await helm.index({ repoURL: url, chart: 'demo', creds: withCA })).has('demo'));
  } finally {
    server.closeAllConnections();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an https repository that asks for a client certificate gets the one in the repository Secret, and refuses a request without it', async () => {
  const { execFileSync } = await import('node:child_process');
  const https = await import('node:https');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-mtls-'));
  const selfSigned = (name: string, cn: string, san?: string) =>
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
        ...(san ? ['-addext', `subjectAltName=${san}`] : []),
        '-keyout',
        path.join(dir, `${name}.key`),
        '-out',
        path.join(dir, `${name}.crt`),
      ],
      { stdio: 'ignore' },
    );
  selfSigned('server', '127.0.0.1', 'IP:127.0.0.1');
  selfSigned('client', 'sluice');
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  const index = fs.readFileSync(path.join(repo.dir, 'index.yaml'));
  const seen: string[] = [];
  const server = https.createServer(
    { key: read('server.key'), cert: read('server.crt'), ca: read('client.crt'), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      seen.push(String((req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? ''));
      res.end(index);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/charts`;
  try {
    const withCA = { ...repositoryCredentials({}), tlsCA: read('server.crt') };
    await assert.rejects(helm.index({ repoURL: url, chart: 'demo', creds: withCA }), /fetching index\.yaml failed/);
    const withClientCert = { ...withCA, tlsClientCertData: read('client.crt'), tlsClientCertKey: read('client.key') };
    assert.ok((await helm.index({ repoURL: url, chart: 'demo', creds: withClientCert })).has('demo'));
    assert.deepEqual(seen, ['sluice'], 'only the request with the certificate got through, and it was ours');
  } finally {
    server.closeAllConnections();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
