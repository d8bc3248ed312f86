// A live list from the stream (api/routes/stream.ts): the snapshot, then each change applied
// to the map in place. The map object stays the same and a counter moves, so a change to one
// of 1,000 items does not copy the other 999; pages memoise on `version`.
import { useEffect, useState } from 'preact/hooks';
import { stream } from './api';

export type ListName = 'applications' | 'rollouts' | 'applicationsets';

const CHANGES: Record<ListName, string> = {
  applications: 'application-changes',
  rollouts: 'rollout-changes',
  applicationsets: 'applicationset-changes',
};

export interface LiveList<T> {
  /** Items by `<namespace>/<name>`; undefined until the snapshot has arrived. */
  items?: Map<string, T>;
  /** Moves on every snapshot and every change. */
  version: number;
  live: boolean;
}

export function liveListHandlers<T extends { namespace: string; name: string }>(
  list: ListName,
  apply: (update: (items: Map<string, T> | undefined) => Map<string, T>) => void,
) {
  return {
    [list]: (d: { items: T[] }) => apply(() => new Map(d.items.map((i) => [`${i.namespace}/${i.name}`, i]))),
    [CHANGES[list]]: (d: { changes: { key: string; item: T | null }[] }) =>
      apply((items = new Map()) => {
        for (const c of d.changes) {
          if (c.item) items.set(c.key, c.item);
          else items.delete(c.key);
        }
        return items;
      }),
  };
}

export function useLiveList<T extends { namespace: string; name: string }>(list: ListName): LiveList<T> {
  const [state, setState] = useState<{ items?: Map<string, T>; version: number }>({ version: 0 });
  const [live, setLive] = useState(false);
  useEffect(
    () =>
      stream(
        list,
        liveListHandlers<T>(list, (update) => setState((s) => ({ items: update(s.items), version: s.version + 1 }))),
        setLive,
      ),
    [list],
  );
  return { ...state, live };
}
