// A real Docker Registry v2 (Debian's docker-registry) per test, on a free loopback port
// with its own config and storage, optionally behind htpasswd (Basic) or token (Bearer)
// auth. The token service is a small local server speaking the documented token protocol
// (https://distribution.github.io/distribution/spec/auth/token/), signing JWTs with a
// throwaway certificate the registry trusts. Images are pushed through the HTTP API.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createSign, randomBytes, X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureDebianPackage } from '../../stack/toolchain';
import { httpRequest } from '../../activities/images/http';
import { MEDIA_TYPES } from '../../activities/images/registry-client';

export interface TestRegistry {
  url: string;
  /** host:port, the image prefix. */
  host: string;
  credentials?: { username: string; password: string };
  /** Requests the registry has answered (from its access log count kept by the token server or a counter); tests use the client's counter. */
  push(repo: string, tag: string, image?: { created?: string; platforms?: string[]; content?: string }): Promise<string>;
  /** The registry's filesystem storage root (distribution's layout), for benches that seed it directly. */
  storageDir: string;
  /** Tags an image already there under more names (one manifest PUT each). */
  retag(repo: string, from: string, tags: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export async function startRegistry(opts: { auth?: 'basic' | 'token' } = {}): Promise<TestRegistry> {
  const binary = await ensureDebianPackage('docker-registry', '/usr/bin/docker-registry');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const credentials = opts.auth ? { username: 'puller', password: randomBytes(9).toString('hex') } : undefined;
  let authConfig = '';
  let tokenServer: http.Server | undefined;
  let mint: ((scope: string) => string) | undefined;
  if (opts.auth === 'basic') {
    const htpasswd = await ensureDebianPackage('apache2-utils', '/usr/bin/htpasswd');
    execFileSync(htpasswd, ['-Bbc', path.join(dir, 'htpasswd'), credentials!.username, credentials!.password], { stdio: 'ignore' });
    authConfig = `auth:\n  htpasswd:\n    realm: sluice-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=sluice-test-token',
      ],
      {
        stdio: 'ignore',
      },
    );
    const key = fs.readFileSync(path.join(dir, 'key.pem'));
    const der = new X509Certificate(fs.readFileSync(path.join(dir, 'cert.pem'))).raw;
    mint = (scope: string) => {
      const access = scope
        ? [{ type: scope.split(':')[0], name: scope.split(':').slice(1, -1).join(':'), actions: scope.split(':').slice(-1)[0]!.split(',') }]
        : [];
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
      const claims = b64url(
        JSON.stringify({
          iss: 'sluice-test-issuer',
          sub: 'puller',
          aud: 'sluice-test',
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: randomBytes(8).toString('hex'),
          access,
        }),
      );
      const sig = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
      return `${header}.${claims}.${b64url(sig)}`;
    };
    const tokenPort = await freePort();
    tokenServer = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const expected = `Basic ${Buffer.from(`${credentials!.username}:${credentials!.password}`).toString('base64')}`;
      if (u.pathname !== '/token' || req.headers.authorization !== expected || u.searchParams.get('service') !== 'sluice-test') {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: mint!(u.searchParams.get('scope') ?? '') }));
    });
    await new Promise<void>((r) => tokenServer!.listen(tokenPort, '127.0.0.1', r));
    authConfig = `auth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: sluice-test\n    issuer: sluice-test-issuer\n    rootcertbundle: ${path.join(dir, 'cert.pem')}\n`;
  }
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n  secret: ${randomBytes(8).toString('hex')}\n${authConfig}`,
  );
  const child: ChildProcess = spawn(binary, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://${host}`;
  for (let i = 0; ; i++) {
    try {
      const r = await httpRequest(`${url}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || i > 100) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const pushAuth = (repo: string): Record<string, string> => {
    if (opts.auth === 'basic') return { authorization: `Basic ${Buffer.from(`${credentials!.username}:${credentials!.password}`).toString('base64')}` };
    if (opts.auth === 'token') return { authorization: `Bearer ${mint!(`repository:${repo}:pull,push`)}` };
    return {};
  };
  async function putBlob(repo: string, data: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await httpRequest(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: pushAuth(repo) });
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status} ${start.body.toString()}`);
    const loc = new URL(String(start.headers.location), url);
    loc.searchParams.set('digest', digest);
    const put = await httpRequest(loc.toString(), {
      method: 'PUT',
      headers: { ...pushAuth(repo), 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
    });
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${put.body.toString()}`);
    return digest;
  }
  async function putManifest(repo: string, ref: string, mediaType: string, body: unknown): Promise<string> {
    const data = Buffer.from(JSON.stringify(body));
    const res = await httpRequest(`${url}/v2/${repo}/manifests/${ref}`, {
      method: 'PUT',
      headers: { ...pushAuth(repo), 'content-type': mediaType },
      body: data,
    });
    if (res.status !== 201) throw new Error(`manifest put: HTTP ${res.status} ${res.body.toString()}`);
    return `sha256:${createHash('sha256').update(data).digest('hex')}`;
  }
  async function single(repo: string, ref: string, created: string, platform: string, content: string): Promise<{ digest: string; size: number }> {
    const [os_, arch, variant] = platform.split('/');
    const layer = Buffer.from(`layer ${content} ${platform}`);
    const config = Buffer.from(
      JSON.stringify({ created, os: os_, architecture: arch, ...(variant ? { variant } : {}), rootfs: { type: 'layers', diff_ids: [] }, config: {} }),
    );
    const layerDigest = await putBlob(repo, layer);
    const configDigest = await putBlob(repo, config);
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    };
    const body = Buffer.from(JSON.stringify(manifest));
    // An index's children are pushed by digest, so they add no tags.
    const digest = await putManifest(repo, ref || `sha256:${createHash('sha256').update(body).digest('hex')}`, MEDIA_TYPES.ociManifest, manifest);
    return { digest, size: Buffer.from(JSON.stringify(manifest)).length };
  }

  return {
    url,
    host,
    storageDir: path.join(dir, 'data'),
    ...(credentials ? { credentials } : {}),
    async push(repo, tag, image = {}) {
      const created = image.created ?? new Date().toISOString();
      const content = image.content ?? `${repo}:${tag}`;
      if (!image.platforms || image.platforms.length <= 1) return (await single(repo, tag, created, image.platforms?.[0] ?? 'linux/amd64', content)).digest;
      const manifests = [];
      for (const p of image.platforms) {
        const m = await single(repo, '', created, p, content);
        const [os_, architecture, variant] = p.split('/');
        manifests.push({
          mediaType: MEDIA_TYPES.ociManifest,
          digest: m.digest,
          size: m.size,
          platform: { os: os_, architecture, ...(variant ? { variant } : {}) },
        });
      }
      return putManifest(repo, tag, MEDIA_TYPES.ociIndex, { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests });
    },
    async retag(repo, from, tags) {
      const accept = Object.values(MEDIA_TYPES).join(', ');
      const res = await httpRequest(`${url}/v2/${repo}/manifests/${from}`, { headers: { ...pushAuth(repo), accept } });
      if (res.status !== 200) throw new Error(`manifest get: HTTP ${res.status}`);
      const mediaType = String(res.headers['content-type']);
      for (const t of tags) {
        const put = await httpRequest(`${url}/v2/${repo}/manifests/${t}`, {
          method: 'PUT',
          headers: { ...pushAuth(repo), 'content-type': mediaType },
          body: res.body,
        });
        if (put.status !== 201) throw new Error(`manifest put: HTTP ${put.status}`);
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      if (tokenServer) await new Promise((r) => tokenServer!.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
