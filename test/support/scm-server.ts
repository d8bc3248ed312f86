// A local stand-in for GitHub, GitLab and Gitea's REST APIs (no such service runs here): the
// documented paths, shapes and pagination (GitHub and Gitea: Link; GitLab: X-Next-Page), on
// one real HTTP server, with every request recorded (path and auth header) for assertions.
import * as http from 'node:http';

export interface ScmServer {
  base: string;
  requests: { url: string; auth?: string }[];
  /** When set, every answer is this status. */
  failWith?: number;
  close(): Promise<void>;
}

type Answer = { status?: number; body: unknown; headers?: Record<string, string> };
export type Routes = (path: string, query: URLSearchParams, base: string) => Answer | undefined;

export async function startScmServer(routes: Routes): Promise<ScmServer> {
  const state: ScmServer = { base: '', requests: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const auth = (req.headers.authorization ?? req.headers['private-token']) as string | undefined;
    state.requests.push({ url: req.url ?? '', auth });
    if (state.failWith) return void res.writeHead(state.failWith, { 'content-type': 'application/json' }).end('{"message":"boom"}');
    const [path, q] = (req.url ?? '').split('?');
    const a = routes(path!, new URLSearchParams(q ?? ''), state.base);
    if (!a) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
    res.writeHead(a.status ?? 200, { 'content-type': 'application/json', ...(a.headers ?? {}) }).end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return state;
}

/** Pages of a list: `page` (1-based) from the query, a Link rel="next" while more remain. */
export function linkPaged(items: unknown[][], path: string, query: URLSearchParams, base: string): Answer {
  const page = Number(query.get('page') ?? '1');
  const next = new URLSearchParams(query);
  next.set('page', String(page + 1));
  const headers: Record<string, string> =
    page < items.length ? { link: `<${base}${path}?${next}>; rel="next", <${base}${path}?page=${items.length}>; rel="last"` } : {};
  return { body: items[page - 1] ?? [], headers };
}

/** GitLab's pages: X-Page, X-Total-Pages, X-Next-Page (empty on the last). */
export function gitlabPaged(items: unknown[][], query: URLSearchParams): Answer {
  const page = Number(query.get('page') ?? '1');
  return {
    body: items[page - 1] ?? [],
    headers: { 'x-page': String(page), 'x-total-pages': String(items.length), 'x-next-page': page < items.length ? String(page + 1) : '' },
  };
}

/** GitHub's, GitLab's and Gitea's answers for the fixtures the tests use. */
export const fixtureRoutes: Routes = (path, q, base) => {
  const gh = '/gh/api/v3';
  const ghRepo = (id: number, name: string, topics: string[]) => ({
    id,
    name,
    owner: { login: 'acme' },
    default_branch: 'main',
    ssh_url: `git@github.example:acme/${name}.git`,
    clone_url: `https://github.example/acme/${name}.git`,
    topics,
  });
  const ghBranches: Record<string, { name: string; commit: { sha: string } }[]> = {
    'svc-a': [
      { name: 'main', commit: { sha: 'a1b2c3d4e5f60718293a' } },
      { name: 'Feature/X_1', commit: { sha: 'f00dfeedbeef00112233' } },
    ],
    'svc-b': [{ name: 'main', commit: { sha: 'c0ffee' } }],
    // An empty repository: no branches, its default branch a 404.
    empty: [],
  };
  if (path === `${gh}/orgs/acme/repos`)
    return linkPaged([[ghRepo(101, 'svc-a', ['team-x', 'prod'])], [ghRepo(123456789, 'svc-b', []), ghRepo(103, 'empty', [])]], path, q, base);
  let m = new RegExp(`^${gh}/repos/acme/([^/]+)/branches(?:/(.+))?$`).exec(path);
  if (m) {
    const all = ghBranches[m[1]!];
    if (!all) return undefined;
    if (m[2] !== undefined) {
      const b = all.find((x) => x.name === decodeURIComponent(m![2]!));
      return b ? { body: b } : undefined;
    }
    return linkPaged(all.length ? all.map((b) => [b]) : [[]], path, q, base);
  }
  m = new RegExp(`^${gh}/repos/acme/([^/]+)/contents/(.+)$`).exec(path);
  if (m) return m[1] === 'svc-a' && q.get('ref') === 'main' && decodeURIComponent(m[2]!) === 'deploy' ? { body: [{ name: 'x.yaml' }] } : undefined;

  const gl = '/gl/api/v4';
  const glProject = (id: number, p: string, branch: string, topics: string[], tagList: string[]) => ({
    id,
    path: p,
    namespace: { full_path: 'grp/sub' },
    default_branch: branch,
    ssh_url_to_repo: `git@gitlab.example:grp/sub/${p}.git`,
    http_url_to_repo: `https://gitlab.example/grp/sub/${p}.git`,
    topics,
    tag_list: tagList,
  });
  if (path === `${gl}/groups/grp%2Fsub/projects`)
    return gitlabPaged([[glProject(7, 'api', 'main', [], ['legacy'])], [glProject(8, 'web', 'develop', ['fe'], [])]], q);
  if (path === `${gl}/projects/7/repository/branches/main`) return { body: { name: 'main', commit: { id: '1234567890abcdef' } } };
  if (path === `${gl}/projects/8/repository/branches/develop`) return { body: { name: 'develop', commit: { id: 'fedcba0987654321' } } };
  if (path === `${gl}/projects/8/repository/branches`)
    return gitlabPaged([[{ name: 'develop', commit: { id: 'fedcba0987654321' } }], [{ name: 'release/1.0', commit: { id: '99' } }]], q);
  if (path === `${gl}/projects/grp%2Fsub%2Fapi`) return { body: { id: 7 } };
  if (path === `${gl}/projects/grp%2Fsub%2Fweb`) return { body: { id: 8 } };
  if (path === `${gl}/projects/7/repository/tree` && q.get('path') === 'charts' && q.get('ref') === 'main')
    return gitlabPaged([[{ path: 'charts/README.md' }], [{ path: 'charts/Chart.yaml' }]], q);

  const gt = '/gt/api/v1';
  const gtRepo = (id: number, name: string) => ({
    id,
    name,
    default_branch: 'main',
    ssh_url: `git@gitea.example:org/${name}.git`,
    html_url: `https://gitea.example/org/${name}`,
    clone_url: `https://gitea.example/org/${name}.git`,
  });
  if (path === `${gt}/orgs/org/repos`) return linkPaged([[gtRepo(1, 'one')], [gtRepo(2, 'two')]], path, q, base);
  if (path === `${gt}/repos/org/one/labels`) return linkPaged([[{ name: 'prod' }]], path, q, base);
  if (path === `${gt}/repos/org/two/labels`) return linkPaged([[]], path, q, base);
  if (path === `${gt}/repos/org/one/branches/main`) return { body: { name: 'main', commit: { id: 'aaaabbbbccccdddd' } } };
  if (path === `${gt}/repos/org/two/branches/main`) return { body: { name: 'main', commit: { id: 'eeeeffff' } } };
  if (path === `${gt}/repos/org/two/contents/kustomization.yaml`) return { body: { type: 'file' } };
  return undefined;
};
