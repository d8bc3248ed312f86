// An informer for the API: one list-then-watch loop (k8s/informer.ts) keeping every
// object in an ObjectStore, so reads (the rollout list, owner lookups, accounts, the
// RBAC policy) cost no apiserver round trip. `version` moves on every change, so callers
// can cache what they derive.
import { inform } from '../k8s/informer';
import type { KubeClient, KubeObject, ResourceRef } from '../k8s/kube-client';
import { ObjectStore } from '../k8s/object-store';

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

/** A change as subscribers see it: one object changed, or the whole list was read again. */
export type CacheChange<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; obj: T } | { type: 'RELISTED' };

export class ObjectCache<T extends KubeObject = KubeObject> {
  private readonly store: ObjectStore<T>;
  private readonly listeners = new Set<(change: CacheChange<T>) => void>();
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private readonly syncedOnce: Promise<void>;
  private markSynced!: () => void;

  constructor(
    private readonly kube: KubeClient,
    private readonly res: ResourceRef,
    private readonly opts: ObjectCacheOptions<T> = {},
  ) {
    this.store = new ObjectStore<T>(opts.namespace);
    this.syncedOnce = new Promise((resolve) => (this.markSynced = resolve));
  }

  get synced(): boolean {
    return this.store.synced;
  }

  get version(): number {
    return this.store.version;
  }

  start(): this {
    const { kube, res, opts } = this;
    this.loop ??= inform(
      {
        kube,
        resource: res,
        namespace: opts.namespace,
        fieldSelector: opts.fieldSelector,
        labelSelector: opts.labelSelector,
        signal: this.abort.signal,
        log: (_msg, fields) => opts.onError?.(fields?.error),
      },
      (type, obj, listed) => {
        if (listed) return;
        const previous = type === 'DELETED' ? this.store.remove(obj as T) : this.store.upsert(obj as T);
        opts.onChange?.();
        try {
          opts.onEvent?.(type, obj as T, previous);
        } catch (err) {
          opts.onError?.(err);
        }
        this.notify({ type, obj: obj as T });
      },
      (items) => {
        this.store.replace(items as T[]);
        this.markSynced();
        opts.onChange?.();
        this.notify({ type: 'RELISTED' });
      },
    );
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
    return this.store.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.store.list(namespace);
  }

  /** Records a write this process just made, so its own reads see it at once. */
  observe(obj: T): void {
    this.store.upsert(obj);
    this.opts.onChange?.();
    this.notify({ type: 'MODIFIED', obj });
  }

  /** Calls `listener` after every change (the dashboard's live stream); returns the unsubscribe. */
  subscribe(listener: (change: CacheChange<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(change: CacheChange<T>): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.opts.onError?.(err);
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
