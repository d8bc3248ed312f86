// A durable timer that outlives the pass that armed it. A workflow that waits with
// `condition(fn, timeout)` starts a timer at every wait and cancels it at every wake: two
// history events (and a timer task in Temporal) per workflow task, most of them for a
// resync that never fires. An Alarm stays armed across passes while its ring time is still
// good enough, and is cancelled only when it would ring too early or too late.
import { CancellationScope, sleep } from '@temporalio/workflow';

export class Alarm {
  /** When the armed timer rings (workflow time), or undefined when none is armed. */
  private at: number | undefined;
  private scope: CancellationScope | undefined;

  /** `onRing` runs in the workflow task that the timer's firing opens. */
  constructor(private readonly onRing: () => void) {}

  get armed(): boolean {
    return this.at !== undefined;
  }

  /**
   * Rings at most `ms` from now, and not sooner than `ms * earliest` from now: an armed
   * alarm inside that window is kept (no command), anything else is re-armed.
   */
  within(ms: number, earliest = 0.5): void {
    const now = Date.now();
    if (this.at !== undefined && this.at <= now + ms && this.at >= now + ms * earliest) return;
    this.arm(ms);
  }

  /** Rings `ms` from now unless already armed (a bound counted from when it was first asked for). */
  once(ms: number): void {
    if (this.at === undefined) this.arm(ms);
  }

  disarm(): void {
    if (!this.scope) return;
    this.scope.cancel();
    this.scope = undefined;
    this.at = undefined;
  }

  private arm(ms: number): void {
    this.disarm();
    const scope = new CancellationScope();
    this.scope = scope;
    this.at = Date.now() + ms;
    scope
      .run(() => sleep(ms))
      .then(
        () => {
          if (this.scope !== scope) return;
          this.scope = undefined;
          this.at = undefined;
          this.onRing();
        },
        () => undefined, // cancelled: a newer alarm, or none, replaced it
      );
  }
}
