// Who may do what, read live from Sluice's namespace (SLUICE_NAMESPACE, default
// sluice-system), Argo CD style:
//   ConfigMap sluice-cm        accounts (argocd-cm keys: accounts.<name>: apiKey, login)
//   ConfigMap sluice-rbac-cm   RBAC (argocd-rbac-cm keys: policy.csv, policy.default, ...)
//   Secret    sluice-tokens    one key per API token: its salted hash, account, expiry
// All three are created at start when absent and watched, so an edit (a new policy
// line, a disabled account, a token revoked by another replica) applies as soon as the
// watch delivers it (milliseconds on a healthy apiserver); this replica's own writes
// apply at once.
import { Resources, isConflict, type KubeClient, type KubeObject, type ResourceRef } from '../../k8s/kube-client';
import { ObjectCache } from '../object-cache';
import { enforce, parsePolicy, policyFromConfigMap, type Policy } from '../../domain/rbac/policy';
import { accountsFromConfigMap, type Account } from './accounts';
import { checkToken, mintToken, parseToken, tokenInfo, type TokenInfo, type TokenRecord } from '../../domain/rbac/tokens';
import { PART_OF_LABEL, SLUICE_CM, SLUICE_RBAC_CM, SLUICE_TOKENS_SECRET } from '../../domain/argo/names';

// Sluice's own resource, `rollouts`, for Rollouts no Application owns: the built-in
// roles get the same reach over it as over applications.
const SLUICE_BUILTIN_POLICY = [
  'p, role:admin, rollouts, *, */*, allow',
  'p, role:readonly, rollouts, get, */*, allow',
  'p, role:admin, analysisruns, *, */*, allow',
  'p, role:readonly, analysisruns, get, */*, allow',
].join('\n');

export class Unauthenticated extends Error {}

export interface Principal {
  account: string;
  tokenId: string;
}

export class AccessControl {
  private readonly accountsCache: ObjectCache;
  private readonly rbacCache: ObjectCache;
  private readonly tokensCache: ObjectCache;
  private parsed?: { version: string; accounts: Map<string, Account>; policy: Policy };
  private lastTokenRefresh = 0;
  private records?: { version: number; byId: Map<string, TokenRecord> };

  constructor(
    private readonly kube: KubeClient,
    readonly namespace: string,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => undefined,
    private readonly now: () => Date = () => new Date(),
  ) {
    const onError = (what: string) => (err: unknown) => log('watch failed; listing again', { object: `${namespace}/${what}`, error: String(err) });
    const named = (name: string) => ({ namespace, fieldSelector: `metadata.name=${name}`, onError: onError(name) });
    this.accountsCache = new ObjectCache(kube, Resources.configMap, named(SLUICE_CM));
    this.rbacCache = new ObjectCache(kube, Resources.configMap, named(SLUICE_RBAC_CM));
    this.tokensCache = new ObjectCache(kube, Resources.secret, named(SLUICE_TOKENS_SECRET));
  }

  /** Creates the namespace and the three objects when absent, then watches them. */
  async start(): Promise<void> {
    await this.ensureObjects();
    for (const c of [this.accountsCache, this.rbacCache, this.tokensCache]) c.start();
    await Promise.all([this.accountsCache, this.rbacCache, this.tokensCache].map((c) => c.waitSynced()));
  }

  /** Creates Sluice's namespace, sluice-cm, sluice-rbac-cm and sluice-tokens when absent. */
  async ensureObjects(): Promise<void> {
    const createIfAbsent = async (res: ResourceRef, ns: string | undefined, body: KubeObject) => {
      try {
        await this.kube.create(res, ns, body);
      } catch (err) {
        if (!isConflict(err)) throw err;
      }
    };
    const labels = { [PART_OF_LABEL]: 'sluice' };
    await createIfAbsent(Resources.namespace, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.namespace } });
    await createIfAbsent(Resources.configMap, this.namespace, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: SLUICE_CM, labels },
      data: { 'admin.enabled': 'true' },
    });
    await createIfAbsent(Resources.configMap, this.namespace, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: SLUICE_RBAC_CM, labels },
      data: { 'policy.default': '', 'policy.csv': '' },
    });
    await createIfAbsent(Resources.secret, this.namespace, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SLUICE_TOKENS_SECRET, labels },
      type: 'Opaque',
      data: {},
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.accountsCache.stop(), this.rbacCache.stop(), this.tokensCache.stop()]);
  }

  /** Moves whenever accounts or the policy change: a key for caching RBAC outcomes. */
  get policyVersion(): string {
    return `${this.accountsCache.version}/${this.rbacCache.version}`;
  }

  get ready(): boolean {
    return this.accountsCache.synced && this.rbacCache.synced && this.tokensCache.synced;
  }

  private current(): { accounts: Map<string, Account>; policy: Policy } {
    const version = this.policyVersion;
    if (this.parsed?.version !== version) {
      const policy = policyFromConfigMap(this.rbacCache.get(this.namespace, SLUICE_RBAC_CM)?.data as Record<string, string> | undefined);
      for (const e of policy.errors) this.log('RBAC policy line ignored', { configMap: `${this.namespace}/${SLUICE_RBAC_CM}`, error: e.message });
      const builtin = parsePolicy(SLUICE_BUILTIN_POLICY, { source: 'sluice-builtin' });
      policy.rules.push(...builtin.rules);
      const accounts = accountsFromConfigMap(this.accountsCache.get(this.namespace, SLUICE_CM)?.data as Record<string, string> | undefined);
      this.parsed = { version, accounts, policy };
    }
    return this.parsed;
  }

  account(name: string): Account | undefined {
    return this.current().accounts.get(name);
  }

  accounts(): Account[] {
    return [...this.current().accounts.values()];
  }

  /** Argo CD's enforcement for a local account (the subject is the account name). */
  can(principal: Principal, resource: string, action: string, object: string): boolean {
    return enforce(this.current().policy, principal.account, resource, action, object);
  }

  private tokenRecords(): Map<string, TokenRecord> {
    if (this.records?.version === this.tokensCache.version) return this.records.byId;
    const data = (this.tokensCache.get(this.namespace, SLUICE_TOKENS_SECRET)?.data ?? {}) as Record<string, string>;
    const byId = new Map<string, TokenRecord>();
    for (const [id, b64] of Object.entries(data)) {
      try {
        byId.set(id, JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as TokenRecord);
      } catch {
        this.log('unreadable token record ignored', { secret: `${this.namespace}/${SLUICE_TOKENS_SECRET}`, key: id });
      }
    }
    this.records = { version: this.tokensCache.version, byId };
    return byId;
  }

  /** The principal behind an `Authorization` header, or Unauthenticated (never echoing the header). */
  async authenticate(header: string | undefined): Promise<Principal> {
    if (!header) throw new Unauthenticated('no credentials: send Authorization: Bearer <token> (sluice login, or sluice account generate-token)');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new Unauthenticated('the Authorization header is not of the form "Bearer <token>"');
    const parsed = parseToken(m[1]!);
    if (!parsed) throw new Unauthenticated('the bearer token is not a Sluice token');
    let record = this.tokenRecords().get(parsed.id);
    // A token just issued by another replica may not have reached our watch yet.
    if (!record && Date.now() - this.lastTokenRefresh > 250) {
      this.lastTokenRefresh = Date.now();
      const secret = await this.kube.find(Resources.secret, this.namespace, SLUICE_TOKENS_SECRET);
      if (secret) this.tokensCache.observe(secret);
      record = this.tokenRecords().get(parsed.id);
    }
    if (!record) throw new Unauthenticated(`token ${parsed.id} is unknown or was revoked`);
    const check = checkToken(record, parsed.secret, this.now());
    if (!check.ok)
      throw new Unauthenticated(check.reason === 'expired' ? `token ${parsed.id} expired at ${record.expiresAt}` : `token ${parsed.id} does not match`);
    const account = this.account(record.account);
    if (!account || !account.enabled)
      throw new Unauthenticated(`account ${record.account} is disabled or no longer declared in ${this.namespace}/${SLUICE_CM}`);
    return { account: record.account, tokenId: record.id };
  }

  tokens(account?: string): TokenInfo[] {
    return [...this.tokenRecords().values()].filter((r) => !account || r.account === account).map(tokenInfo);
  }

  token(id: string): TokenInfo | undefined {
    const r = this.tokenRecords().get(id);
    return r && tokenInfo(r);
  }

  /** Issues a token; the caller shows it once. Only its hash is stored. */
  async issueToken(account: string, expiresInSeconds?: number, description?: string): Promise<{ token: string; info: TokenInfo }> {
    const now = this.now();
    const { token, record } = mintToken(account, now, expiresInSeconds, description);
    const value = Buffer.from(JSON.stringify(record)).toString('base64');
    // Records of tokens expired for a day go in the same write, so the Secret stays small.
    const stale = [...this.tokenRecords().values()]
      .filter((r) => r.expiresAt && Date.parse(r.expiresAt) < now.getTime() - 86_400_000)
      .map((r) => [r.id, null] as const);
    // A merge patch adds one key without a read-modify-write, so replicas never collide.
    const secret = await this.kube.patch(Resources.secret, this.namespace, SLUICE_TOKENS_SECRET, {
      data: { ...Object.fromEntries(stale), [record.id]: value },
    });
    this.tokensCache.observe(secret);
    return { token, info: tokenInfo(record) };
  }

  /** Removes a token's record; requests with it fail from now on. */
  async revokeToken(id: string): Promise<TokenInfo | undefined> {
    const record = this.tokenRecords().get(id);
    if (!record) return undefined;
    const secret = await this.kube.patch(Resources.secret, this.namespace, SLUICE_TOKENS_SECRET, { data: { [id]: null } });
    this.tokensCache.observe(secret);
    return tokenInfo(record);
  }
}
