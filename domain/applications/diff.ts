// Comparing what Git wants with what the cluster has. Both sides are first normalised:
// fields the server owns (status, managedFields, resourceVersion, uid, …) and the paths an
// Application ignores (ignoreDifferences jsonPointers) are removed; the desired side is
// the server's dry-run apply of the manifest, so defaults are already filled in.
import { groupOf, type ManifestResource } from '../sync/resources';
import type { IgnoreDifference } from './types';

const SERVER_METADATA = [
  'managedFields',
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
const SERVER_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** RFC 6901: "/spec/replicas" → ["spec", "replicas"]. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function removeAt(obj: unknown, path: string[]): void {
  if (path.length === 0 || typeof obj !== 'object' || obj === null) return;
  const [head, ...rest] = path;
  if (Array.isArray(obj)) {
    const i = Number(head);
    if (!Number.isInteger(i) || i < 0 || i >= obj.length) return;
    if (rest.length === 0) obj.splice(i, 1);
    else removeAt(obj[i], rest);
    return;
  }
  const rec = obj as Record<string, unknown>;
  if (!(head in rec)) return;
  if (rest.length === 0) delete rec[head];
  else removeAt(rec[head], rest);
}

function matching(r: ManifestResource, ignore: readonly IgnoreDifference[]): IgnoreDifference[] {
  return ignore.filter(
    (d) =>
      d.kind === r.kind &&
      (d.group ?? '') === groupOf(r.apiVersion) &&
      (!d.name || d.name === r.metadata.name) &&
      (!d.namespace || d.namespace === (r.metadata.namespace ?? '')),
  );
}

/** The ignoreDifferences jsonPointers that apply to this object. */
export function ignoredPointers(r: ManifestResource, ignore: readonly IgnoreDifference[] = []): string[] {
  return matching(r, ignore).flatMap((d) => d.jsonPointers ?? []);
}

/** The ignoreDifferences jqPathExpressions that apply to this object (evaluated by the compare activity, with gojq). */
export function ignoredJqExpressions(r: ManifestResource, ignore: readonly IgnoreDifference[] = []): string[] {
  return matching(r, ignore).flatMap((d) => d.jqPathExpressions ?? []);
}

type FieldSet = Record<string, unknown>;

/** The managedFields (fieldsV1) of the live object held by the managers ignoreDifferences names. */
export function ignoredFieldSets(live: ManifestResource, ignore: readonly IgnoreDifference[] = []): FieldSet[] {
  const managers = new Set(matching(live, ignore).flatMap((d) => d.managedFieldsManagers ?? []));
  if (managers.size === 0) return [];
  const entries = (live.metadata.managedFields ?? []) as { manager?: string; fieldsV1?: FieldSet }[];
  return entries.filter((e) => e.manager !== undefined && managers.has(e.manager) && e.fieldsV1).map((e) => e.fieldsV1!);
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Removes from `target` every field a fieldsV1 set names: f:<field>, k:<list item key>, v:<set value>, i:<index>. */
export function removeFieldSet(target: unknown, fields: FieldSet): void {
  if (typeof target !== 'object' || target === null) return;
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    const children = sub && typeof sub === 'object' ? (sub as FieldSet) : {};
    const leaf = Object.keys(children).every((k) => k === '.');
    if (key.startsWith('f:') && !Array.isArray(target)) {
      const obj = target as Record<string, unknown>;
      const name = key.slice(2);
      if (!(name in obj)) continue;
      if (leaf) delete obj[name];
      else removeFieldSet(obj[name], children);
      continue;
    }
    if (!Array.isArray(target)) continue;
    let index = -1;
    try {
      if (key.startsWith('k:')) {
        const item = JSON.parse(key.slice(2)) as Record<string, unknown>;
        index = target.findIndex(
          (el) => typeof el === 'object' && el !== null && Object.entries(item).every(([k, v]) => sameJson((el as Record<string, unknown>)[k], v)),
        );
      } else if (key.startsWith('v:')) {
        const value = JSON.parse(key.slice(2));
        index = target.findIndex((el) => sameJson(el, value));
      } else if (key.startsWith('i:')) {
        index = Number(key.slice(2));
      }
    } catch {
      continue; // a key we cannot read: leave the field in the comparison
    }
    if (index < 0 || index >= target.length) continue;
    if (leaf) target.splice(index, 1);
    else removeFieldSet(target[index], children);
  }
}

function dropEmpty(obj: unknown): unknown {
  if (Array.isArray(obj)) return obj.map(dropEmpty);
  if (typeof obj !== 'object' || obj === null) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const value = dropEmpty(v);
    if (value === null || value === undefined) continue;
    if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    out[k] = value;
  }
  return out;
}

/**
 * A copy without server-owned fields, status and ignored paths, with keys sorted, ready to
 * compare. `owned` are field sets to drop as well (fields of ignored managers, read from the live object).
 */
export function normalizeForDiff(obj: ManifestResource, ignore: readonly IgnoreDifference[] = [], owned: readonly FieldSet[] = []): ManifestResource {
  const copy = JSON.parse(JSON.stringify(obj)) as ManifestResource;
  for (const fields of owned) removeFieldSet(copy, fields);
  delete copy.status;
  for (const f of SERVER_METADATA) delete copy.metadata[f];
  if (copy.metadata.annotations) for (const a of SERVER_ANNOTATIONS) delete copy.metadata.annotations[a];
  for (const pointer of ignoredPointers(obj, ignore)) removeAt(copy, parseJsonPointer(pointer));
  return sortKeys(dropEmpty(copy)) as ManifestResource;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** Whether the normalised forms differ. */
export function differs(desired: ManifestResource, live: ManifestResource, ignore: readonly IgnoreDifference[] = []): boolean {
  const owned = ignoredFieldSets(live, ignore);
  return JSON.stringify(normalizeForDiff(desired, ignore, owned)) !== JSON.stringify(normalizeForDiff(live, ignore, owned));
}

/** A unified diff of two texts (line based, LCS), with `context` lines around each change. */
export function unifiedDiff(before: string, after: string, labels: { from: string; to: string }, context = 3): string {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  type Line = { op: ' ' | '-' | '+'; text: string; ai: number; bi: number };
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) lines.push({ op: ' ', text: a[i], ai: i++, bi: j++ });
    else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) lines.push({ op: '-', text: a[i], ai: i++, bi: j });
    else lines.push({ op: '+', text: b[j], ai: i, bi: j++ });
  }
  if (!lines.some((l) => l.op !== ' ')) return '';
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  let k = 0;
  while (k < lines.length) {
    if (lines[k].op === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are closer than 2*context lines apart.
    for (let m = k; m < lines.length; m++) {
      if (lines[m].op !== ' ') end = m;
      else if (m - end > 2 * context) break;
    }
    const stop = Math.min(lines.length, end + context + 1);
    const hunk = lines.slice(start, stop);
    const aCount = hunk.filter((l) => l.op !== '+').length;
    const bCount = hunk.filter((l) => l.op !== '-').length;
    out.push(`@@ -${hunk[0].ai + (aCount ? 1 : 0)},${aCount} +${hunk[0].bi + (bCount ? 1 : 0)},${bCount} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
    k = stop;
  }
  return out.join('\n') + '\n';
}
