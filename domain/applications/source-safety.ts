// Which repository URLs and source paths Sluice will touch. Git can be made to run
// commands through a URL (ext::, fd::, a leading "-" read as an option), and a path can
// point outside the repository; both are refused before git or the renderer runs.

/** Transports Sluice hands to git; anything else (ext::, fd::, <transport>::…) is refused. */
const ALLOWED_SCHEMES = ['https:', 'http:', 'ssh:', 'git:', 'file:'];

export class SourceRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceRefusedError';
  }
}

/** The setting that lets a deployed Sluice read file:// repositories (the local stack and the tests set it). */
export const ALLOW_FILE_REPOS_ENV = 'SLUICE_ALLOW_FILE_REPOS';

/**
 * Throws SourceRefusedError naming the field when `repoURL` is not a plain https/http/ssh/git
 * URL or scp-like address. file:// passes only with `allowFileRepos`: such a URL lets whoever
 * may create an Application read any git repository on the controller's disk.
 */
export function checkRepoURL(repoURL: unknown, opts: { allowFileRepos?: boolean } = {}): string {
  if (typeof repoURL !== 'string' || repoURL.trim() === '') throw new SourceRefusedError('spec.source.repoURL is empty');
  const url = repoURL.trim();
  if (url.startsWith('-')) throw new SourceRefusedError(`spec.source.repoURL ${JSON.stringify(redactURL(url))} starts with "-"; refused`);
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\x00-\x1f\x7f]/.test(repoURL)) throw new SourceRefusedError('spec.source.repoURL contains control characters; refused');
  // git's "<transport>::<address>" form runs a remote helper of that name (ext:: runs a command).
  if (url.includes('::')) throw new SourceRefusedError(`spec.source.repoURL ${JSON.stringify(redactURL(url))} uses a "<transport>::" remote helper; refused`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url);
  if (scheme) {
    const proto = `${scheme[1].toLowerCase()}:`;
    if (!ALLOWED_SCHEMES.includes(proto)) {
      throw new SourceRefusedError(`spec.source.repoURL uses transport ${JSON.stringify(scheme[1])}; allowed: https, http, ssh, git, file`);
    }
    if (proto === 'file:' && !opts.allowFileRepos)
      throw new SourceRefusedError(
        `spec.source.repoURL ${JSON.stringify(url)} is a file:// repository on the controller's own disk; refused. ` +
          `To allow file:// repositories (a single-user or test installation), set ${ALLOW_FILE_REPOS_ENV}=true on the Sluice process`,
      );
    return url;
  }
  // scp-like: user@host:path (what ssh clones use); the host must not look like an option.
  if (/^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(url)) return url;
  throw new SourceRefusedError(
    `spec.source.repoURL ${JSON.stringify(redactURL(url))} is not a URL git may fetch (https://, ssh://, git://, file:// or user@host:path)`,
  );
}

/**
 * The source path as a relative, normalised path inside the repository ("" for the root).
 * Absolute paths and any ".." segment are refused; symlinks are checked by the renderer on disk.
 */
export function checkSourcePath(path: unknown, field = 'spec.source.path'): string {
  if (path === undefined || path === null || path === '' || path === '.') return '';
  if (typeof path !== 'string') throw new SourceRefusedError(`${field} is not a string`);
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path))
    throw new SourceRefusedError(`${field} ${JSON.stringify(path)} is absolute; it must be relative to the repository root`);
  const parts = path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new SourceRefusedError(`${field} ${JSON.stringify(path)} leaves the repository ("..")`);
  return parts.join('/');
}

/** Credentials written into a URL (https://user:token@host) never reach a log or a status. */
export function redactURL(text: string): string {
  return text.replace(/([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/@\s]+@/g, '$1***@');
}

/**
 * The credentials Secret for a repository: a `repository` Secret whose url equals the
 * repoURL (ignoring a trailing ".git" or "/"), else the `repo-creds` template with the
 * longest url prefix, as Argo CD picks them.
 */
export function pickRepoCredentials<T extends { type: 'repository' | 'repo-creds'; url: string }>(repoURL: string, secrets: readonly T[]): T | undefined {
  // An OCI registry is written with or without oci:// (Argo CD 2.x Secrets name the bare host/path).
  const bare = (u: string) => u.trim().replace(/^oci:\/\//i, '');
  const norm = (u: string) =>
    bare(u)
      .replace(/\/+$/, '')
      .replace(/\.git$/, '')
      .toLowerCase();
  const exact = secrets.find((s) => s.type === 'repository' && norm(s.url) === norm(repoURL));
  if (exact) return exact;
  let best: T | undefined;
  for (const s of secrets) {
    if (s.type !== 'repo-creds' || !bare(repoURL).startsWith(bare(s.url))) continue;
    if (!best || s.url.length > best.url.length) best = s;
  }
  return best;
}
