// The output of `helm template`, `kustomize build` and a directory's manifests, remembered by everything it depends
// on: the chart or kustomization directory inside a commit's tree (trees are exported once
// per commit and never change), the options, the release name and namespace, the value
// files. Every reconcile of every Helm or Kustomize app renders, so without this each pass
// spawns a process (and a kustomize with options copies the whole tree first); Argo CD's
// repo server caches manifests by revision for the same reason. Bounded by size (characters); a failed
// render is not remembered; callers asking for the same render at once share one process.
import { createHash } from 'node:crypto';

const DEFAULT_MAX_BYTES = 64 * 2 ** 20;

export class RenderedOutputs {
  /** Insertion order is recency order. */
  private readonly done = new Map<string, string>();
  private readonly running = new Map<string, Promise<string>>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** `fresh` (a hard refresh) renders anew and replaces what was remembered. */
  async get(inputs: unknown, render: () => Promise<string>, fresh = false): Promise<string> {
    const key = createHash('sha256').update(JSON.stringify(inputs)).digest('base64');
    const hit = fresh ? undefined : this.done.get(key);
    if (hit !== undefined) {
      this.done.delete(key);
      this.done.set(key, hit);
      return hit;
    }
    let pending = fresh ? undefined : this.running.get(key);
    if (!pending) {
      const started: Promise<string> = render()
        .then((out) => (this.remember(key, out), out))
        .finally(() => {
          if (this.running.get(key) === started) this.running.delete(key);
        });
      this.running.set(key, started);
      pending = started;
    }
    return pending;
  }

  private forget(key: string): void {
    const old = this.done.get(key);
    if (old === undefined) return;
    this.done.delete(key);
    this.bytes -= old.length;
  }

  get size(): number {
    return this.done.size;
  }

  private remember(key: string, out: string): void {
    this.forget(key);
    if (out.length > this.maxBytes) return;
    this.done.set(key, out);
    this.bytes += out.length;
    for (const [k, v] of this.done) {
      if (this.bytes <= this.maxBytes) break;
      this.done.delete(k);
      this.bytes -= v.length;
    }
  }
}

/** One per worker process, shared by every Application. */
export const renderedOutputs = new RenderedOutputs();
