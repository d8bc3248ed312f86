// The dashboard's one way to the API: same origin, the bearer token from the login page
// (kept in sessionStorage, so it leaves with the tab), JSON in and out, and the live
// stream (api/routes/stream.ts) read with fetch because EventSource cannot send a header.
const TOKEN_KEY = 'sluice.token';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token.get() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (res.status === 401) {
    token.clear();
    location.hash = '#/login';
  }
  if (!res.ok) throw new ApiError(res.status, data?.code ?? 'Unknown', data?.message ?? `HTTP ${res.status}`);
  return data as T;
}

export const enc = encodeURIComponent;

export interface StreamHandlers {
  [event: string]: (data: any) => void;
}

/**
 * Reads /api/v1/stream?watch=... and calls the handler named by each event; reconnects
 * after a second when the connection drops (a new snapshot arrives then). Returns the stop.
 */
export function stream(watch: string, handlers: StreamHandlers, onState?: (live: boolean) => void): () => void {
  const abort = new AbortController();
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      let first = true;
      try {
        performance.mark('sluice:stream-request');
        const res = await fetch(`/api/v1/stream?watch=${enc(watch)}`, { headers: { authorization: `Bearer ${token.get() ?? ''}` }, signal: abort.signal });
        if (res.status === 401) {
          token.clear();
          location.hash = '#/login';
          return;
        }
        if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
        performance.mark('sluice:stream-open');
        onState?.(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let end: number;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (!data) continue;
            if (first) performance.mark('sluice:stream-first-event'); // for the bench's breakdown (test/bench/dashboard.ts)
            first = false;
            handlers[event]?.(JSON.parse(data));
          }
        }
      } catch (err) {
        if (stopped) return;
        console.warn(String(err));
      }
      onState?.(false);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  void run();
  return () => {
    stopped = true;
    abort.abort();
  };
}
