// Destination clusters as Argo CD declares them: Secrets labelled
// argocd.argoproj.io/secret-type: cluster (data: name, server, config JSON with bearerToken
// or tlsClientConfig {caData, certData, keyData, insecure, serverName}) in the control-plane
// namespace. `https://kubernetes.default.svc` / `in-cluster` is the cluster Sluice runs
// against. One client per registered cluster, cached until its Secret changes.
// Credentials stay inside the client: never in a log, an error or a status.
import { kubeAccess, type KubeAccess } from './kubeconfig';
import { isOutOfReach, KubeClient, Resources, type KubeObject } from './kube-client';
import { IN_CLUSTER, type Cluster } from '../domain/projects/boundaries';
import { SourceRefusedError } from '../domain/applications/source-safety';
import { ARGOCD_NAMESPACE, SECRET_TYPE_LABEL, SLUICE_NAMESPACE } from '../domain/argo/names';

export interface Destination {
  server?: string;
  name?: string;
}

export interface ClusterConfig {
  bearerToken?: string;
  tlsClientConfig?: { caData?: string; certData?: string; keyData?: string; insecure?: boolean; serverName?: string };
}

/** A cluster Secret read: what the Secret says, and where it came from (for messages). */
export interface RegisteredCluster extends Cluster {
  config: ClusterConfig;
  /** namespace/name of the Secret, and its version: the cache key of its client. */
  secret: string;
  version: string;
}

const normServer = (s: string) => s.trim().replace(/\/+$/, '');
const decode = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined);

/**
 * A cluster Secret's fields, or an error message that names the Secret and the field but
 * never shows a value. `name` defaults to the server, as Argo CD does.
 */
export function parseClusterSecret(secret: KubeObject): RegisteredCluster | { error: string } {
  const where = `cluster secret ${secret.metadata.namespace}/${secret.metadata.name}`;
  const data = (secret.data ?? {}) as Record<string, unknown>;
  const server = decode(data.server)?.trim();
  if (!server) return { error: `${where} has no server` };
  let config: ClusterConfig = {};
  const raw = decode(data.config);
  if (raw && raw.trim() !== '') {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: `${where}: config is not a JSON object` };
      config = parsed as ClusterConfig;
    } catch {
      return { error: `${where}: config is not valid JSON` };
    }
  }
  return {
    name: decode(data.name)?.trim() || server,
    server: normServer(server),
    config,
    secret: `${secret.metadata.namespace}/${secret.metadata.name}`,
    version: `${secret.metadata.uid ?? ''}/${secret.metadata.resourceVersion ?? ''}`,
  };
}

/** The registered cluster a destination names (by server URL or by name), in-cluster when it names ours. */
export function pickCluster(dest: Destination, registered: readonly RegisteredCluster[]): RegisteredCluster | 'in-cluster' | { error: string } {
  const server = normServer(dest.server ?? '');
  const name = (dest.name ?? '').trim();
  if (server && name) return { error: `application destination can't have both name and server defined: ${name} ${server}` };
  if (server) {
    const found = registered.find((c) => c.server === server);
    if (found) return found;
    if (server === IN_CLUSTER.server) return 'in-cluster';
    return { error: `there are no clusters with this URL: ${dest.server}` };
  }
  if (name) {
    const found = registered.filter((c) => c.name === name);
    if (found.length === 1) return found[0]!;
    if (found.length > 1) return { error: `there are ${found.length} clusters with the same name: [${found.map((c) => c.server).join(' ')}]` };
    if (name === IN_CLUSTER.name) return 'in-cluster';
    return { error: `there are no clusters with this name: ${name}` };
  }
  return 'in-cluster'; // Sluice's default when the destination names no cluster
}

/** How to reach one registered cluster: its token, CA and client certificate. */
export function kubeAccessFor(cluster: RegisteredCluster): KubeAccess {
  const tls = cluster.config.tlsClientConfig ?? {};
  return kubeAccess(
    { name: cluster.name, server: cluster.server, caData: tls.caData, skipTLSVerify: !!tls.insecure, tlsServerName: tls.serverName },
    { name: 'sluice', token: cluster.config.bearerToken, certData: tls.certData, keyData: tls.keyData },
  );
}

/**
 * How long one read of the cluster Secrets serves: a compare and every sync step ask, so
 * many Applications share a read; a Secret added or rotated is seen within this time.
 */
export const CLUSTER_SECRETS_REUSE_MS = 2000;

export class ClusterClients {
  private readonly clients = new Map<string, { version: string; kube: KubeClient }>();
  private last?: { at: number; read: Promise<{ clusters: RegisteredCluster[]; broken: { secret: KubeObject; error: string }[] }> };

  constructor(
    private readonly local: KubeClient,
    private readonly namespaces: string[] = [...new Set([ARGOCD_NAMESPACE, process.env.SLUICE_NAMESPACE || SLUICE_NAMESPACE])],
  ) {}

  /** Every cluster Secret that parses (a broken one is skipped here and named when an app picks it). */
  async registered(): Promise<{ clusters: RegisteredCluster[]; broken: { secret: KubeObject; error: string }[] }> {
    const now = Date.now();
    if (this.last && now - this.last.at < CLUSTER_SECRETS_REUSE_MS) return this.last.read;
    const read = this.read();
    this.last = { at: now, read };
    read.catch(() => {
      if (this.last?.read === read) this.last = undefined; // a failed read is not reused
    });
    return read;
  }

  private async read(): Promise<{ clusters: RegisteredCluster[]; broken: { secret: KubeObject; error: string }[] }> {
    const clusters: RegisteredCluster[] = [];
    const broken: { secret: KubeObject; error: string }[] = [];
    for (const ns of this.namespaces) {
      let items: KubeObject[];
      try {
        ({ items } = await this.local.list(Resources.secret, ns, { labelSelector: `${SECRET_TYPE_LABEL}=cluster` }));
      } catch (err) {
        if (isOutOfReach(err)) continue;
        throw err;
      }
      for (const s of items) {
        const parsed = parseClusterSecret(s);
        if ('error' in parsed) broken.push({ secret: s, error: parsed.error });
        else clusters.push(parsed);
      }
    }
    return { clusters, broken };
  }

  /** Clusters known to Sluice (in-cluster first), for AppProject destination rules. */
  async known(): Promise<Cluster[]> {
    const { clusters } = await this.registered();
    return [IN_CLUSTER, ...clusters.map((c) => ({ name: c.name, server: c.server }))];
  }

  /**
   * The client for a destination; SourceRefusedError (shown as a ComparisonError) for a
   * cluster nobody registered or whose Secret cannot be read.
   */
  async forDestination(dest: Destination | undefined): Promise<{ kube: KubeClient; cluster: Cluster }> {
    const { clusters, broken } = await this.registered();
    const picked = pickCluster(dest ?? {}, clusters);
    if (picked === 'in-cluster') return { kube: this.local, cluster: IN_CLUSTER };
    if ('error' in picked) {
      const server = normServer(dest?.server ?? '');
      const bad = broken.find((b) => server && normServer(decode((b.secret.data as Record<string, unknown> | undefined)?.server) ?? '') === server);
      throw new SourceRefusedError(bad ? bad.error : picked.error);
    }
    const cached = this.clients.get(picked.secret);
    if (cached && cached.version === picked.version) return { kube: cached.kube, cluster: picked };
    let kube: KubeClient;
    try {
      kube = new KubeClient(kubeAccessFor(picked));
    } catch (err) {
      // A Secret that names no usable server (plain HTTP without insecure, not a URL): its fault, not a retry's.
      throw new SourceRefusedError(`cluster secret ${picked.secret}: ${(err as Error).message}`);
    }
    this.clients.set(picked.secret, { version: picked.version, kube });
    // A rotated Secret: the old client's connections go once requests under way have had time to finish.
    if (cached) setTimeout(() => cached.kube.close(), 60_000).unref();
    return { kube, cluster: picked };
  }
}
