// An in-process copy of one kind of object, kept by a watch (the informer's list and
// events) and by our own writes (their responses), so a reconcile pass reads the
// cluster without a round trip. A copy never goes back in time: an object replaces the
// cached one only when its resourceVersion is not older. Objects are trimmed to what
// readers need, so the copy stays small per object.
import type { KubeObject } from './kube-client';

export class ObjectCache {
  private readonly byKey = new Map<string, KubeObject>();
  private readonly byOwner = new Map<string, Set<string>>();
  private listed = false;

  /** `namespace` is the one the watch covers; undefined means every namespace. */
  constructor(
    private readonly namespace: string | undefined,
    private readonly trim: (obj: KubeObject) => KubeObject = (obj) => obj,
  ) {}

  /** Whether reads for `namespace` can be answered here: the watch covers it and has listed. */
  covers(namespace: string): boolean {
    return this.listed && (this.namespace === undefined || this.namespace === namespace);
  }

  /** A fresh list: the copy becomes exactly these objects. */
  replace(items: KubeObject[]): void {
    this.byKey.clear();
    this.byOwner.clear();
    for (const obj of items) this.store(obj);
    this.listed = true;
  }

  upsert(obj: KubeObject): void {
    const existing = this.byKey.get(key(obj));
    if (existing && !notOlder(obj, existing)) return;
    if (existing) this.unindex(existing);
    this.store(obj);
  }

  remove(obj: KubeObject): void {
    const existing = this.byKey.get(key(obj));
    if (!existing || !notOlder(obj, existing)) return;
    this.unindex(existing);
    this.byKey.delete(key(obj));
  }

  /** After our own delete: the object is gone whatever the watch has not said yet. */
  forget(namespace: string, name: string): void {
    const existing = this.byKey.get(`${namespace}/${name}`);
    if (!existing) return;
    this.unindex(existing);
    this.byKey.delete(`${namespace}/${name}`);
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.byKey.get(`${namespace}/${name}`);
  }

  /** The objects whose controller is the object with this uid. */
  ownedBy(uid: string): KubeObject[] {
    return [...(this.byOwner.get(uid) ?? [])].map((k) => this.byKey.get(k)!).filter(Boolean);
  }

  get size(): number {
    return this.byKey.size;
  }

  private store(raw: KubeObject): void {
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

  private unindex(obj: KubeObject): void {
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
