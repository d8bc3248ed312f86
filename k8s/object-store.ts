// An in-process copy of one kind of object, kept by a watch (the informer's list and
// events) and by our own writes (their responses), so reads need no round trip. A copy
// never goes back in time: an object replaces the stored one only when its
// resourceVersion is not older. Objects may be trimmed to what readers need, so the
// copy stays small per object. `version` moves on every change, so readers can keep
// what they derive until it moves.
import type { KubeObject } from './kube-client';

export class ObjectStore<T extends KubeObject = KubeObject> {
  private readonly byKey = new Map<string, T>();
  private readonly byOwner = new Map<string, Set<string>>();
  private listed = false;
  version = 0;

  /** `namespace` is the one the watch covers; undefined means every namespace. */
  constructor(
    private readonly namespace: string | undefined,
    private readonly trim: (obj: T) => T = (obj) => obj,
  ) {}

  get synced(): boolean {
    return this.listed;
  }

  /** Whether reads for `namespace` can be answered here: the watch covers it and has listed. */
  covers(namespace: string): boolean {
    return this.listed && (this.namespace === undefined || this.namespace === namespace);
  }

  /** A fresh list: the copy becomes exactly these objects. */
  replace(items: T[]): void {
    this.byKey.clear();
    this.byOwner.clear();
    for (const obj of items) this.store(obj);
    this.listed = true;
    this.version++;
  }

  /** Stores `obj` unless what is stored is newer; returns what was stored before. */
  upsert(obj: T): T | undefined {
    const existing = this.byKey.get(key(obj));
    if (existing && !notOlder(obj, existing)) return existing;
    if (existing) this.unindex(existing);
    this.store(obj);
    this.version++;
    return existing;
  }

  remove(obj: T): T | undefined {
    const existing = this.byKey.get(key(obj));
    if (!existing || !notOlder(obj, existing)) return existing;
    this.unindex(existing);
    this.byKey.delete(key(obj));
    this.version++;
    return existing;
  }

  /** After our own delete: the object is gone whatever the watch has not said yet. */
  forget(namespace: string, name: string): void {
    const existing = this.byKey.get(`${namespace}/${name}`);
    if (!existing) return;
    this.unindex(existing);
    this.byKey.delete(`${namespace}/${name}`);
    this.version++;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.byKey.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.byKey.values()];
    return namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
  }

  /** The objects whose controller is the object with this uid. */
  ownedBy(uid: string): T[] {
    return [...(this.byOwner.get(uid) ?? [])].map((k) => this.byKey.get(k)!).filter(Boolean);
  }

  get size(): number {
    return this.byKey.size;
  }

  private store(raw: T): void {
    const obj = this.trim(raw);
    const k = key(obj);
    this.byKey.set(k, obj);
    const owner = controllerUid(obj);
    if (owner) {
      let keys = this.byOwner.get(owner);
      if (!keys) this.byOwner.set(owner, (keys = new Set()));
      keys.add(k);
    }
  }

  private unindex(obj: T): void {
    const owner = controllerUid(obj);
    const keys = owner ? this.byOwner.get(owner) : undefined;
    if (!keys) return;
    keys.delete(key(obj));
    if (keys.size === 0) this.byOwner.delete(owner!);
  }
}

const key = (obj: KubeObject) => `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
const controllerUid = (obj: KubeObject) => obj.metadata.ownerReferences?.find((o) => o.controller)?.uid;

/**
 * resourceVersions are opaque by contract but etcd's are integers; where both are,
 * they order the copies. Otherwise the newer arrival wins.
 */
function notOlder(incoming: KubeObject, cached: KubeObject): boolean {
  const a = incoming.metadata.resourceVersion;
  const b = cached.metadata.resourceVersion;
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true;
  return BigInt(a) >= BigInt(b);
}
