// The tags of an image with just the metadata its strategy needs: the tag list, then
// manifests and configs only for candidates, best first, stopping at the first one that
// qualifies (semver/alphabetical) or for all candidates (newest-build, once per digest).
// Tag → metadata is remembered for tagCacheMs; the digest strategy's tag is always re-read.
// A registry whose tag list is in push order (`tagsortmode`) gives newest-build its order
// from the list, as Image Updater does: no build time is read (min-age still reads them).

import { DEFAULT_PLATFORMS, type ImageSpec } from '../../domain/images/annotations';
import { candidateOrder, chooseTag, needsMetadata, rejection, type TagChoice } from '../../domain/images/selection';
import { strategyFor, type TagInfo } from '../../domain/images/strategies';
import type { TagSortMode } from '../../domain/images/registries';
import type { RegistryClient } from './registry-client';

const tagCache = new Map<string, { info: TagInfo; at: number }>();
export const TAG_CACHE_MS = 60 * 60_000;

/** Forget what is known about an image's tags (a registry webhook said something changed). */
export function forgetTags(apiUrl: string, repository: string): void {
  const prefix = `${apiUrl}/${repository}:`;
  for (const k of tagCache.keys()) if (k.startsWith(prefix)) tagCache.delete(k);
}

export async function checkImage(
  client: RegistryClient,
  apiUrl: string,
  repository: string,
  spec: ImageSpec,
  nowMs: number,
  tagSortMode?: TagSortMode,
): Promise<TagChoice & { tags: number }> {
  const names = await client.tags(repository);
  const tags: TagInfo[] = names.map((name) => ({ name }));
  if (!needsMetadata(spec)) return { ...chooseTag(spec, tags, nowMs), tags: names.length };
  const strategy = strategyFor(spec.strategy);
  const inPushOrder = strategy.needsBuildTime && tagSortMode !== undefined && spec.minAgeMs === undefined;
  if (inPushOrder) tags.forEach((t, i) => (t.created = tagSortMode === 'latest-first' ? names.length - i : i + 1));
  const platforms = spec.platforms.length > 0 ? spec.platforms : DEFAULT_PLATFORMS;
  const buildTime = !inPushOrder && (strategy.needsBuildTime || spec.minAgeMs !== undefined);
  const byName = new Map(tags.map((t) => [t.name, t]));
  const fill = async (t: TagInfo): Promise<void> => {
    const key = `${apiUrl}/${repository}:${t.name}|${platforms.join(',')}|${buildTime}`;
    const hit = tagCache.get(key);
    if (hit && !strategy.writesDigest && nowMs - hit.at < TAG_CACHE_MS) {
      Object.assign(t, hit.info);
      return;
    }
    const d = await client.describe(repository, t.name, { buildTime, platforms });
    // Only what the registry said is remembered (a position in the list is no build time).
    const info = { name: t.name, digest: d.digest, platforms: d.platforms, ...(d.created !== undefined && buildTime ? { created: d.created } : {}) };
    Object.assign(t, info);
    tagCache.set(key, { info, at: nowMs });
  };
  if (buildTime && strategy.needsBuildTime) {
    // The order itself needs every candidate's build time; candidateOrder without times would drop them all.
    for (const t of candidateOrder({ ...spec, strategy: 'alphabetical' }, tags)) await fill(byName.get(t.name)!);
  } else {
    for (const t of candidateOrder(spec, tags)) {
      await fill(t);
      if (!rejection(spec, t, nowMs)) break;
    }
  }
  return { ...chooseTag(spec, tags, nowMs), tags: names.length };
}
