// How Sluice reaches an API server: the server URL, the TLS options and the headers of each
// request, from a kubeconfig file, the Pod's service account (in-cluster), or a cluster
// Secret. The common cases are read here: loading @kubernetes/client-node for them cost
// ~50 MiB of resident memory in every process (it brings every generated API). Users with
// an `exec` plugin or an `auth-provider` (cloud logins) are handed to client-node, loaded
// only then. Credentials stay inside: no message here names a token, a key or a password.
import * as fs from 'node:fs';
import type * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { parse } from 'yaml';

/** What a KubeClient needs to send a request. */
export interface KubeAccess {
  readonly server: string;
  /** The TLS options and headers for the next request (a rotated token file is read again here). */
  requestOptions(): Promise<https.RequestOptions>;
}

/** One cluster entry, as client-node names the kubeconfig's fields. */
export interface KubeCluster {
  name: string;
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify?: boolean;
  tlsServerName?: string;
}

/** One user entry, as client-node names the kubeconfig's fields. */
export interface KubeUser {
  name: string;
  token?: string;
  tokenFile?: string;
  certData?: string;
  certFile?: string;
  keyData?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  impersonateUser?: string;
  impersonateGroups?: string[];
  /** Handed to client-node as they are. */
  exec?: unknown;
  authProvider?: unknown;
}

/** How long a token read from a file serves before it is read again (client-go's interval). */
export const TOKEN_FILE_REFRESH_MS = 60_000;

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Raw = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const absolute = (dir: string | undefined, file: string | undefined) => (file && dir && !path.isAbsolute(file) ? path.join(dir, file) : file);
const fromBase64 = (data: string | undefined) => (data ? Buffer.from(data, 'base64') : undefined);

interface Parsed {
  clusters: Map<string, KubeCluster>;
  users: Map<string, KubeUser>;
  contexts: Map<string, { cluster: string; user?: string }>;
  currentContext?: string;
}

/** A kubeconfig file's entries, file paths in it made absolute against its directory. */
function parseFile(file: string): Parsed {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
  }
  let doc: Raw;
  try {
    doc = (parse(text) ?? {}) as Raw;
  } catch (err) {
    // The parser's message can quote the file's text (a token); only the position is kept, and not the error.
    const at = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`the kubeconfig ${file} is not YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}`);
  }
  const dir = path.dirname(file);
  const list = (key: string) => (Array.isArray(doc[key]) ? (doc[key] as Raw[]) : []);
  const parsed: Parsed = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: str(doc['current-context']) };
  for (const [i, e] of list('clusters').entries()) {
    const c = (e?.cluster ?? {}) as Raw;
    const name = str(e?.name);
    const server = str(c.server);
    if (!name || !server) throw new Error(`kubeconfig ${file}: clusters[${i}] has no ${name ? 'server' : 'name'}`);
    if (parsed.clusters.has(name)) continue; // the first entry of a name wins, as in kubectl
    parsed.clusters.set(name, {
      name,
      server: server.replace(/\/$/, ''),
      caData: str(c['certificate-authority-data']),
      caFile: absolute(dir, str(c['certificate-authority'])),
      skipTLSVerify: c['insecure-skip-tls-verify'] === true,
      tlsServerName: str(c['tls-server-name']),
    });
  }
  for (const [i, e] of list('users').entries()) {
    const u = (e?.user ?? {}) as Raw;
    const name = str(e?.name);
    if (!name) throw new Error(`kubeconfig ${file}: users[${i}] has no name`);
    if (parsed.users.has(name)) continue;
    parsed.users.set(name, {
      name,
      token: str(u.token),
      tokenFile: absolute(dir, str(u.tokenFile) ?? str(u['token-file'])),
      certData: str(u['client-certificate-data']),
      certFile: absolute(dir, str(u['client-certificate'])),
      keyData: str(u['client-key-data']),
      keyFile: absolute(dir, str(u['client-key'])),
      username: str(u.username),
      password: str(u.password),
      impersonateUser: str(u.as),
      impersonateGroups: Array.isArray(u['as-groups']) ? (u['as-groups'] as unknown[]).filter((g): g is string => typeof g === 'string') : undefined,
      exec: u.exec ?? undefined,
      authProvider: u['auth-provider'] ?? undefined,
    });
  }
  for (const [i, e] of list('contexts').entries()) {
    const c = (e?.context ?? {}) as Raw;
    const name = str(e?.name);
    const cluster = str(c.cluster);
    if (!name || !cluster) throw new Error(`kubeconfig ${file}: contexts[${i}] has no ${name ? 'cluster' : 'name'}`);
    if (!parsed.contexts.has(name)) parsed.contexts.set(name, { cluster, user: str(c.user) });
  }
  return parsed;
}

/**
 * The current context's cluster and user from one kubeconfig file, or from several (the
 * KUBECONFIG list: the first file that names an entry or the current context wins, as in kubectl).
 */
export function kubeAccessFromFiles(files: string[]): KubeAccess {
  const merged: Parsed = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    const p = parseFile(file);
    merged.currentContext ??= p.currentContext;
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      for (const [name, entry] of p[key]) if (!merged[key].has(name)) (merged[key] as Map<string, unknown>).set(name, entry);
    }
  }
  const where = files.join(path.delimiter);
  if (!merged.currentContext) throw new Error(`the kubeconfig ${where} has no current-context`);
  const context = merged.contexts.get(merged.currentContext);
  if (!context) throw new Error(`the kubeconfig ${where} has no context ${merged.currentContext}`);
  const cluster = merged.clusters.get(context.cluster);
  if (!cluster) throw new Error(`the kubeconfig ${where} has no cluster ${context.cluster}`);
  return kubeAccess(cluster, (context.user && merged.users.get(context.user)) || { name: context.user ?? 'user' });
}

/** The API server of the Pod Sluice runs in, as its service account sees it (client-go's rest.InClusterConfig). */
export function kubeAccessInCluster(dir = SERVICE_ACCOUNT_DIR, env: NodeJS.ProcessEnv = process.env): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https'; // as client-node decides
  return kubeAccess(
    { name: 'in-cluster', server: `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: path.join(dir, 'ca.crt') },
    { name: 'service-account', tokenFile: path.join(dir, 'token') },
  );
}

/**
 * Where a process finds its API server when told nothing else, in client-node's order: the
 * files KUBECONFIG lists, ~/.kube/config, the Pod's service account.
 */
export function kubeAccessFromDefault(env: NodeJS.ProcessEnv = process.env): KubeAccess {
  const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (files.length > 0) return kubeAccessFromFiles(files);
  const home = env.HOME && path.join(env.HOME, '.kube', 'config');
  if (home && fs.existsSync(home)) return kubeAccessFromFiles([home]);
  if (fs.existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))) return kubeAccessInCluster();
  throw new Error('no kubeconfig: KUBECONFIG is not set, there is no ~/.kube/config, and no service account token is mounted');
}

/** Access for one cluster and user. Files (CA, certificates) are read once, now; a token file is read again every minute. */
export function kubeAccess(cluster: KubeCluster, user: KubeUser, tokenFileRefreshMs = TOKEN_FILE_REFRESH_MS): KubeAccess {
  const server = new URL(cluster.server); // throws on a malformed URL (the message quotes only the server)
  if (server.protocol === 'http:' && !cluster.skipTLSVerify) {
    // client-node's rule: plain HTTP only where the kubeconfig says TLS is not verified anyway.
    throw new Error(`the kubeconfig's server ${cluster.server} is plain HTTP; set insecure-skip-tls-verify to use it`);
  }
  if (user.exec || user.authProvider) return clientNodeAccess(cluster, user);
  const tls: https.RequestOptions = {};
  if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
  if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
  const ca = readFileOr(cluster.caFile, cluster.caData, 'certificate-authority');
  const cert = readFileOr(user.certFile, user.certData, 'client-certificate');
  const key = readFileOr(user.keyFile, user.keyData, 'client-key');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const fixed: Record<string, string | string[]> = {};
  if (user.username) fixed.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
  if (user.token) fixed.Authorization = `Bearer ${user.token}`;
  if (user.impersonateUser) fixed['Impersonate-User'] = user.impersonateUser;
  if (user.impersonateGroups?.length) fixed['Impersonate-Group'] = user.impersonateGroups;
  let fileToken: { value: string; at: number } | undefined;
  const tokenFile = user.token ? undefined : user.tokenFile;
  return {
    server: cluster.server,
    async requestOptions() {
      if (!tokenFile) return { ...tls, headers: fixed };
      if (!fileToken || Date.now() - fileToken.at > tokenFileRefreshMs) {
        try {
          fileToken = { value: (await fs.promises.readFile(tokenFile, 'utf8')).trim(), at: Date.now() };
        } catch (err) {
          // Kept from the last read while the kubelet swaps the file; an error only if there never was one.
          if (!fileToken) throw new Error(`cannot read the token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
        }
      }
      return { ...tls, headers: { ...fixed, Authorization: `Bearer ${fileToken!.value}` } };
    },
  };
}

function readFileOr(file: string | undefined, data: string | undefined, what: string): Buffer | undefined {
  if (file) {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the kubeconfig's ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, { cause: err });
    }
  }
  return fromBase64(data);
}

/**
 * An `exec` plugin or an `auth-provider`: client-node runs it and caches its credential until
 * it expires; asked again for each request, so a renewed credential is used.
 */
function clientNodeAccess(cluster: KubeCluster, user: KubeUser): KubeAccess {
  let config: Promise<import('@kubernetes/client-node').KubeConfig> | undefined;
  return {
    server: cluster.server,
    async requestOptions() {
      config ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
        const kc = new KubeConfig();
        kc.loadFromOptions({
          clusters: [{ ...cluster, skipTLSVerify: !!cluster.skipTLSVerify }],
          users: [user as import('@kubernetes/client-node').User],
          contexts: [{ name: 'sluice', cluster: cluster.name, user: user.name }],
          currentContext: 'sluice',
        });
        return kc;
      });
      const opts: https.RequestOptions = {};
      await (await config).applyToHTTPSOptions(opts);
      delete opts.agent; // the KubeClient's own keep-alive agent carries the requests
      return opts;
    },
  };
}
