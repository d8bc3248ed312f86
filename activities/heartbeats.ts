// Heartbeats while a long step runs (a git fetch, a render, a wave of applies), so a
// worker killed mid-step is noticed within the heartbeat timeout, not the step's whole
// start-to-close timeout.
import { Context } from '@temporalio/activity';

const HEARTBEAT_MS = 2000;

export async function whileHeartbeating<T>(fn: () => Promise<T>): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return fn(); // called outside an activity (a test)
  }
  // A local activity has no heartbeat: its workflow task stands in for it.
  if (ctx.info.isLocal) return fn();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_MS);
  try {
    ctx.heartbeat();
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** One heartbeat, from an ordinary activity only (a local activity has none). */
export function heartbeat(): void {
  const ctx = Context.current();
  if (!ctx.info.isLocal) ctx.heartbeat();
}
