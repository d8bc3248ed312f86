// Which tag an image moves to, and whether to write it: allow-tags and ignore-tags first,
// then the strategy's order, then (beyond Image Updater) min-age and the platforms, tried
// best first so the registry is asked about as few tags as possible.

import { goPathMatch } from '../applicationsets/globs';
import { DEFAULT_PLATFORMS, type ImageSpec } from './annotations';
import { strategyFor, type TagInfo } from './strategies';
import { compileTagRegexp } from './tag-regexp';

/** Tags allow-tags and ignore-tags let through, in the registry's order. */
export function allowedTags(spec: ImageSpec, tags: readonly TagInfo[]): TagInfo[] {
  const allow = spec.allowTags !== undefined ? compileTagRegexp(spec.allowTags) : undefined;
  return tags.filter((t) => (allow ? allow.test(t.name) : true) && !spec.ignoreTags.some((g) => safeGlob(g, t.name)));
}

function safeGlob(pattern: string, name: string): boolean {
  try {
    return goPathMatch(pattern, name);
  } catch {
    return false; // Go's filepath.Match returns false with ErrBadPattern
  }
}

/** Candidates best first: the order in which the activity fetches metadata until one qualifies. */
export function candidateOrder(spec: ImageSpec, tags: readonly TagInfo[]): TagInfo[] {
  return strategyFor(spec.strategy).rank(spec, allowedTags(spec, tags));
}

/** Whether a candidate must have its manifest/config read before it can be taken. */
export function needsMetadata(spec: ImageSpec): boolean {
  const s = strategyFor(spec.strategy);
  return s.needsBuildTime || s.writesDigest || spec.minAgeMs !== undefined || spec.platforms.length > 0;
}

export type Rejection = 'too-young' | 'no-platform' | 'no-metadata';

/** Why a ranked candidate cannot be taken yet; undefined when it can. */
export function rejection(spec: ImageSpec, t: TagInfo, nowMs: number): Rejection | undefined {
  if (spec.minAgeMs !== undefined) {
    if (t.created === undefined) return 'no-metadata';
    if (nowMs - t.created < spec.minAgeMs) return 'too-young';
  }
  const platforms = spec.platforms.length > 0 ? spec.platforms : DEFAULT_PLATFORMS;
  if (t.platforms !== undefined && t.platforms.length > 0 && !t.platforms.some((p) => platforms.some((want) => platformMatches(want, p)))) return 'no-platform';
  if (strategyFor(spec.strategy).writesDigest && t.digest === undefined) return 'no-metadata';
  return undefined;
}

/** linux/arm64 matches linux/arm64/v8; a variant asked for must be there. */
function platformMatches(want: string, have: string): boolean {
  const [wo, wa, wv] = want.split('/');
  const [ho, ha, hv] = have.split('/');
  return wo === ho && wa === ha && (wv === undefined || wv === hv);
}

export interface TagChoice {
  tag?: TagInfo;
  /** What happened, in words for `sluice image check`. */
  reason: string;
  /** Tags that passed allow/ignore and the strategy. */
  candidates: number;
  skipped: { tag: string; why: Rejection }[];
}

export function chooseTag(spec: ImageSpec, tags: readonly TagInfo[], nowMs: number): TagChoice {
  const ranked = candidateOrder(spec, tags);
  const skipped: TagChoice['skipped'] = [];
  for (const t of ranked) {
    const why = rejection(spec, t, nowMs);
    if (!why) {
      const more = skipped.length > 0 ? ` (skipped ${skipped.length} newer: ${skipped.map((s) => `${s.tag} ${s.why}`).join(', ')})` : '';
      return {
        tag: t,
        reason: `${spec.strategy}: ${t.name} is the best of ${ranked.length} candidate(s) from ${tags.length} tag(s)${more}`,
        candidates: ranked.length,
        skipped,
      };
    }
    skipped.push({ tag: t.name, why });
  }
  const reason =
    tags.length === 0
      ? 'the registry lists no tags'
      : ranked.length === 0
        ? `none of ${tags.length} tag(s) passes allow-tags, ignore-tags and the ${spec.strategy} strategy${spec.constraint ? ` (${spec.constraint})` : ''}`
        : `all ${ranked.length} candidate(s) rejected: ${skipped.map((s) => `${s.tag} ${s.why}`).join(', ')}`;
  return { reason, candidates: ranked.length, skipped };
}

/** The value written for a chosen tag: the tag, or tag@digest for the digest strategy. */
export function chosenValue(spec: ImageSpec, t: TagInfo): { tag: string; digest?: string } {
  return strategyFor(spec.strategy).writesDigest && t.digest ? { tag: t.name, digest: t.digest } : { tag: t.name };
}

/** Identity of what the registry offers for an image: a new push of the chosen tag changes it. */
export function registryFingerprint(t: TagInfo): string {
  return `${t.name}@${t.digest ?? ''}`;
}

/** The last value written back for an image, kept by the workflow. */
export interface LastWrite {
  value: string;
  fingerprint: string;
}

export type WriteDecision = { write: true; reason: string } | { write: false; reason: string };

/**
 * Whether to write `chosen` when the source currently holds `current`. The same value is
 * not written twice in a row for the same registry state: if someone reverted our write
 * in Git, we wait for the registry to change rather than fight the revert (update loop).
 */
export function decideWrite(args: { chosen: string; current: string | undefined; fingerprint: string; last: LastWrite | undefined }): WriteDecision {
  if (args.current === args.chosen) return { write: false, reason: `already at ${args.chosen}` };
  if (args.last && args.last.value === args.chosen && args.last.fingerprint === args.fingerprint)
    return { write: false, reason: `${args.chosen} was written before and has been changed since; waiting for a new registry change` };
  return { write: true, reason: args.current === undefined ? `set to ${args.chosen}` : `${args.current} → ${args.chosen}` };
}

/** What decideWrite compares: the digest when one is pinned, else the tag. */
export function valueKey(v: { tag: string; digest?: string } | string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return v.digest ?? v.tag;
  const at = v.indexOf('@');
  return at >= 0 ? v.slice(at + 1) : v;
}
