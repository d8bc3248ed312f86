// Reads many Applications need at once (repository Secrets, the AppProject, the list of a
// kind in a namespace on a first compare): one read serves every caller that would accept a
// read started at or after its `notBeforeMs`, as Argo CD's controller answers them from its
// informer caches. A burst of new Applications then costs one read, not one per app; a
// refresh asks for a read started after it was asked, so it never sees an older one.

/** How old a read a plain reconcile may reuse (a refresh or a new Application asks for a newer one). */
export const SHARED_READ_REUSE_MS = 2000;
const MAX_KEYS = 2000;

export class SharedReads {
  private readonly last = new Map<string, { at: number; read: Promise<unknown> }>();

  constructor(private readonly reuseMs = SHARED_READ_REUSE_MS) {}

  get<T>(key: string, read: () => Promise<T>, notBeforeMs?: number): Promise<T> {
    const now = Date.now();
    const since = notBeforeMs ?? now - this.reuseMs;
    const last = this.last.get(key);
    if (last && last.at >= since && now - last.at < this.reuseMs) return last.read as Promise<T>;
    if (this.last.size >= MAX_KEYS) for (const [k, v] of this.last) if (now - v.at >= this.reuseMs) this.last.delete(k);
    const started = read();
    const entry = { at: now, read: started };
    this.last.set(key, entry);
    started.catch(() => {
      if (this.last.get(key) === entry) this.last.delete(key); // a failed read is not reused
    });
    return started;
  }
}
