// Coalesces notifications per workflow: while one signal to a workflow is in flight,
// further events for it collapse into a single follow-up. A burst of ReplicaSet
// status updates becomes at most two signals, and order per workflow is kept.
// A nudge may also be deferred: it is sent after a delay unless an immediate nudge for
// the same key comes first, which covers it.
// With several replicas (worker/replica-shards.ts), a nudge for a workflow another replica
// owns is parked instead of sent: the latest per workflow, for PARKED_MS, and sent if this
// replica gains that workflow meanwhile (its owner died).
import { PARKED_MS, unsharded, type Shards } from './replica-shards';

export class Nudger {
  private readonly pending = new Map<string, { again: boolean; send: () => Promise<void> }>();
  private readonly deferred = new Map<string, NodeJS.Timeout>();
  private readonly parked = new Map<string, { send: () => Promise<void>; at: number }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly onError: (key: string, err: unknown) => void,
    private readonly shards: Shards = unsharded,
  ) {
    this.unsubscribe = shards.onChange(() => this.takeOver());
  }

  nudge(key: string, send: () => Promise<void>, deferMs = 0): void {
    if (!this.shards.owns(key)) {
      clearTimeout(this.deferred.get(key));
      this.deferred.delete(key);
      this.parked.delete(key); // re-inserted last: the map stays ordered by time
      this.parked.set(key, { send, at: Date.now() });
      if (this.parked.size > 1000) this.forgetParked();
      return;
    }
    this.parked.delete(key);
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

  /** The replicas changed: parked nudges of workflows this replica now owns go out. */
  private takeOver(): void {
    this.forgetParked();
    for (const [key, { send }] of this.parked) if (this.shards.owns(key)) this.nudge(key, send);
  }

  /** Parked nudges old enough that their owner was alive to send them are dropped. */
  private forgetParked(): void {
    const cutoff = Date.now() - PARKED_MS;
    for (const [key, { at }] of this.parked) {
      if (at >= cutoff) break;
      this.parked.delete(key);
    }
  }

  /** Drops deferred and parked nudges (on stop); signals already in flight finish on their own. */
  cancelDeferred(): void {
    this.unsubscribe();
    this.parked.clear();
    for (const timer of this.deferred.values()) clearTimeout(timer);
    this.deferred.clear();
  }

  get inFlight(): number {
    return this.pending.size;
  }
}
