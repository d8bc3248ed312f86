// The web dashboard: its page and bundle (built into dist/ui by scripts/prepare.js,
// never fetched from a CDN), and what the page asks of the API besides the resource
// routes: where Temporal UI is. The page and its assets are public (they hold no data);
// everything they show comes from the API with the bearer token the login page keeps.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteDoc } from '../openapi';
import { errorBody } from '../errors';

export interface DashboardOptions {
  /** Temporal UI's address, for links to workflows; no links without it. */
  temporalUiUrl?: string;
  temporalNamespace?: string;
  /** Where the built page is; default dist/ui beside the compiled API. */
  dir?: string;
}

interface Asset {
  type: string;
  raw: Buffer;
  gzip: Buffer;
  brotli: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

// The page loads only its own script and style and talks only to this origin.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!fs.existsSync(dir)) return assets;
  for (const file of fs.readdirSync(dir)) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    const raw = fs.readFileSync(path.join(dir, file));
    assets.set(file, {
      type,
      raw,
      gzip: zlib.gzipSync(raw, { level: 9 }),
      brotli: zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
      etag: `"${crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16)}"`,
    });
  }
  return assets;
}

export function dashboardRoutes(opts: DashboardOptions = {}) {
  return (app: FastifyInstance): void => {
    const assets = loadAssets(opts.dir ?? path.resolve(__dirname, '..', '..', 'ui'));
    const serve = (file: string, cache: string) => async (req: FastifyRequest, reply: FastifyReply) => {
      const asset = assets.get(file);
      if (!asset) return reply.code(503).send(errorBody('Unavailable', 'the dashboard is not built: run node scripts/prepare.js'));
      reply.header('content-type', asset.type).header('cache-control', cache).header('etag', asset.etag).header('vary', 'accept-encoding');
      reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
      if (file.endsWith('.html')) reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
      if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      const accepted = String(req.headers['accept-encoding'] ?? '');
      if (/\bbr\b/.test(accepted)) return reply.header('content-encoding', 'br').send(asset.brotli);
      if (/\bgzip\b/.test(accepted)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
      return reply.send(asset.raw);
    };
    const pub: RouteDoc = { public: true, summary: 'the web dashboard', tags: ['dashboard'] };
    app.get('/', { config: pub }, serve('index.html', 'no-cache'));
    // Fixed names, so browsers revalidate with the ETag rather than keep a stale build.
    app.get('/ui/app.js', { config: pub }, serve('app.js', 'no-cache'));
    app.get('/ui/app.css', { config: pub }, serve('app.css', 'no-cache'));

    app.get('/api/v1/settings', { config: { summary: 'what the dashboard needs to know about this installation', tags: ['dashboard'] } }, async () => ({
      temporalUiUrl: opts.temporalUiUrl,
      temporalNamespace: opts.temporalNamespace ?? 'default',
    }));
  };
}
