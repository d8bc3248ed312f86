// Repository access with the real git CLI. One bare cache per repository under
// $SLUICE_HOME/repos/<hash>, fetched on each resolve; each commit's tree is exported once
// (git archive | tar) into an immutable directory beside it, so renders read plain files.
// git is always spawned with an argument array, never a shell; prompts, system config and
// command-running transports are off; credentials travel in the environment of one
// process through GIT_ASKPASS and never appear in a command line, a log or an error.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALLOW_FILE_REPOS_ENV, checkRepoURL, redactURL } from '../domain/applications/source-safety';

export interface GitCredentials {
  username?: string;
  password?: string;
}

export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

export const sluiceHome = () => process.env.SLUICE_HOME ?? path.join(os.homedir(), '.sluice');

const ASKPASS = `#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$SLUICE_GIT_USERNAME" ;;
  *) printf '%s\\n' "$SLUICE_GIT_PASSWORD" ;;
esac
`;

/** The askpass helper (credentials come from its environment), written once under `home`. */
export function askpassPath(home: string = sluiceHome()): string {
  const p = path.join(home, 'repos', 'askpass.sh');
  if (!fs.existsSync(p)) {
    fs.mkdirSync(path.dirname(p), { recursive: true });
    const tmp = `${p}.${process.pid}`;
    fs.writeFileSync(tmp, ASKPASS, { mode: 0o700 });
    fs.renameSync(tmp, p);
  }
  return p;
}

/** git with the same hardening as the repository cache (no shell, no prompts, no hooks), for write-back. */
export function runGit(args: string[], opts: { cwd?: string; creds?: GitCredentials; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Buffer> {
  return git(args, { ...opts, askpass: askpassPath() });
}

// Runs git; stdout as a Buffer. Errors carry git's stderr with any URL credentials masked.
function git(
  args: string[],
  opts: { cwd?: string; creds?: GitCredentials; askpass?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<Buffer> {
  const env: NodeJS.ProcessEnv = {
    ...opts.env,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_ALLOW_PROTOCOL: 'https:http:ssh:git:file',
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    LC_ALL: 'C',
  };
  if (opts.creds?.username !== undefined || opts.creds?.password !== undefined) {
    env.GIT_ASKPASS = opts.askpass;
    env.SLUICE_GIT_USERNAME = opts.creds.username ?? '';
    env.SLUICE_GIT_PASSWORD = opts.creds.password ?? '';
  }
  const command = args.find((a) => ['init', 'fetch', 'rev-parse', 'archive', 'for-each-ref'].includes(a)) ?? args[0];
  const fullArgs = ['-c', 'protocol.ext.allow=never', '-c', 'protocol.fd.allow=never', '-c', 'core.hooksPath=/dev/null', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('git', fullArgs, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new GitError(`git ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new GitError(`git ${command} failed${signal ? ` (${signal})` : ''}: ${redactURL(err.trim()).slice(-1000)}`));
    });
  });
}

/** The per-repository lock: fetches of one repository in one process run one at a time. */
const locks = new Map<string, Promise<unknown>>();
function serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(fn);
  locks.set(key, next);
  void next.finally(() => locks.get(key) === next && locks.delete(key)).catch(() => undefined);
  return next;
}

export class GitRepositories {
  /** When the last successful fetch of each cache started: a request made before that is answered without fetching again. */
  private readonly fetchedAt = new Map<string, number>();
  /** The refs each fetch brought (name → commit), so resolving a branch, tag or HEAD runs no git process. */
  private readonly refs = new Map<string, Map<string, string>>();

  constructor(private readonly home: string = sluiceHome()) {}

  private cacheDir(repoURL: string): string {
    return path.join(this.home, 'repos', createHash('sha256').update(repoURL).digest('hex').slice(0, 16));
  }

  private askpass(): string {
    return askpassPath(this.home);
  }

  /**
   * Fetches the repository and resolves `targetRevision` (a branch, a tag, a commit SHA or
   * HEAD) to a commit SHA. `hard` refetches from scratch.
   */
  async resolve(
    repoURL: string,
    targetRevision: string | undefined,
    creds?: GitCredentials,
    opts: { hard?: boolean; notBeforeMs?: number } = {},
  ): Promise<string> {
    const url = checkRepoURL(repoURL, { allowFileRepos: fileReposAllowed() });
    const dir = this.cacheDir(url);
    // A commit SHA already exported names the same files forever: nothing to fetch.
    const wanted = (targetRevision ?? '').trim();
    if (!opts.hard && /^[0-9a-f]{40}$/.test(wanted) && fs.existsSync(path.join(dir, 'trees', wanted))) return wanted;
    // Any fetch that started at or after notBeforeMs (epoch ms) is fresh enough; without
    // it, only one that starts after this call.
    const askedAt = opts.notBeforeMs ?? Date.now();
    return serially(dir, async () => {
      const bare = path.join(dir, 'git');
      if (opts.hard) {
        fs.rmSync(bare, { recursive: true, force: true });
        this.fetchedAt.delete(dir);
      }
      if (!fs.existsSync(path.join(bare, 'HEAD'))) {
        fs.mkdirSync(dir, { recursive: true });
        await git(['init', '--bare', '--quiet', bare]);
      }
      const revision = (targetRevision ?? '').trim() || 'HEAD';
      if (revision.startsWith('-')) throw new GitError(`spec.source.targetRevision ${JSON.stringify(revision)} starts with "-"; refused`);
      // Many Applications on one repository: a fetch that started after this request was
      // made already saw everything this one would, so it is not repeated.
      const last = this.fetchedAt.get(dir);
      if (last === undefined || last < askedAt) {
        const started = Date.now();
        await this.fetch(bare, url, creds);
        this.refs.set(dir, await readRefs(bare));
        this.fetchedAt.set(dir, started);
      }
      const known = this.refs.get(dir);
      const named = revision === 'HEAD' ? known?.get('refs/sluice/HEAD') : (known?.get(`refs/heads/${revision}`) ?? known?.get(`refs/tags/${revision}`));
      if (named) return named;
      const candidates = revision === 'HEAD' ? ['refs/sluice/HEAD'] : [`refs/heads/${revision}`, `refs/tags/${revision}`, revision];
      for (const candidate of candidates) {
        try {
          const sha = (await git(['--git-dir', bare, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${candidate}^{commit}`])).toString().trim();
          if (sha) return sha;
        } catch {
          /* try the next reading of the revision */
        }
      }
      throw new GitError(`targetRevision ${JSON.stringify(revision)} is not a branch, tag or commit of ${redactURL(url)}`);
    });
  }

  private async fetch(bare: string, url: string, creds: GitCredentials | undefined): Promise<void> {
    // "--" ends options: the URL is never read as one.
    await git(
      [
        '--git-dir',
        bare,
        'fetch',
        '--quiet',
        '--prune',
        '--force',
        '--no-write-fetch-head',
        '--',
        url,
        '+refs/heads/*:refs/heads/*',
        '+refs/tags/*:refs/tags/*',
        '+HEAD:refs/sluice/HEAD',
      ],
      { creds, askpass: this.askpass() },
    );
  }

  /** The files of `sha`, exported once into a read-only directory; returns its path. */
  async tree(repoURL: string, sha: string): Promise<string> {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) throw new GitError(`${JSON.stringify(sha)} is not a commit SHA`);
    const dir = this.cacheDir(checkRepoURL(repoURL, { allowFileRepos: fileReposAllowed() }));
    const target = path.join(dir, 'trees', sha);
    if (fs.existsSync(target)) return target;
    // Under the repository's lock: a hard refresh must not remove the cache mid-export.
    return serially(dir, () => this.export(dir, sha, target));
  }

  private async export(dir: string, sha: string, target: string): Promise<string> {
    if (fs.existsSync(target)) return target;
    const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
    fs.mkdirSync(tmp, { recursive: true });
    try {
      const tar = await git(['--git-dir', path.join(dir, 'git'), 'archive', '--format=tar', sha]);
      await untar(tar, tmp);
      try {
        fs.renameSync(tmp, target);
      } catch (err) {
        if (!fs.existsSync(target)) throw err; // another worker exported it first
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return target;
  }
}

/** Every ref of the cache and the commit it names (annotated tags peeled to their commit). */
async function readRefs(bare: string): Promise<Map<string, string>> {
  const out = (await git(['--git-dir', bare, 'for-each-ref', '--format=%(refname) %(objectname) %(*objectname)'])).toString();
  const refs = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [name, object, peeled] = line.trim().split(' ');
    if (name && object) refs.set(name, peeled || object);
  }
  return refs;
}

function untar(archive: Buffer, into: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-x', '--no-same-owner', '--no-same-permissions', '-C', into, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new GitError(`extracting the commit failed: ${err.slice(-500)}`))));
    child.stdin.end(archive);
  });
}

/** SLUICE_ALLOW_FILE_REPOS=true|1|on|yes lets Applications name file:// repositories (the local stack and the tests set it). */
export function fileReposAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|on|yes)$/i.test(env[ALLOW_FILE_REPOS_ENV] ?? '');
}
