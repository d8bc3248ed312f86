// Coalesces notifications per workflow: while one signal to a workflow is in flight,
// further events for it collapse into a single follow-up. A burst of ReplicaSet
// status updates becomes at most two signals, and order per workflow is kept.
export class Nudger {
  private readonly pending = new Map<string, { again: boolean; send: () => Promise<void> }>();

  constructor(private readonly onError: (key: string, err: unknown) => void) {}

  nudge(key: string, send: () => Promise<void>): void {
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

  get inFlight(): number {
    return this.pending.size;
  }
}
