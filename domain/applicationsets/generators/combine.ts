// matrix (generators/matrix.go) and merge (generators/merge.go): two or more child generators,
// each a full generator entry (with its own selector); a child may itself be a matrix or merge
// one level down, as Argo's nested generator types allow, but no deeper.
import { combineStringMaps, mergeOverride, type Params } from '../params';
import type { ChildTransform, Generator } from './generator';

async function childParams(transform: ChildTransform, child: any, depth: number, genParams: Params): Promise<Params[]> {
  // Below a nested matrix/merge, Argo's terminal generator type has no matrix or merge field.
  const entry = depth >= 2 ? Object.fromEntries(Object.entries(child ?? {}).filter(([k]) => k !== 'matrix' && k !== 'merge')) : child;
  let results;
  try {
    results = await transform(entry, depth, genParams);
  } catch (err) {
    throw new Error(`child generator returned an error on parameter generation: ${(err as Error).message}`, { cause: err });
  }
  if (results.length === 0) throw new Error('child generator generated no parameters');
  if (results.length > 1) throw new Error('found more than one generator in matrix.Generators');
  return results[0]!.params;
}

export const matrixGenerator: Generator = {
  kind: 'matrix',
  requeueAfterSeconds: () => undefined, // computed over the children by requeueAfter()
  async generate(spec, ctx, depth, child) {
    const children: any[] = spec?.generators ?? [];
    if (children.length < 2) throw new Error('found less than two generators, Matrix support only two');
    if (children.length > 2) throw new Error('found more than two generators, Matrix support only two');
    let first;
    try {
      first = await childParams(child, children[0], depth + 1, {});
    } catch (err) {
      throw new Error(`error failed to get params for first generator in matrix generator: ${(err as Error).message}`, { cause: err });
    }
    const res: Params[] = [];
    for (const a of first) {
      let second;
      try {
        second = await childParams(child, children[1], depth + 1, a);
      } catch (err) {
        throw new Error(`failed to get params for second generator in the matrix generator: ${(err as Error).message}`, { cause: err });
      }
      for (const b of second) {
        if (ctx.engine.goTemplate) res.push(mergeOverride(mergeOverride({}, b), a));
        else {
          try {
            res.push(combineStringMaps(a, b));
          } catch (err) {
            throw new Error(`failed to combine string maps with merging params for the matrix generator: ${(err as Error).message}`, { cause: err });
          }
        }
      }
    }
    return res;
  },
};

function byMergeKey(mergeKeys: readonly string[], paramSets: readonly Params[]): Map<string, Params> {
  if (mergeKeys.length < 1) throw new Error('no merge keys were specified, Merge requires at least one');
  // Go marshals the key map with sorted keys; a missing key is null.
  const keys = [...new Set(mergeKeys)].sort();
  const out = new Map<string, Params>();
  for (const p of paramSets) {
    const key = JSON.stringify(Object.fromEntries(keys.map((k) => [k, p[k] ?? null])));
    if (out.has(key)) {
      throw new Error(
        `the parameters from a generator were not unique by the given mergeKeys, Merge requires all param sets to be unique. Duplicate key was ${key}`,
      );
    }
    out.set(key, p);
  }
  return out;
}

export const mergeGenerator: Generator = {
  kind: 'merge',
  requeueAfterSeconds: () => undefined,
  async generate(spec, ctx, depth, child) {
    const children: any[] = spec?.generators ?? [];
    if (children.length < 2) throw new Error('found less than two generators, Merge requires two or more');
    const sets: Params[][] = [];
    for (let i = 0; i < children.length; i++) {
      try {
        sets.push(await childParams(child, children[i], depth + 1, {}));
      } catch (err) {
        throw new Error(
          `error getting param sets from generators: error getting params from generator ${i + 1} of ${children.length}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    const mergeKeys: string[] = spec?.mergeKeys ?? [];
    const baseSets = byMergeKey(mergeKeys, sets[0]!);
    for (const others of sets.slice(1)) {
      const overrides = byMergeKey(mergeKeys, others);
      for (const [key, baseSet] of baseSets) {
        const override = overrides.get(key);
        if (override) baseSets.set(key, ctx.engine.goTemplate ? mergeOverride(baseSet, override) : { ...baseSet, ...override });
      }
    }
    return [...baseSets.values()];
  },
};
