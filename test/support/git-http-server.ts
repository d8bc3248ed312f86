// A git repository on this disk served over git's smart HTTP protocol, for clients that
// refuse file:// (Flux's source-controller takes only http, https and ssh URLs): git's own
// `git http-backend` run as a CGI program per request behind a small Node HTTP server.
// Read-only: fetches and clones (git-upload-pack), never pushes.
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface GitHttpServer {
  /** The repository's clone URL, http://127.0.0.1:<port>/<folder name>. */
  url: string;
  /** Requests answered so far (an info/refs and an upload-pack POST per fetch). */
  requests: number;
  stop(): Promise<void>;
}

/** What a CGI program wrote: its Status header (200 when absent), its other headers, and the body after the blank line. */
export function parseCgiResponse(out: Buffer): { status: number; headers: [string, string][]; body: Buffer } {
  const crlf = out.indexOf('\r\n\r\n');
  const lf = out.indexOf('\n\n');
  const [end, gap] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : lf >= 0 ? [lf, 2] : [-1, 0];
  if (end < 0) throw new Error('CGI response without a blank line after its headers');
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of out.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not a CGI header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
    else headers.push([name, value]);
  }
  return { status, headers, body: out.subarray(end + gap) };
}

/** Serves the repository at `repoDir` (a work tree or a bare repository). */
export async function serveGitOverHttp(repoDir: string): Promise<GitHttpServer> {
  const name = path.basename(repoDir);
  const server = http.createServer((req, res) => {
    const [pathname, query = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    // This one repository, upload-pack only: a push or another path is refused before git sees it.
    const rest = pathname.startsWith(`/${name}/`) ? pathname.slice(name.length + 1) : undefined;
    if (!rest || !['/info/refs', '/git-upload-pack', '/HEAD'].includes(rest) || query.includes('receive-pack')) {
      res.writeHead(404).end('not found');
      return;
    }
    served.requests++;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_PROJECT_ROOT: path.dirname(repoDir),
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: `/${name}${rest}`,
      QUERY_STRING: query,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      ...(req.headers['content-type'] ? { CONTENT_TYPE: req.headers['content-type'] } : {}),
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    };
    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    cgi.stdout.on('data', (d: Buffer) => out.push(d));
    cgi.stderr.on('data', (d: Buffer) => (err += d));
    cgi.stdin.on('error', () => undefined); // git may answer (an error) before reading all of the request
    req.pipe(cgi.stdin);
    cgi.on('error', (e) => res.writeHead(500).end(String(e)));
    cgi.on('close', (code) => {
      try {
        const { status, headers, body } = parseCgiResponse(Buffer.concat(out));
        res.writeHead(status, Object.fromEntries(headers)).end(body);
      } catch (e) {
        res.writeHead(500).end(`git http-backend exited ${code}: ${err || String(e)}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served: GitHttpServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`,
    requests: 0,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return served;
}
