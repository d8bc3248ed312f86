// The admin token `sluice up` prints once. Each start issues a fresh one (valid 30
// days, described "bootstrap") and revokes the bootstrap tokens of earlier starts, so
// at most one printed admin token works at a time; only its hash is stored. Tokens
// meant to last (CI, other people) are issued with `sluice account generate-token`.
import type { KubeClient } from '../../k8s/kube-client';
import { AccessControl } from './access-control';
import { ADMIN } from './accounts';

export const BOOTSTRAP_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
const BOOTSTRAP_DESCRIPTION = 'bootstrap';

export async function issueBootstrapToken(kube: KubeClient, sluiceNamespace: string): Promise<{ token: string; id: string; expiresAt?: string }> {
  const access = new AccessControl(kube, sluiceNamespace);
  await access.ensureObjects();
  await access.start(); // to read the earlier tokens
  try {
    const earlier = access.tokens(ADMIN).filter((t) => t.description === BOOTSTRAP_DESCRIPTION);
    const { token, info } = await access.issueToken(ADMIN, BOOTSTRAP_TOKEN_TTL_SECONDS, BOOTSTRAP_DESCRIPTION);
    for (const t of earlier) await access.revokeToken(t.id);
    return { token, id: info.id, expiresAt: info.expiresAt };
  } finally {
    await access.stop();
  }
}
