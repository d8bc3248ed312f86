// Write-back `git`: a commit of the write-back file through the git CLI, pushed to the
// target branch. Every attempt starts from a fresh fetch of the remote, so a worker that
// died between commit and push leaves nothing behind and the retry finds either the
// change already there (pushed before it died: no commit) or makes the one commit. The
// commit's dates come from the caller (the workflow's decision time), so a retried commit
// of the same change on the same parent is the same commit. A non-fast-forward push
// fetches the new tip, re-applies and retries.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WriteBackTarget } from '../../domain/images/annotations';
import { applyToFile, currentInFile, writeBackFile, type ImageUpdate, type SourceKind } from '../../domain/images/git-target';
import { commitMessage, WriteBackError, type ImageChange } from '../../domain/images/write-back';
import { applyMarkers, currentFromMarkers } from '../../domain/images/markers';
import { checkRepoURL } from '../../domain/applications/source-safety';
import { safeBranch } from '../../domain/images/annotations';
import type { RenderedCommitMessage } from './commit-message';
import { fileReposAllowed, GitError, runGit, type GitCredentials } from '../git';

export interface GitWriteBackRequest {
  repoURL: string;
  /** The branch the change is based on (the Application's targetRevision or git-branch base). */
  baseBranch: string;
  /** The branch pushed to; the base branch when the same. */
  targetBranch: string;
  appName: string;
  appPath: string;
  sourceKind: SourceKind;
  target: WriteBackTarget;
  updates: ImageUpdate[];
  /** A plain-directory source's `directory.recurse`: marked lines are looked for in subdirectories too. */
  recurse?: boolean;
  /** Commit time (ms), fixed by the caller so retries make the same commit. */
  commitTimeMs: number;
  author?: { name: string; email: string };
  /** The commit message for these changes (the configured template); Image Updater's default message without it. */
  message?: (changes: ImageChange[]) => Promise<RenderedCommitMessage>;
}

export interface GitWriteBackResult {
  /** The commit now at the target branch's tip holding the change; undefined when nothing was written. */
  commit?: string;
  /** false: the branch already held these values (a previous attempt pushed, or someone else did). */
  committed: boolean;
  file: string;
  changes: ImageChange[];
  /** Why the configured commit message template was not used. */
  messageProblem?: string;
}

const REMOTE = 'refs/remotes/origin/';

async function remoteHas(dir: string, branch: string, creds: GitCredentials | undefined): Promise<boolean> {
  const out = (await runGit(['ls-remote', '--heads', 'origin', `refs/heads/${branch}`], { cwd: dir, creds })).toString('utf8');
  return out.trim() !== '';
}

/** Manifest files of a plain-directory source (recursing when the source says so), repository-relative. */
export function manifestFiles(root: string, appPath: string, recurse: boolean): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === '.git' || e.isSymbolicLink()) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (recurse) walk(r);
      } else if (/\.ya?ml$/.test(e.name)) out.push(r);
    }
  };
  walk(appPath.replace(/^\/+|\/+$/g, ''));
  return out;
}

async function messageFor(req: GitWriteBackRequest, changes: ImageChange[]): Promise<RenderedCommitMessage> {
  return req.message ? req.message(changes) : { text: commitMessage(req.appName, changes) };
}

/** Rewrites the marked lines of the source's files and commits them; undefined when they already hold the values. */
async function markerWriteBack(
  dir: string,
  req: GitWriteBackRequest,
  g: (args: string[]) => Promise<Buffer>,
): Promise<{ commit: string; files: string[]; changes: ImageChange[]; messageProblem?: string } | undefined> {
  const files: string[] = [];
  const changes = new Map<string, ImageChange>();
  const updates = req.updates.map((u) => ({ alias: u.spec.alias, name: u.spec.image.name, chosen: u.chosen }));
  for (const f of manifestFiles(dir, req.appPath, req.recurse ?? false)) {
    const abs = path.join(dir, f);
    const before = fs.readFileSync(abs, 'utf8');
    const after = applyMarkers(before, updates);
    if (after === before) continue;
    for (const u of req.updates) {
      const from = currentFromMarkers(before, u.spec.alias);
      const to = u.chosen.digest ?? u.chosen.tag;
      if (from !== to && !changes.has(u.spec.alias)) changes.set(u.spec.alias, { image: u.spec.image.name, from, to });
    }
    fs.writeFileSync(abs, after);
    files.push(f);
  }
  if (files.length === 0) return undefined;
  await g(['add', '--', ...files]);
  const message = await messageFor(req, [...changes.values()]);
  await g(['commit', '-q', '--no-verify', '-m', message.text]);
  return {
    commit: (await g(['rev-parse', 'HEAD'])).toString('utf8').trim(),
    files,
    changes: [...changes.values()],
    ...(message.problem ? { messageProblem: message.problem } : {}),
  };
}

export async function gitWriteBack(
  req: GitWriteBackRequest,
  creds?: GitCredentials,
  opts: { attempts?: number; beforePush?: () => Promise<void> } = {},
): Promise<GitWriteBackResult> {
  const url = checkRepoURL(req.repoURL, { allowFileRepos: fileReposAllowed() });
  for (const b of [req.baseBranch, req.targetBranch]) if (!safeBranch(b)) throw new GitError(`invalid branch name ${JSON.stringify(b)}`);
  const file = writeBackFile(req.target, req.appPath, req.appName);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-writeback-'));
  const author = req.author ?? { name: 'argocd-image-updater', email: 'noreply@argoproj.io' };
  const date = `${Math.floor(req.commitTimeMs / 1000)} +0000`;
  const env = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
  const g = (args: string[]) => runGit(args, { cwd: dir, creds, env });
  try {
    await g(['init', '-q']);
    await g(['remote', 'add', 'origin', url]);
    const fromBranch = req.targetBranch !== req.baseBranch && (await remoteHas(dir, req.targetBranch, creds)) ? req.targetBranch : req.baseBranch;
    const attempts = opts.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      await g(['fetch', '-q', 'origin', `+refs/heads/${fromBranch}:${REMOTE}${fromBranch}`]);
      await g(['checkout', '-q', '-f', '-B', 'sluice-write-back', `${REMOTE}${fromBranch}`]);
      if (req.sourceKind === 'directory') {
        const res = await markerWriteBack(dir, req, g);
        if (!res) return { commit: (await g(['rev-parse', 'HEAD'])).toString('utf8').trim(), committed: false, file: req.appPath || '.', changes: [] };
        await opts.beforePush?.();
        try {
          await g(['push', '-q', 'origin', `HEAD:refs/heads/${req.targetBranch}`]);
          return {
            commit: res.commit,
            committed: true,
            file: res.files.join(', '),
            changes: res.changes,
            ...(res.messageProblem ? { messageProblem: res.messageProblem } : {}),
          };
        } catch (err) {
          const rejected = err instanceof GitError && /\[rejected\]|non-fast-forward|fetch first|failed to push some refs/.test(err.message);
          if (!rejected || attempt >= attempts) throw err;
          continue;
        }
      }
      const abs = path.join(dir, file);
      // Never create the chart or source directory: a path that is not there is a mistake to name, not to commit.
      if (!fs.existsSync(path.dirname(abs))) throw new WriteBackError(`${path.posix.dirname(file)} does not exist on branch ${fromBranch}; nothing written`);
      const before = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : undefined;
      const after = applyToFile(req.target, req.sourceKind, before, req.updates);
      const changes = req.updates.map((u) => ({
        image: u.spec.image.name,
        from: currentInFile(req.target, req.sourceKind, before, u.spec),
        to: u.chosen.digest ?? u.chosen.tag,
      }));
      if (after === before) {
        const tip = (await g(['rev-parse', 'HEAD'])).toString('utf8').trim();
        return { commit: tip, committed: false, file, changes };
      }
      fs.writeFileSync(abs, after);
      await g(['add', '--', file]);
      const message = await messageFor(req, changes);
      await g(['commit', '-q', '--no-verify', '-m', message.text]);
      const commit = (await g(['rev-parse', 'HEAD'])).toString('utf8').trim();
      await opts.beforePush?.();
      try {
        await g(['push', '-q', 'origin', `HEAD:refs/heads/${req.targetBranch}`]);
        return { commit, committed: true, file, changes, ...(message.problem ? { messageProblem: message.problem } : {}) };
      } catch (err) {
        const rejected = err instanceof GitError && /\[rejected\]|non-fast-forward|fetch first|failed to push some refs/.test(err.message);
        if (!rejected || attempt >= attempts) throw err;
        // Someone pushed meanwhile: start again from their tip (the target branch exists now).
        if (fromBranch !== req.targetBranch && (await remoteHas(dir, req.targetBranch, creds)))
          return gitWriteBack(req, creds, { ...opts, attempts: attempts - attempt });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
