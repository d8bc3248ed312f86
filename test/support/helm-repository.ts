// Real chart servers on loopback for the Helm repository tests:
// - a Helm repository: an HTTP server over a folder holding `helm package` archives and the
//   `helm repo index` index.yaml (all a Helm repository is), with Basic auth;
// - an OCI registry: Debian's docker-registry (Distribution, Registry API v2) with its own
//   config and storage in a temporary folder, behind a small Basic-auth gate on another
//   loopback port (Distribution's own htpasswd wants bcrypt hashes, which nothing here
//   makes; the gate answers 401 with a Basic challenge the way the registry would).
// Charts are pushed with `helm push`.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ensureDebianPackage, ensureRenderer } from '../../stack/toolchain';

const run = promisify(execFile);

export interface ChartFiles {
  [file: string]: string;
}

/** A chart's files, Chart.yaml included, with a ConfigMap template showing its version. */
export function simpleChart(name: string, version: string, extra: ChartFiles = {}): ChartFiles {
  return {
    'Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: ${version}\n`,
    'values.yaml': 'greeting: hello\n',
    'templates/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-${name}
data:
  chartVersion: {{ .Chart.Version | quote }}
  greeting: {{ .Values.greeting | quote }}
`,
    ...extra,
  };
}

export async function helmBinary(): Promise<string> {
  return process.env.SLUICE_HELM || (await ensureRenderer('helm'));
}

/** `helm package` of the files into `dest`; returns the archive's path. */
export async function packageChart(files: ChartFiles, dest: string): Promise<string> {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chart-src-'));
  try {
    const name = /name:\s*(\S+)/.exec(files['Chart.yaml']!)![1]!;
    const dir = path.join(src, name);
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    fs.mkdirSync(dest, { recursive: true });
    const { stdout } = await run(await helmBinary(), ['package', dir, '--destination', dest], { env: { PATH: process.env.PATH, HOME: src } });
    return stdout.trim().split(' ').pop()!;
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
}

export interface HelmRepositoryServer {
  url: string;
  dir: string;
  username: string;
  password: string;
  /** Requests for index.yaml so far. */
  indexReads: number;
  /** Requests for archives so far. */
  archiveReads: number;
  /** Package a chart into the repository and re-index it. */
  add(files: ChartFiles): Promise<void>;
  /** Replace index.yaml with this text (bad input tests). */
  breakIndex(text: string): void;
  /** Re-index from the archives. */
  reindex(): Promise<void>;
  stop(): Promise<void>;
}

function basicOk(req: http.IncomingMessage, username: string, password: string): boolean {
  return req.headers.authorization === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A Helm repository at http://127.0.0.1:<port>/charts (and /<any>) with Basic auth. */
export async function startHelmRepository(username = 'helm-user', password = 'helm-s3cret-pw'): Promise<HelmRepositoryServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-helm-repo-'));
  const server = http.createServer((req, res) => {
    if (!basicOk(req, username, password)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="charts"' }).end('unauthorized');
      return;
    }
    // Any first path segment: /charts/… and /mirror/… are two repository URLs over the same folder.
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\/[^/]+\/?/, '');
    const file = path.join(dir, rel);
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    if (rel === 'index.yaml') repo.indexReads++;
    else repo.archiveReads++;
    res.writeHead(200, { 'Content-Type': rel.endsWith('.yaml') ? 'text/yaml' : 'application/gzip' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charts`;
  const reindex = async () => {
    await run(await helmBinary(), ['repo', 'index', dir, '--url', url], { env: { PATH: process.env.PATH, HOME: dir } });
  };
  const repo: HelmRepositoryServer = {
    url,
    dir,
    username,
    password,
    indexReads: 0,
    archiveReads: 0,
    async add(files) {
      await packageChart(files, dir);
      await reindex();
    },
    breakIndex(text) {
      fs.writeFileSync(path.join(dir, 'index.yaml'), text);
    },
    reindex,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return repo;
}

export interface OciRegistry {
  /** host:port of the authenticated gate, what repoURLs name. */
  host: string;
  username: string;
  password: string;
  /** `helm push` an archive to oci://host/<repository>. */
  push(archive: string, repository: string): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export async function startOciRegistry(username = 'oci-user', password = 'oci-s3cret-pw'): Promise<OciRegistry> {
  const binary = await ensureDebianPackage('docker-registry', '/usr/bin/docker-registry');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-registry-'));
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'storage')}
http:
  addr: 127.0.0.1:${port}
`,
  );
  const child: ChildProcess = spawn(binary, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  // Ready when /v2/ answers.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      http.get(`http://127.0.0.1:${port}/v2/`, (res) => (res.resume(), resolve(res.statusCode === 200))).on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const gate = http.createServer((req, res) => {
    if (!basicOk(req, username, password)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="registry"', 'Docker-Distribution-Api-Version': 'registry/2.0' }).end();
      return;
    }
    const headers = { ...req.headers, host: `127.0.0.1:${port}` };
    delete headers.authorization;
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, (up) => {
      const h = { ...up.headers };
      // Upload locations point at the registry itself: send them back through the gate.
      if (typeof h.location === 'string') h.location = h.location.replace(`127.0.0.1:${port}`, host);
      res.writeHead(up.statusCode ?? 502, h);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(gate.address() as AddressInfo).port}`;
  const registryConfig = path.join(dir, 'registry.json');
  fs.writeFileSync(registryConfig, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } }), { mode: 0o600 });
  return {
    host,
    username,
    password,
    async push(archive, repository) {
      await run(await helmBinary(), ['push', archive, `oci://${host}/${repository}`, '--plain-http', '--registry-config', registryConfig], {
        env: { PATH: process.env.PATH, HOME: dir },
      });
    },
    async stop() {
      gate.closeAllConnections();
      await new Promise<void>((resolve) => gate.close(() => resolve()));
      child.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
