// What an Argo CD repository Secret (`argocd.argoproj.io/secret-type: repository` or
// `repo-creds`) says about reaching a repository, read from its decoded string data with
// Argo's field names. The values stay in memory; nothing here is shown anywhere.

export interface RepositoryCredentials {
  /** `type`: git (the default) or helm; `oci` in Argo CD 3. */
  type?: string;
  username?: string;
  password?: string;
  /** The url is an OCI registry (host/path, no scheme). */
  enableOCI: boolean;
  /** Send Basic auth with the first request instead of after a 401 challenge. */
  forceHttpBasicAuth: boolean;
  /** PEM client certificate and key for TLS. */
  tlsClientCertData?: string;
  tlsClientCertKey?: string;
  /** Skip TLS verification. */
  insecure: boolean;
  /** Talk plain HTTP to the OCI registry (a registry without TLS). */
  insecureOCIForceHttp: boolean;
  /** PEM CA certificates for the repository's host, from the argocd-tls-certs-cm ConfigMap. */
  tlsCA?: string;
}

/** The repository's host as argocd-tls-certs-cm keys it (no port, no scheme); undefined for scp-like git URLs. */
export function tlsHostOf(repoURL: string): string | undefined {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^/@]+@)?([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::\d+)?(?:\/|$)/i.exec(repoURL.trim());
  return m?.[1]?.toLowerCase();
}

const flag = (v: string | undefined) => v !== undefined && /^(true|1|yes)$/i.test(v.trim());

export function repositoryCredentials(data: Record<string, string | undefined>): RepositoryCredentials {
  const text = (k: string) => (data[k] !== undefined && data[k] !== '' ? data[k] : undefined);
  return {
    type: text('type')?.trim(),
    username: text('username'),
    password: text('password'),
    enableOCI: flag(data.enableOCI) || data.type?.trim() === 'oci',
    forceHttpBasicAuth: flag(data.forceHttpBasicAuth),
    tlsClientCertData: text('tlsClientCertData'),
    tlsClientCertKey: text('tlsClientCertKey'),
    insecure: flag(data.insecure),
    insecureOCIForceHttp: flag(data.insecureOCIForceHttp),
  };
}

/** Everything a cache key may know about credentials without holding them: which, not what. */
export function credentialsFingerprint(c: RepositoryCredentials | undefined, hash: (s: string) => string): string {
  if (!c) return 'none';
  return hash(JSON.stringify([c.username, c.password, c.tlsClientCertData, c.tlsClientCertKey, c.insecure, c.insecureOCIForceHttp, c.tlsCA]));
}
