// Polls until a probe answers, for things that become ready on their own (a CRD
// established, a server listening); a probe's error counts as not yet.
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, ...failFast: Promise<never>[]): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  const poll = (async () => {
    while (Date.now() < deadline) {
      try {
        const v = await probe();
        if (v !== undefined && v !== null && (v as unknown) !== false) return v;
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
  })();
  return Promise.race([poll, ...failFast]);
}
