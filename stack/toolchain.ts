// Builds the tools the local stack needs, once, into a cache outside the repository
// keyed by tool and version (~/.cache/sluice/<tool>-<version>/), so CI and later
// sessions reuse them and a fresh machine builds them by itself. Go programs come
// from the Go module proxy; Prometheus from Debian's packages.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { trackChild } from './process-group';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const KWOK_VERSION = 'v0.7.0';
export const KUBERNETES_VERSION = 'v1.34.4';
// Renderers for Application sources; neither module's go.mod carries a replace directive.
export const KUSTOMIZE_VERSION = 'v5.8.1';
export const HELM_VERSION = 'v3.21.4';
/** gojq, for ignoreDifferences jqPathExpressions (Argo CD evaluates them with gojq too). v0.12.20 needs a go-yaml pseudo-version the module proxy refuses. */
export const GOJQ_VERSION = 'v0.12.17';
/** Argo Rollouts' kubectl plugin, for the tests that drive Sluice with Argo's own client; the version stack/argo-rollouts-plugin/go.mod requires. */
export const ARGO_ROLLOUTS_PLUGIN_VERSION = 'v1.10.1';

export const cacheRoot = () => process.env.SLUICE_CACHE ?? path.join(os.homedir(), '.cache', 'sluice');
const repoRoot = () => path.resolve(__dirname, '..', '..');
const controlPlaneModule = () => path.join(repoRoot(), 'stack', 'controlplane');
const goTemplateModule = () => path.join(repoRoot(), 'stack', 'gotemplate');
const argoRolloutsPluginModule = () => path.join(repoRoot(), 'stack', 'argo-rollouts-plugin');
const argoRolloutsControllerModule = () => path.join(repoRoot(), 'stack', 'argo-rollouts-controller');
const fluxControllersModule = () => path.join(repoRoot(), 'stack', 'flux-controllers');

export interface Tools {
  temporal: string;
  kwok: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
}

type Log = (line: string) => void;

/** Runs a command (argument array, never a shell string), streaming nothing unless it fails. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out.slice(-4000)}`))));
  });
}

/** Builds into a temporary directory and renames it into place, so a killed build never leaves a half tool. */
async function buildOnce(name: string, dir: string, binaries: string[], build: (tmp: string) => Promise<void>, log: Log): Promise<void> {
  if (binaries.every((b) => fs.existsSync(path.join(dir, b)))) return;
  // Another process (a second test run, `npm start` beside it) may be building the same
  // tool: wait for it rather than build it twice on two cores.
  const release = await buildLock(`${dir}.lock`, name, log);
  try {
    if (binaries.every((b) => fs.existsSync(path.join(dir, b)))) return;
    await buildNow(name, dir, build, log);
  } finally {
    release();
  }
}

/** A lock file holding the builder's pid; one left by a process that is gone is taken over. */
async function buildLock(lockFile: string, name: string, log: Log): Promise<() => void> {
  fs.mkdirSync(path.dirname(lockFile), { recursive: true });
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
    if (!holder || !processAlive(holder)) {
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (!told) log(`waiting for process ${holder}, which is building ${name} …`);
    told = true;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function buildNow(name: string, dir: string, build: (tmp: string) => Promise<void>, log: Log): Promise<void> {
  const started = Date.now();
  log(`building ${name} (first time only; cached in ${dir}) …`);
  const ticker = setInterval(() => log(`  … still building ${name}, ${Math.round((Date.now() - started) / 1000)}s`), 30_000);
  const tmp = `${dir}.tmp-${process.pid}`;
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    await build(tmp);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } finally {
    clearInterval(ticker);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`built ${name} in ${Math.round((Date.now() - started) / 1000)}s`);
}

const goEnv = (gobin?: string): NodeJS.ProcessEnv => ({ ...process.env, GOWORK: 'off', GOFLAGS: '-trimpath', ...(gobin ? { GOBIN: gobin } : {}) });

function goInstall(pkg: string, version: string) {
  return (tmp: string) => run('go', ['install', '-ldflags=-s -w', `${pkg}@${version}`], { env: goEnv(tmp) }).then(() => undefined);
}

/** A hash of a Go module's go.mod, go.sum and sources. */
function moduleKey(moduleDir: string): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(go|mod|sum)$/.test(entry.name)) h.update(entry.name).update(fs.readFileSync(p));
    }
  };
  walk(moduleDir);
  return h.digest('hex').slice(0, 12);
}

export async function ensureTools(log: Log = (l) => console.log(l)): Promise<Tools> {
  const root = cacheRoot();
  fs.mkdirSync(root, { recursive: true });
  const started = Date.now();

  const temporalDir = path.join(root, `temporal-${TEMPORAL_CLI_VERSION}`);
  const kwokDir = path.join(root, `kwok-${KWOK_VERSION}`);
  const cpDir = path.join(root, `kubernetes-${KUBERNETES_VERSION}-${moduleKey(controlPlaneModule())}`);
  const cpBins = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];

  // All at once: module downloads and single-threaded link steps of one build overlap
  // the compiles of another, which is what brings a first build on two cores down.
  await Promise.all([
    buildOnce(
      `temporal CLI ${TEMPORAL_CLI_VERSION}`,
      temporalDir,
      ['temporal'],
      goInstall('github.com/temporalio/cli/cmd/temporal', TEMPORAL_CLI_VERSION),
      log,
    ),
    buildOnce(`kwok ${KWOK_VERSION}`, kwokDir, ['kwok'], goInstall('sigs.k8s.io/kwok/cmd/kwok', KWOK_VERSION), log),
    buildOnce(
      `Kubernetes ${KUBERNETES_VERSION} control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)`,
      cpDir,
      cpBins,
      (tmp) => run('go', ['build', '-ldflags=-s -w', '-o', tmp + path.sep, './cmd/...'], { cwd: controlPlaneModule(), env: goEnv() }).then(() => undefined),
      log,
    ),
    useCachedRenderers(log),
  ]);
  const took = Date.now() - started;
  if (took > 2000) log(`tools ready in ${Math.round(took / 1000)}s`);
  return {
    temporal: path.join(temporalDir, 'temporal'),
    kwok: path.join(kwokDir, 'kwok'),
    etcd: path.join(cpDir, 'etcd'),
    kubeApiserver: path.join(cpDir, 'kube-apiserver'),
    kubeControllerManager: path.join(cpDir, 'kube-controller-manager'),
    kubeScheduler: path.join(cpDir, 'kube-scheduler'),
    kubectl: path.join(cpDir, 'kubectl'),
  };
}

/**
 * The renderers for Application sources, built on first use (the worker asks when it
 * first renders a kustomize or helm source), cached beside the other tools.
 */
const RENDERER_ENV = { kustomize: 'SLUICE_KUSTOMIZE', helm: 'SLUICE_HELM', gojq: 'SLUICE_GOJQ' } as const;

/**
 * Builds the renderers and points this process (and the processes it starts) at them
 * through SLUICE_KUSTOMIZE / SLUICE_HELM / SLUICE_GOJQ, unless those are set already.
 * Sluice's activities run whatever these name, else the tool on PATH.
 */
export async function useCachedRenderers(log: Log = () => undefined): Promise<void> {
  for (const tool of ['kustomize', 'helm', 'gojq'] as const) {
    const binary = await ensureRenderer(tool, log);
    process.env[RENDERER_ENV[tool]] ||= binary;
  }
  process.env.SLUICE_GOTEMPLATE ||= await ensureGoTemplate(log);
}

/**
 * The Go template helper (ApplicationSet goTemplate, notification templates): the module in
 * stack/gotemplate, built into gotemplate-<hash of the module>/sluice-gotemplate, so editing
 * it rebuilds. Activities run SLUICE_GOTEMPLATE, else sluice-gotemplate on PATH.
 */
export async function ensureGoTemplate(log: Log = () => undefined): Promise<string> {
  const root = cacheRoot();
  fs.mkdirSync(root, { recursive: true });
  const dir = path.join(root, `gotemplate-${moduleKey(goTemplateModule())}`);
  let pending = rendererBuilds.get(dir);
  if (!pending) {
    const build = (tmp: string) =>
      run('go', ['build', '-ldflags=-s -w', '-o', path.join(tmp, 'sluice-gotemplate'), '.'], { cwd: goTemplateModule(), env: goEnv() }).then(() => undefined);
    pending = buildOnce('Go template helper (text/template + Sprig)', dir, ['sluice-gotemplate'], build, log);
    rendererBuilds.set(dir, pending);
    pending.catch(() => rendererBuilds.delete(dir));
  }
  await pending;
  return path.join(dir, 'sluice-gotemplate');
}

export async function ensureRenderer(tool: 'kustomize' | 'helm' | 'gojq', log: Log = () => undefined): Promise<string> {
  const root = cacheRoot();
  fs.mkdirSync(root, { recursive: true });
  const [version, pkg] = RENDERERS[tool];
  const dir = path.join(root, `${tool}-${version}`);
  let pending = rendererBuilds.get(dir);
  if (!pending) {
    pending = buildOnce(`${tool} ${version}`, dir, [tool], goInstall(pkg, version), log);
    rendererBuilds.set(dir, pending);
    pending.catch(() => rendererBuilds.delete(dir));
  }
  await pending;
  return path.join(dir, tool);
}
const rendererBuilds = new Map<string, Promise<void>>();
// Pinned tags; none of these go.mod files has a replace directive, so `go install pkg@tag` builds them as released.
const RENDERERS = {
  kustomize: [KUSTOMIZE_VERSION, 'sigs.k8s.io/kustomize/kustomize/v5'],
  helm: [HELM_VERSION, 'helm.sh/helm/v3/cmd/helm'],
  gojq: [GOJQ_VERSION, 'github.com/itchyny/gojq/cmd/gojq'],
} as const;

/**
 * kubectl-argo-rollouts, built once from the wrapper module in stack/argo-rollouts-plugin
 * (several minutes on two cores the first time). Put its directory on PATH and
 * `kubectl argo rollouts …` finds it.
 */
export async function ensureArgoRolloutsPlugin(log: Log = (l) => console.log(l)): Promise<string> {
  const moduleDir = argoRolloutsPluginModule();
  const dir = path.join(cacheRoot(), `kubectl-argo-rollouts-${ARGO_ROLLOUTS_PLUGIN_VERSION}-${moduleKey(moduleDir)}`);
  const pkg = 'github.com/argoproj/argo-rollouts';
  // The same link-time version upstream's Makefile sets, so `kubectl argo rollouts version` says which release this is.
  const ldflags = `-s -w -X ${pkg}/utils/version.version=${ARGO_ROLLOUTS_PLUGIN_VERSION.replace(/^v/, '')}`;
  await buildOnce(
    `kubectl-argo-rollouts ${ARGO_ROLLOUTS_PLUGIN_VERSION}`,
    dir,
    ['kubectl-argo-rollouts'],
    (tmp) =>
      run('go', ['build', `-ldflags=${ldflags}`, '-o', path.join(tmp, 'kubectl-argo-rollouts'), `${pkg}/cmd/kubectl-argo-rollouts`], {
        cwd: moduleDir,
        env: { ...goEnv(), CGO_ENABLED: '0', GOTOOLCHAIN: 'local' },
      }).then(() => undefined),
    log,
  );
  return path.join(dir, 'kubectl-argo-rollouts');
}

/** Argo Rollouts' controller, the peer the benches measure Sluice against; the version stack/argo-rollouts-controller/go.mod requires. */
export const ARGO_ROLLOUTS_CONTROLLER_VERSION = 'v1.10.1';

export interface ArgoRolloutsController {
  binary: string;
  /** Upstream's CRDs of the same release (manifests/crds/*-crd.yaml), which the controller needs installed. */
  crdsDir: string;
  version: string;
}

/**
 * rollouts-controller, built once from the wrapper module in stack/argo-rollouts-controller
 * into rollouts-controller-<version>-<hash of the module>/, with the release's CRDs copied
 * beside it from the module cache. The first build takes 6+ minutes on two cores: it runs
 * at low priority (nice 10) so a shared machine's other work goes on meanwhile.
 */
export async function ensureArgoRolloutsController(log: Log = (l) => console.log(l)): Promise<ArgoRolloutsController> {
  const moduleDir = argoRolloutsControllerModule();
  const version = ARGO_ROLLOUTS_CONTROLLER_VERSION;
  const dir = path.join(cacheRoot(), `rollouts-controller-${version}-${moduleKey(moduleDir)}`);
  const pkg = 'github.com/argoproj/argo-rollouts';
  const env = { ...goEnv(), CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
  const ldflags = `-s -w -X ${pkg}/utils/version.version=${version.replace(/^v/, '')}`;
  await buildOnce(
    `Argo Rollouts controller ${version}`,
    dir,
    ['rollouts-controller', 'crds'],
    async (tmp) => {
      await run('nice', ['-n', '10', 'go', 'build', `-ldflags=${ldflags}`, '-o', path.join(tmp, 'rollouts-controller'), `${pkg}/cmd/rollouts-controller`], {
        cwd: moduleDir,
        env,
      });
      // `run` merges stderr in (a "go: downloading" line, at most): the folder is the last line.
      const source = (await run('go', ['list', '-m', '-f', '{{.Dir}}', pkg], { cwd: moduleDir, env })).trim().split('\n').pop()!;
      const crds = path.join(source, 'manifests', 'crds');
      fs.mkdirSync(path.join(tmp, 'crds'));
      for (const f of fs.readdirSync(crds).filter((f) => f.endsWith('-crd.yaml'))) {
        // The module cache is read-only; the copies need not be.
        fs.copyFileSync(path.join(crds, f), path.join(tmp, 'crds', f));
        fs.chmodSync(path.join(tmp, 'crds', f), 0o644);
      }
    },
    log,
  );
  return { binary: path.join(dir, 'rollouts-controller'), crdsDir: path.join(dir, 'crds'), version };
}

/** Flux's controllers, the GitOps bench's peer; the versions stack/flux-controllers/go.mod requires. */
export const FLUX_SOURCE_CONTROLLER_VERSION = 'v1.9.6';
export const FLUX_KUSTOMIZE_CONTROLLER_VERSION = 'v1.9.6';

export interface FluxControllers {
  sourceController: string;
  kustomizeController: string;
  /** Both controllers' CRDs of the same releases (config/crd/bases), which they need installed. */
  crdsDir: string;
  /** "source-controller v1.9.6, kustomize-controller v1.9.6". */
  version: string;
}

/**
 * source-controller and kustomize-controller, built once from the wrapper module in
 * stack/flux-controllers into flux-controllers-<versions>-<hash of the module>/, with their
 * CRDs copied beside them from the module cache. The first build takes minutes on two
 * cores: it runs at low priority (nice 10), as upstream builds them (no cgo).
 */
export async function ensureFluxControllers(log: Log = (l) => console.log(l)): Promise<FluxControllers> {
  const moduleDir = fluxControllersModule();
  const versions = `source-${FLUX_SOURCE_CONTROLLER_VERSION}-kustomize-${FLUX_KUSTOMIZE_CONTROLLER_VERSION}`;
  const dir = path.join(cacheRoot(), `flux-controllers-${versions}-${moduleKey(moduleDir)}`);
  const modules = ['github.com/fluxcd/source-controller', 'github.com/fluxcd/kustomize-controller'];
  const env = { ...goEnv(), CGO_ENABLED: '0', GOTOOLCHAIN: 'local' };
  await buildOnce(
    `Flux source-controller ${FLUX_SOURCE_CONTROLLER_VERSION} and kustomize-controller ${FLUX_KUSTOMIZE_CONTROLLER_VERSION}`,
    dir,
    ['source-controller', 'kustomize-controller', 'crds'],
    async (tmp) => {
      // One `go build` of both: they share most of their dependencies, compiled once.
      await run('nice', ['-n', '10', 'go', 'build', '-ldflags=-s -w', '-o', tmp + path.sep, ...modules], { cwd: moduleDir, env });
      fs.mkdirSync(path.join(tmp, 'crds'));
      for (const mod of modules) {
        // `run` merges stderr in (a "go: downloading" line, at most): the folder is the last line.
        const source = (await run('go', ['list', '-m', '-f', '{{.Dir}}', mod], { cwd: moduleDir, env })).trim().split('\n').pop()!;
        const crds = path.join(source, 'config', 'crd', 'bases');
        for (const f of fs.readdirSync(crds).filter((f) => f.endsWith('.yaml'))) {
          // The module cache is read-only; the copies need not be.
          fs.copyFileSync(path.join(crds, f), path.join(tmp, 'crds', f));
          fs.chmodSync(path.join(tmp, 'crds', f), 0o644);
        }
      }
    },
    log,
  );
  return {
    sourceController: path.join(dir, 'source-controller'),
    kustomizeController: path.join(dir, 'kustomize-controller'),
    crdsDir: path.join(dir, 'crds'),
    version: `source-controller ${FLUX_SOURCE_CONTROLLER_VERSION}, kustomize-controller ${FLUX_KUSTOMIZE_CONTROLLER_VERSION}`,
  };
}

/**
 * A program from Debian's packages, installed when absent (a fresh machine, a clean CI runner).
 * apt's own lock is waited for, so two test processes installing at once queue instead of failing.
 */
export async function ensureDebianPackage(pkg: string, binary: string, log: Log = (l) => console.log(l)): Promise<string> {
  if (fs.existsSync(binary)) return binary;
  log(`installing ${pkg} from Debian packages (first time only) …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lockWait = ['-o', 'DPkg::Lock::Timeout=600'];
  await run('apt-get', [...lockWait, 'update', '-qq'], { env });
  await run('apt-get', [...lockWait, 'install', '-y', '-qq', '--no-install-recommends', pkg], { env });
  if (!fs.existsSync(binary)) throw new Error(`${pkg} installed but ${binary} is not there`);
  return binary;
}

/** Prometheus from Debian's packages, installed when absent. */
export async function ensurePrometheus(log: Log = (l) => console.log(l)): Promise<string> {
  for (const candidate of ['/usr/bin/prometheus', '/usr/local/bin/prometheus']) if (fs.existsSync(candidate)) return candidate;
  await ensureDebianPackage('prometheus', '/usr/bin/prometheus', log);
  // The package starts a system service; Sluice runs its own instances.
  await run('sh', ['-c', 'systemctl stop prometheus prometheus-node-exporter >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }).catch(() => undefined);
  return '/usr/bin/prometheus';
}
