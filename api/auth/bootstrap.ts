// The admin token `sluice up` prints once. Each start issues a fresh one (valid 30
// days, described "bootstrap"); only its hash is stored, so a lost token is replaced
// by restarting, and old ones can be revoked with `sluice account revoke-token`.
import type { KubeClient } from '../../k8s/kube-client';
import { AccessControl } from './access-control';
import { ADMIN } from './accounts';

export const BOOTSTRAP_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

export async function issueBootstrapToken(kube: KubeClient, sluiceNamespace: string): Promise<{ token: string; id: string; expiresAt?: string }> {
  const access = new AccessControl(kube, sluiceNamespace);
  await access.ensureObjects();
  const { token, info } = await access.issueToken(ADMIN, BOOTSTRAP_TOKEN_TTL_SECONDS, 'bootstrap');
  return { token, id: info.id, expiresAt: info.expiresAt };
}
