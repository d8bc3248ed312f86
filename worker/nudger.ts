// Coalesces notifications per workflow: while one signal to a workflow is in flight,
// further events for it collapse into a single follow-up. A burst of ReplicaSet
// status updates becomes at most two signals, and order per workflow is kept.
// A nudge may also be deferred: it is sent after a delay unless an immediate nudge for
// the same key comes first, which covers it.
export class Nudger {
  private readonly pending = new Map<string, { again: boolean; send: () => Promise<void> }>();
  private readonly deferred = new Map<string, NodeJS.Timeout>();

  constructor(private readonly onError: (key: string, err: unknown) => void) {}

  nudge(key: string, send: () => Promise<void>, deferMs = 0): void {
    if (deferMs > 0) {
      if (this.deferred.has(key)) return;
      const timer = setTimeout(() => {
        this.deferred.delete(key);
        this.nudge(key, send);
      }, deferMs);
      timer.unref();
      this.deferred.set(key, timer);
      return;
    }
    clearTimeout(this.deferred.get(key));
    this.deferred.delete(key);
    const existing = this.pending.get(key);
    if (existing) {
      existing.again = true;
      existing.send = send;
      return;
    }
    const state = { again: false, send };
    this.pending.set(key, state);
    void (async () => {
      do {
        state.again = false;
        try {
          await state.send();
        } catch (err) {
          this.onError(key, err);
        }
      } while (state.again);
      this.pending.delete(key);
    })();
  }

  /** Drops deferred nudges (on stop); signals already in flight finish on their own. */
  cancelDeferred(): void {
    for (const timer of this.deferred.values()) clearTimeout(timer);
    this.deferred.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
