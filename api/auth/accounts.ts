// Local accounts declared the Argo CD way in an argocd-cm-style ConfigMap:
//   accounts.<name>: apiKey, login        (capabilities)
//   accounts.<name>.enabled: "false"      (disables the account and its tokens)
//   admin.enabled: "false"                (disables the built-in admin)
// The built-in `admin` may hold API keys here (Argo's admin logs in with a password,
// which Sluice does not have; its bootstrap token is an API key).
export type Capability = 'apiKey' | 'login';

export interface Account {
  name: string;
  enabled: boolean;
  capabilities: Capability[];
}

export const ADMIN = 'admin';

export function accountsFromConfigMap(data: Record<string, string> | undefined | null): Map<string, Account> {
  const d = data ?? {};
  const accounts = new Map<string, Account>();
  accounts.set(ADMIN, { name: ADMIN, enabled: d['admin.enabled']?.trim() !== 'false', capabilities: ['apiKey', 'login'] });
  for (const [key, value] of Object.entries(d)) {
    if (!key.startsWith('accounts.') || key.endsWith('.enabled') || key.endsWith('.tokens')) continue;
    const name = key.slice('accounts.'.length);
    if (!name || name === ADMIN) continue;
    const capabilities = value
      .split(',')
      .map((c) => c.trim())
      .filter((c): c is Capability => c === 'apiKey' || c === 'login');
    accounts.set(name, { name, enabled: d[`accounts.${name}.enabled`]?.trim() !== 'false', capabilities });
  }
  return accounts;
}
