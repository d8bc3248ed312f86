// One update strategy per file behind this interface: how candidate tags are ordered.
import type { ImageSpec, UpdateStrategyName } from '../annotations';

export interface TagInfo {
  name: string;
  /** Manifest digest, when fetched. */
  digest?: string;
  /** Build time (ms since epoch) from the image config's `created`, when fetched. */
  created?: number;
  /** Platforms (os/arch[/variant]) the tag has an image for, when fetched; undefined = unknown. */
  platforms?: string[];
}

export interface TagStrategy {
  readonly name: UpdateStrategyName;
  /** The ordering reads each candidate's build time, so every candidate's config is needed. */
  readonly needsBuildTime: boolean;
  /** The chosen value includes the manifest digest. */
  readonly writesDigest: boolean;
  /** Candidates the strategy can order, best first. Ties fall back to the tag name so the order never depends on the registry's. */
  rank(spec: ImageSpec, tags: readonly TagInfo[]): TagInfo[];
}

/** Byte order, as Go compares strings. */
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
