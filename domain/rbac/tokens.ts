// Bearer tokens for local accounts. A token is `sluice_<id>_<secret>`: the id names
// the record, the secret is 32 random bytes. Only a salted SHA-256 of the secret is
// stored (a fast hash is enough for 256 random bits; a slow one would cost every
// request). The fixed prefix lets logs and error messages redact tokens by pattern.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenRecord {
  id: string;
  account: string;
  salt: string;
  hash: string;
  issuedAt: string;
  /** ISO time; absent means the token does not expire. */
  expiresAt?: string;
  /** Free text such as "bootstrap"; never the token. */
  description?: string;
}

/** What callers may see about a token: never the salt or the hash. */
export type TokenInfo = Pick<TokenRecord, 'id' | 'account' | 'issuedAt' | 'expiresAt' | 'description'>;

export const TOKEN_PATTERN = /sluice_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/g;
const TOKEN_SHAPE = /^sluice_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function redactTokens(text: string): string {
  return text.replace(TOKEN_PATTERN, 'sluice_[redacted]');
}

export function hashSecret(secret: string, salt: string): string {
  return createHash('sha256').update(salt).update(':').update(secret).digest('hex');
}

export function mintToken(account: string, now: Date, expiresInSeconds?: number, description?: string): { token: string; record: TokenRecord } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  const record: TokenRecord = {
    id,
    account,
    salt,
    hash: hashSecret(secret, salt),
    issuedAt: now.toISOString(),
    ...(expiresInSeconds ? { expiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString() } : {}),
    ...(description ? { description } : {}),
  };
  return { token: `sluice_${id}_${secret}`, record };
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN_SHAPE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export type TokenCheck = { ok: true } | { ok: false; reason: 'invalid' | 'expired' };

export function checkToken(record: TokenRecord, secret: string, now: Date): TokenCheck {
  const expected = Buffer.from(record.hash, 'hex');
  const actual = Buffer.from(hashSecret(secret, record.salt), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return { ok: false, reason: 'invalid' };
  if (record.expiresAt && Date.parse(record.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true };
}

export function tokenInfo(r: TokenRecord): TokenInfo {
  return { id: r.id, account: r.account, issuedAt: r.issuedAt, expiresAt: r.expiresAt, description: r.description };
}

/** Go-style durations as the CLI takes them: 90s, 30m, 1h, 7d, 1h30m; 0 or '' means no expiry. */
export function parseExpiresIn(text: string): number | undefined {
  const t = text.trim();
  if (t === '' || t === '0') return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    if (m.index !== consumed) break;
    consumed += m[0].length;
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  }
  if (consumed !== t.length || total <= 0) throw new Error(`expires-in ${JSON.stringify(text)} is not a duration such as 90s, 30m, 1h or 7d`);
  return Math.ceil(total);
}
