// What a compare found for one managed object, remembered so that the next compare of the
// same desired manifest against the same live object (same uid and resourceVersion) skips
// the server-side dry-run apply: that request is the most expensive part of a no-op
// reconcile, and its answer is determined by the two objects. Bounded, so memory does not
// grow with the number of managed objects; a hard refresh and `app diff` never use it.
import { createHash } from 'node:crypto';

const DEFAULT_CAPACITY = 10_000;

export class CompareVerdicts {
  /** Insertion order is recency order: a hit is moved to the end, the oldest evicted first. */
  private readonly entries = new Map<string, { fingerprint: string; outOfSync: boolean }>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Everything the verdict depends on: the desired manifest, the live object's identity and version, the ignore rules. */
  static fingerprint(desired: unknown, uid: string | undefined, version: string | undefined, ignoreDifferences: unknown): string | undefined {
    if (!uid || !version) return undefined;
    return createHash('sha256')
      .update(JSON.stringify([desired, uid, version, ignoreDifferences ?? null]))
      .digest('base64');
  }

  get(key: string, fingerprint: string): boolean | undefined {
    const e = this.entries.get(key);
    if (!e || e.fingerprint !== fingerprint) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.outOfSync;
  }

  set(key: string, fingerprint: string, outOfSync: boolean): void {
    this.entries.delete(key);
    this.entries.set(key, { fingerprint, outOfSync });
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
