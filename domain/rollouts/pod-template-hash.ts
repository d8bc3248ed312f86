// The rollouts-pod-template-hash label value: a stable digest of spec.template, so
// the same template always maps to the same ReplicaSet name, across restarts and
// across workers (which is what makes creating a ReplicaSet idempotent).

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with sorted keys, so key order in the manifest does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const digest = fnv1a32(canonicalJson(template) + (collisionCount ? `#${collisionCount}` : ''));
  return String(digest)
    .split('')
    .map((ch) => SAFE_ALPHABET[ch.charCodeAt(0) % SAFE_ALPHABET.length])
    .join('');
}
