// An informer for the API: list once, then watch from the list's resourceVersion and
// keep every object in memory, so reads (the rollout list, owner lookups, accounts,
// the RBAC policy) cost no apiserver round trip. On a watch error or expiry it lists
// again. `version` moves on every change, so callers can cache what they derive.
import type { KubeClient, KubeObject, ResourceRef } from '../k8s/kube-client';

export interface ObjectCacheOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
  onError?: (err: unknown) => void;
  /** Called after every change (and after each re-list). */
  onChange?: () => void;
  /** Called for each watch event with the object as it was before (not for the objects a (re-)list brings). */
  onEvent?: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T, previous: T | undefined) => void;
}

export class ObjectCache<T extends KubeObject = KubeObject> {
  private objects = new Map<string, T>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private syncedOnce!: Promise<void>;
  private markSynced!: () => void;
  synced = false;
  version = 0;

  constructor(
    private readonly kube: KubeClient,
    private readonly res: ResourceRef,
    private readonly opts: ObjectCacheOptions<T> = {},
  ) {
    this.syncedOnce = new Promise((resolve) => (this.markSynced = resolve));
  }

  static key(namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Resolves once the first list has landed, or after `timeoutMs` (false then). */
  async waitSynced(timeoutMs = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const ok = await Promise.race([this.syncedOnce.then(() => true), timedOut]);
    clearTimeout(timer);
    return ok;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(ObjectCache.key(namespace, name));
  }

  list(namespace?: string): T[] {
    const all = [...this.objects.values()];
    return namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
  }

  /** Records a write this process just made, so its own reads see it at once. */
  observe(obj: T): void {
    this.objects.set(ObjectCache.key(obj.metadata.namespace, obj.metadata.name), obj);
    this.changed();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private changed(): void {
    this.version++;
    this.opts.onChange?.();
  }

  private async run(): Promise<void> {
    const { kube, res, opts } = this;
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const { items, resourceVersion } = await kube.list<T>(res, opts.namespace, { fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector });
        this.objects = new Map(items.map((o) => [ObjectCache.key(o.metadata.namespace, o.metadata.name), o]));
        this.synced = true;
        failures = 0;
        this.markSynced();
        this.changed();
        let rv = resourceVersion;
        let expired = false;
        while (!signal.aborted && !expired) {
          await kube.watch<T>(
            res,
            opts.namespace,
            { fieldSelector: opts.fieldSelector, labelSelector: opts.labelSelector, resourceVersion: rv, timeoutSeconds: 240 },
            (ev) => {
              if (ev.type === 'ERROR') {
                expired = true; // 410 Gone: list again
                return;
              }
              rv = ev.object.metadata.resourceVersion ?? rv;
              if (ev.type === 'BOOKMARK') return;
              const key = ObjectCache.key(ev.object.metadata.namespace, ev.object.metadata.name);
              const previous = this.objects.get(key);
              if (ev.type === 'DELETED') this.objects.delete(key);
              else this.objects.set(key, ev.object);
              this.changed();
              try {
                opts.onEvent?.(ev.type, ev.object, previous);
              } catch (err) {
                opts.onError?.(err);
              }
            },
            signal,
          );
        }
      } catch (err) {
        if (signal.aborted) return;
        // Back off to 30 s, so a kind that is not installed (no CRD) is not a log line a second.
        if (failures++ === 0 || failures % 10 === 0) opts.onError?.(err);
        await new Promise((r) => setTimeout(r, Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5))));
      }
    }
  }
}
