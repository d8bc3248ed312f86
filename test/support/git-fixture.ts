// A real git repository for GitOps tests: a copy of ../shared/examples committed into a
// temporary directory, reachable as file://…, with helpers to commit changes to it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { examplesDir } from './paths';

export interface GitFixture {
  dir: string;
  url: string;
  /** Writes (or, for null, deletes) files and commits; returns the new commit SHA. */
  commit(message: string, changes: Record<string, string | null>): string;
  head(): string;
  remove(): void;
}

/** git with no user or system configuration, and a fixed author: what every test repository is made with. */
export const gitEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: gitEnv, encoding: 'utf8' }).trim();
}

/** `rewrite` may change each file's text (e.g. put namespaces into the test's own namespace). */
export function examplesRepo(rewrite: (relPath: string, text: string) => string = (_p, t) => t): GitFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-gitops-repo-'));
  fs.cpSync(examplesDir, dir, { recursive: true });
  const walk = (at: string) => {
    for (const e of fs.readdirSync(at, { withFileTypes: true })) {
      const p = path.join(at, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name)) fs.writeFileSync(p, rewrite(path.relative(dir, p), fs.readFileSync(p, 'utf8')));
    }
  };
  walk(dir);
  git(dir, ['init', '--quiet', '--initial-branch=main']);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '--quiet', '-m', 'examples']);
  const fixture: GitFixture = {
    dir,
    url: `file://${dir}`,
    commit(message, changes) {
      for (const [rel, text] of Object.entries(changes)) {
        const p = path.join(dir, rel);
        if (text === null) fs.rmSync(p, { force: true });
        else {
          fs.mkdirSync(path.dirname(p), { recursive: true });
          fs.writeFileSync(p, text);
        }
      }
      git(dir, ['add', '-A']);
      git(dir, ['commit', '--quiet', '-m', message]);
      return fixture.head();
    },
    head: () => git(dir, ['rev-parse', 'HEAD']),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  return fixture;
}

/** An Application manifest from the examples, pointed at the fixture and placed in `namespace`. */
export function exampleApplication(file: string, fixture: GitFixture, namespace: string, edit: (app: any) => void = () => undefined): any {
  const app = parse(fs.readFileSync(path.join(fixture.dir, file), 'utf8'));
  app.metadata.namespace = namespace;
  app.spec.source.repoURL = fixture.url;
  app.spec.destination = { ...app.spec.destination, namespace };
  edit(app);
  return app;
}
