// Charts from Helm repositories (index.yaml over HTTP) and OCI registries (the helm binary),
// fetched into $SLUICE_HOME/helm. One instance per worker process, shared by every
// Application:
// - each repository's index is read once per TTL (SLUICE_HELM_INDEX_TTL_MS, default 60 s) or
//   when a refresh asked for it, and Applications asking together share one request — Argo
//   CD users see index.yaml fetched on every reconcile of every app (argo-cd #5659, #12314);
// - a chart archive is kept by its sha256 digest and extracted once; a version already
//   pulled is not downloaded again;
// - a Git chart's `helm dependency build` runs once per Chart.lock (argo-cd #23402), with the
//   repository Secrets' credentials (argo-cd #7757, #22663).
// Credentials go in an Authorization header or in helm's config files inside a private
// temporary directory (mode 0700), never on a command line, in a log or in an error.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import {
  chartDownloadURL,
  ChartNotFoundError,
  ociChart,
  parseIndex,
  resolveChartVersion,
  sendsCredentials,
  type ChartIndex,
} from '../../domain/applications/helm-charts';
import { isExactVersion } from '../../domain/argo/semver';
import { credentialsFingerprint, type RepositoryCredentials } from '../../domain/applications/repository-secrets';
import { redactURL } from '../../domain/applications/source-safety';
import { RenderError } from './errors';
import { rendererBinary, runTool } from './tool';

const DEFAULT_INDEX_TTL_MS = 60_000;
const MAX_INDEX_BYTES = 64 * 2 ** 20;
const MAX_CHART_BYTES = 256 * 2 ** 20;

export const indexTtlMs = (): number => {
  const v = Number(process.env.SLUICE_HELM_INDEX_TTL_MS);
  return Number.isFinite(v) && v >= 0 && process.env.SLUICE_HELM_INDEX_TTL_MS !== '' ? v : DEFAULT_INDEX_TTL_MS;
};

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface ChartRequest {
  repoURL: string;
  chart: string;
  targetRevision?: string;
  creds?: RepositoryCredentials;
  /** helm.passCredentials: send the credentials to chart URLs on other hosts too. */
  passCredentials?: boolean;
  /** Read the index (or the registry's tags) anew unless read at or after this time (epoch ms). */
  notBeforeMs?: number;
  /** A hard refresh: nothing remembered about this repository is reused, archives aside (their digest names them). */
  hard?: boolean;
}

export interface PulledChart {
  /** The resolved chart version: the source's revision. */
  version: string;
  /** The directory the archive was extracted into (read-only for renders). */
  root: string;
  /** The chart's directory inside `root`. */
  rel: string;
}

interface HttpOptions {
  creds?: RepositoryCredentials;
  /** Send the credentials to this URL (same host, or passCredentials). */
  auth: boolean;
  limit: number;
}

/** GET with Basic auth and TLS client certificates as the Secret says; follows up to 5 redirects, dropping credentials across hosts. */
function get(url: string, opts: HttpOptions, redirects = 5): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = { 'User-Agent': 'sluice', Accept: '*/*' };
    if (opts.auth && (opts.creds?.username || opts.creds?.password))
      headers.Authorization = `Basic ${Buffer.from(`${opts.creds.username ?? ''}:${opts.creds.password ?? ''}`).toString('base64')}`;
    const tls =
      u.protocol === 'https:'
        ? {
            ca: opts.creds?.tlsCA,
            cert: opts.creds?.tlsClientCertData,
            key: opts.creds?.tlsClientCertKey,
            rejectUnauthorized: !opts.creds?.insecure,
          }
        : {};
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.get(u, { headers, timeout: 60_000, ...tls }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new Error('too many redirects'));
        const next = new URL(res.headers.location, u).toString();
        const sameHost = new URL(next).host === u.host;
        return resolve(get(next, { ...opts, auth: opts.auth && sameHost }, redirects - 1));
      }
      if (status !== 200) {
        res.resume();
        const why = status === 401 ? 'unauthorized (check the repository Secret)' : status === 403 ? 'forbidden' : status === 404 ? 'not found' : '';
        return reject(new Error(`HTTP ${status}${why ? ` ${why}` : ''}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (d: Buffer) => {
        size += d.length;
        if (size > opts.limit) {
          req.destroy(new Error(`larger than ${opts.limit} bytes`));
          return;
        }
        chunks.push(d);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** Extracts a chart archive; returns the chart's directory name inside `into` (the one holding Chart.yaml). */
async function extract(archive: string, into: string, what: string): Promise<string> {
  // GNU tar drops leading "/" and refuses "..", so entries stay inside `into`.
  await runTool('tar', ['-xzf', archive, '--no-same-owner', '--no-same-permissions', '-C', into], into, `extracting ${what}`);
  const charts = fs.readdirSync(into, { withFileTypes: true }).filter((e) => e.isDirectory() && fs.existsSync(path.join(into, e.name, 'Chart.yaml')));
  if (charts.length !== 1) throw new RenderError(`${what} is not a chart archive (no single directory with Chart.yaml)`);
  return charts[0]!.name;
}

/** A private directory for helm's config, registry credentials and caches; removed after use. */
function privateDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** helm's environment pointed at `dir`, so it reads and writes nothing of the worker's own. */
function helmEnv(dir: string): Record<string, string> {
  return {
    HOME: dir,
    HELM_CONFIG_HOME: path.join(dir, 'config'),
    HELM_CACHE_HOME: path.join(dir, 'cache'),
    HELM_DATA_HOME: path.join(dir, 'data'),
    HELM_REGISTRY_CONFIG: path.join(dir, 'registry.json'),
    HELM_REPOSITORY_CONFIG: path.join(dir, 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: path.join(dir, 'repository-cache'),
  };
}

/** Writes the registry credentials for `registries` as helm's (Docker's) config.json. */
function writeRegistryConfig(dir: string, registries: Map<string, RepositoryCredentials | undefined>): void {
  const auths: Record<string, { auth: string }> = {};
  for (const [registry, c] of registries)
    if (c?.username || c?.password) auths[registry] = { auth: Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64') };
  fs.writeFileSync(path.join(dir, 'registry.json'), JSON.stringify({ auths }), { mode: 0o600 });
}

function writePrivate(dir: string, name: string, text: string): string {
  fs.writeFileSync(path.join(dir, name), text, { mode: 0o600 });
  return path.join(dir, name);
}

/** helm's flags for reaching a registry as the Secret says (no secrets in them). */
function registryFlags(dir: string, c: RepositoryCredentials | undefined): string[] {
  const flags: string[] = [];
  if (c?.insecureOCIForceHttp) flags.push('--plain-http');
  if (c?.insecure) flags.push('--insecure-skip-tls-verify');
  if (c?.tlsCA) {
    fs.writeFileSync(path.join(dir, 'ca.crt'), c.tlsCA, { mode: 0o600 });
    flags.push('--ca-file', path.join(dir, 'ca.crt'));
  }
  if (c?.tlsClientCertData && c.tlsClientCertKey) {
    fs.writeFileSync(path.join(dir, 'client.crt'), c.tlsClientCertData, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'client.key'), c.tlsClientCertKey, { mode: 0o600 });
    flags.push('--cert-file', path.join(dir, 'client.crt'), '--key-file', path.join(dir, 'client.key'));
  }
  return flags;
}

interface Remembered<T> {
  at: number;
  value: T;
}

export class HelmRepositories {
  private readonly indexes = new Map<string, Remembered<ChartIndex>>();
  /** OCI: a constraint resolved against the registry's tags, remembered like an index. */
  private readonly ociVersions = new Map<string, Remembered<string>>();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly home: string,
    private readonly ttlMs: () => number = indexTtlMs,
  ) {}

  private dir(...parts: string[]): string {
    const d = path.join(this.home, 'helm', ...parts);
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  /** One request per key at a time; a remembered answer is reused while fresh. */
  private async remembered<T>(
    cache: Map<string, Remembered<T>>,
    key: string,
    req: { notBeforeMs?: number; hard?: boolean },
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = cache.get(key);
    const fresh = hit && !req.hard && Date.now() - hit.at < this.ttlMs() && (req.notBeforeMs === undefined || hit.at >= req.notBeforeMs);
    if (hit && fresh) return hit.value;
    const pending = this.running.get(key) as Promise<T> | undefined;
    if (pending && !req.hard) return pending;
    const started = Date.now();
    const p = load()
      .then((value) => (cache.set(key, { at: started, value }), value))
      .finally(() => this.running.get(key) === p && this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  /** The repository's index.yaml, parsed; shared by every Application on the repository. */
  index(req: ChartRequest): Promise<ChartIndex> {
    const repo = req.repoURL.replace(/\/+$/, '');
    const key = `${repo}\n${credentialsFingerprint(req.creds, sha256)}`;
    return this.remembered(this.indexes, key, req, async () => {
      let body: Buffer;
      try {
        body = await get(`${repo}/index.yaml`, { creds: req.creds, auth: true, limit: MAX_INDEX_BYTES });
      } catch (err) {
        throw new RenderError(`Helm repository ${redactURL(repo)}: fetching index.yaml failed: ${(err as Error).message}`);
      }
      try {
        return parseIndex(body.toString('utf8'), repo);
      } catch (err) {
        throw new RenderError((err as Error).message);
      }
    });
  }

  /** Resolves and downloads a chart from a Helm repository or an OCI registry. */
  async pull(req: ChartRequest): Promise<PulledChart> {
    const oci = ociChart(req.repoURL, req.chart, !!req.creds?.enableOCI);
    if (oci) return this.pullOci(req, oci.registry, oci.reference);
    const index = await this.index(req).catch((err: Error) => {
      throw err instanceof RenderError ? new RenderError(`chart ${JSON.stringify(req.chart)}: ${err.message}`) : err;
    });
    let entry;
    let url: string;
    try {
      entry = resolveChartVersion(index, req.chart, req.targetRevision, req.repoURL);
      url = chartDownloadURL(req.repoURL, entry);
    } catch (err) {
      if (err instanceof ChartNotFoundError) throw new RenderError(err.message);
      throw err;
    }
    const what = `chart ${JSON.stringify(req.chart)} ${entry.version} from ${redactURL(req.repoURL)}`;
    // An archive named by the index's digest is the same bytes forever; without a digest, by its URL.
    const byUrl = path.join(this.dir('by-url'), sha256(`${url}\n${entry.version}`));
    const known = entry.digest ?? (fs.existsSync(byUrl) ? fs.readFileSync(byUrl, 'utf8').trim() : undefined);
    if (known) {
      const done = this.extracted(known);
      if (done) return { version: entry.version, ...done };
    }
    return this.serially(`chart:${url}`, async () => {
      let body: Buffer;
      try {
        body = await get(url, { creds: req.creds, auth: sendsCredentials(req.repoURL, url, !!req.passCredentials), limit: MAX_CHART_BYTES });
      } catch (err) {
        throw new RenderError(`${what}: download failed: ${(err as Error).message}`);
      }
      const digest = sha256(body);
      if (entry.digest && entry.digest !== digest) throw new RenderError(`${what}: the archive's sha256 ${digest} is not the index's digest ${entry.digest}`);
      const stored = await this.store(digest, body, what);
      if (!entry.digest) fs.writeFileSync(byUrl, digest);
      return { version: entry.version, ...stored };
    });
  }

  private readonly locks = new Map<string, Promise<unknown>>();
  private serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.locks.set(key, next);
    void next.finally(() => this.locks.get(key) === next && this.locks.delete(key)).catch(() => undefined);
    return next;
  }

  /** The extracted chart of an archive already kept, if any. */
  private extracted(digest: string): { root: string; rel: string } | undefined {
    const root = path.join(this.home, 'helm', 'charts', digest);
    const marker = path.join(root, '.sluice-chart');
    if (!fs.existsSync(marker)) return undefined;
    return { root, rel: fs.readFileSync(marker, 'utf8').trim() };
  }

  /** Keeps an archive by digest and extracts it once; concurrent workers race to one rename. */
  private async store(digest: string, body: Buffer, what: string): Promise<{ root: string; rel: string }> {
    const done = this.extracted(digest);
    if (done) return done;
    const charts = this.dir('charts');
    const tmp = fs.mkdtempSync(path.join(charts, `.tmp-${digest.slice(0, 12)}-`));
    try {
      const archive = path.join(tmp, 'chart.tgz');
      fs.writeFileSync(archive, body);
      const tree = path.join(tmp, 'tree');
      fs.mkdirSync(tree);
      const rel = await extract(archive, tree, what);
      fs.writeFileSync(path.join(tree, '.sluice-chart'), rel);
      fs.renameSync(archive, path.join(charts, `${digest}.tgz`));
      try {
        fs.renameSync(tree, path.join(charts, digest));
      } catch (err) {
        if (!this.extracted(digest)) throw err;
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return this.extracted(digest)!;
  }

  /** An OCI chart: the version (a constraint resolved by helm against the registry's tags), then `helm pull`. */
  private async pullOci(req: ChartRequest, registry: string, reference: string): Promise<PulledChart> {
    const helm = rendererBinary('helm');
    const what = `chart ${JSON.stringify(req.chart)} from OCI registry ${redactURL(req.repoURL)}`;
    const wanted = (req.targetRevision ?? '').trim();
    const withHelm = async <T>(fn: (dir: string, flags: string[], env: Record<string, string>) => Promise<T>): Promise<T> => {
      const dir = privateDir('sluice-helm-oci-');
      try {
        writeRegistryConfig(dir, new Map([[registry, req.creds]]));
        return await fn(dir, registryFlags(dir, req.creds), helmEnv(dir));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const version = isExactVersion(wanted)
      ? wanted.replace(/^v/, '')
      : await this.remembered(this.ociVersions, `${reference}\n${wanted}\n${credentialsFingerprint(req.creds, sha256)}`, req, () =>
          withHelm(async (dir, flags, env) => {
            const args = ['show', 'chart', reference, ...(wanted ? ['--version', wanted] : []), ...flags];
            const out = await runTool(helm, args, dir, `helm show chart (${what})`, 120_000, env);
            const v = (parse(out) as { version?: unknown } | null)?.version;
            if (v === undefined || v === null) throw new RenderError(`${what}: the registry's Chart.yaml has no version`);
            return String(v);
          }),
        );
    const key = path.join(this.dir('by-url'), sha256(`${reference}\n${version}`));
    if (!req.hard && fs.existsSync(key)) {
      const done = this.extracted(fs.readFileSync(key, 'utf8').trim());
      if (done) return { version, ...done };
    }
    return this.serially(`oci:${reference}:${version}`, () =>
      withHelm(async (dir, flags, env) => {
        const dest = path.join(dir, 'pulled');
        fs.mkdirSync(dest);
        await runTool(helm, ['pull', reference, '--version', version, '--destination', dest, ...flags], dir, `helm pull (${what} ${version})`, 300_000, env);
        const file = fs.readdirSync(dest).find((f) => f.endsWith('.tgz'));
        if (!file) throw new RenderError(`${what} ${version}: helm pull wrote no archive`);
        const body = fs.readFileSync(path.join(dest, file));
        const digest = sha256(body);
        const stored = await this.store(digest, body, `${what} ${version}`);
        fs.writeFileSync(key, digest);
        return { version, ...stored };
      }),
    );
  }

  /**
   * A Git chart with dependencies and no charts/: a copy of it with `helm dependency build`
   * done, the built charts/ kept by Chart.lock (or, without one, by Chart.yaml). Returns
   * undefined when there is nothing to build. `credsFor` gives the Secret for a dependency's
   * repository URL.
   */
  async withDependencies(
    chartDir: string,
    shown: string,
    credsFor: (repoURL: string) => Promise<RepositoryCredentials | undefined>,
    hard = false,
  ): Promise<string | undefined> {
    const chartYaml = fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8');
    let deps: { name?: unknown; repository?: unknown }[] = [];
    try {
      const doc = parse(chartYaml) as { dependencies?: unknown } | null;
      if (Array.isArray(doc?.dependencies)) deps = doc.dependencies as typeof deps;
    } catch (err) {
      throw new RenderError(`${shown}/Chart.yaml does not parse: ${(err as Error).message.split('\n')[0]}`);
    }
    if (deps.length === 0) return undefined;
    if (fs.existsSync(path.join(chartDir, 'charts')) && fs.readdirSync(path.join(chartDir, 'charts')).length > 0) return undefined;
    const lockFile = ['Chart.lock', 'requirements.lock'].map((f) => path.join(chartDir, f)).find((f) => fs.existsSync(f));
    const lock = lockFile ? fs.readFileSync(lockFile, 'utf8') : chartYaml;
    const repos = [...new Set(deps.map((d) => (typeof d.repository === 'string' ? d.repository.trim() : '')).filter((r) => /^(https?|oci):\/\//.test(r)))];
    const creds = new Map<string, RepositoryCredentials | undefined>();
    for (const r of repos) creds.set(r, await credsFor(r));
    const key = sha256(JSON.stringify([lock, chartYaml, [...creds].map(([r, c]) => [r, credentialsFingerprint(c, sha256)])]));
    const built = path.join(this.home, 'helm', 'dependencies', key);
    // The chart's copy with the built charts/, per tree (trees never change) and lock.
    const copy = path.join(this.home, 'helm', 'with-dependencies', sha256(`${chartDir}\n${key}`), path.basename(chartDir));
    if (!hard && fs.existsSync(copy)) return copy;
    await this.serially(`deps:${key}`, async () => {
      if (!hard && fs.existsSync(built)) return;
      const dir = privateDir('sluice-helm-deps-');
      try {
        const work = path.join(dir, 'chart');
        fs.cpSync(chartDir, work, { recursive: true, verbatimSymlinks: true });
        const env = helmEnv(dir);
        // Each dependency repository once in a private repositories.yaml: helm matches a
        // dependency's URL to it and sends its credentials (Argo CD's `helm repo add`).
        const entries = repos
          .filter((r) => !r.startsWith('oci://'))
          .map((url, i) => {
            const c = creds.get(url);
            return {
              name: `sluice-${i}`,
              url,
              ...(c?.username ? { username: c.username } : {}),
              ...(c?.password ? { password: c.password } : {}),
              ...(c?.insecure ? { insecure_skip_tls_verify: true } : {}),
              ...(c?.tlsCA ? { caFile: writePrivate(dir, `ca-${i}.crt`, c.tlsCA) } : {}),
              ...(c?.tlsClientCertData && c.tlsClientCertKey
                ? { certFile: writePrivate(dir, `client-${i}.crt`, c.tlsClientCertData), keyFile: writePrivate(dir, `client-${i}.key`, c.tlsClientCertKey) }
                : {}),
              pass_credentials_all: false,
            };
          });
        fs.writeFileSync(env.HELM_REPOSITORY_CONFIG!, JSON.stringify({ apiVersion: 'v1', repositories: entries }), { mode: 0o600 });
        const registries = new Map<string, RepositoryCredentials | undefined>();
        for (const r of repos.filter((x) => x.startsWith('oci://'))) registries.set(r.slice('oci://'.length).split('/')[0]!, creds.get(r));
        writeRegistryConfig(dir, registries);
        const plainHttp = [...registries.values()].some((c) => c?.insecureOCIForceHttp) ? ['--plain-http'] : [];
        await runTool(rendererBinary('helm'), ['dependency', 'build', work, ...plainHttp], dir, `helm dependency build ${shown}`, 300_000, env);
        const tmp = `${built}.tmp-${process.pid}-${Date.now()}`;
        fs.mkdirSync(path.dirname(built), { recursive: true });
        fs.cpSync(path.join(work, 'charts'), tmp, { recursive: true });
        fs.rmSync(built, { recursive: true, force: true });
        fs.renameSync(tmp, built);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
    const tmp = `${copy}.tmp-${process.pid}-${Date.now()}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(chartDir, tmp, { recursive: true, verbatimSymlinks: true });
    fs.cpSync(built, path.join(tmp, 'charts'), { recursive: true });
    fs.rmSync(copy, { recursive: true, force: true });
    fs.renameSync(tmp, copy);
    return copy;
  }
}
