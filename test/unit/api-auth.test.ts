import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountsFromConfigMap } from '../../api/auth/accounts';
import { checkToken, mintToken, parseExpiresIn, parseToken, redactTokens } from '../../domain/rbac/tokens';

test('a minted token parses back to its id and verifies against the stored hash only', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const { token, record } = mintToken('frontend-dev', now, 3600, 'ci');
  const parsed = parseToken(token)!;
  assert.equal(parsed.id, record.id);
  assert.ok(!JSON.stringify(record).includes(parsed.secret), 'the record never holds the secret');
  assert.deepEqual(checkToken(record, parsed.secret, now), { ok: true });
  assert.deepEqual(
    checkToken(
      record,
      parsed.secret.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      now,
    ),
    { ok: false, reason: 'invalid' },
  );
  assert.deepEqual(checkToken(record, parsed.secret, new Date('2026-01-01T01:00:00Z')), { ok: false, reason: 'expired' });
  assert.equal(record.expiresAt, '2026-01-01T01:00:00.000Z');
});

test('two tokens never share a salt, so equal secrets would not share a hash', () => {
  const a = mintToken('admin', new Date()).record;
  const b = mintToken('admin', new Date()).record;
  assert.notEqual(a.salt, b.salt);
  assert.notEqual(a.id, b.id);
  assert.equal(a.expiresAt, undefined);
});

test('things that are not Sluice tokens do not parse', () => {
  assert.equal(parseToken('Bearer x'), undefined);
  assert.equal(parseToken('sluice_0123456789abcdef_short'), undefined);
  assert.equal(parseToken(''), undefined);
});

test('tokens are redacted wherever they appear in text', () => {
  const { token } = mintToken('admin', new Date());
  const text = `Unexpected token in JSON at position 3: "${token}" is not valid`;
  const redacted = redactTokens(text);
  assert.ok(!redacted.includes(token));
  assert.match(redacted, /sluice_\[redacted\]/);
});

test('expires-in takes Go-style durations', () => {
  assert.equal(parseExpiresIn('1h'), 3600);
  assert.equal(parseExpiresIn('1h30m'), 5400);
  assert.equal(parseExpiresIn('7d'), 604800);
  assert.equal(parseExpiresIn('90s'), 90);
  assert.equal(parseExpiresIn('0'), undefined);
  assert.throws(() => parseExpiresIn('soon'), /not a duration/);
  assert.throws(() => parseExpiresIn('1h banana'), /not a duration/);
});

test('accounts are read the argocd-cm way, with the built-in admin', () => {
  const accounts = accountsFromConfigMap({
    'accounts.frontend-dev': 'apiKey, login',
    'accounts.readonly-user': 'login',
    'accounts.old': 'apiKey',
    'accounts.old.enabled': 'false',
  });
  assert.deepEqual(accounts.get('frontend-dev'), { name: 'frontend-dev', enabled: true, capabilities: ['apiKey', 'login'] });
  assert.deepEqual(accounts.get('readonly-user')?.capabilities, ['login']);
  assert.equal(accounts.get('old')?.enabled, false);
  assert.equal(accounts.get('admin')?.enabled, true);
  assert.equal(accounts.has('old.enabled'), false);
  assert.equal(accountsFromConfigMap({ 'admin.enabled': 'false' }).get('admin')?.enabled, false);
});
