// One interface for every generator kind (Argo's generators.Generator).
import type { Params } from '../params';
import type { ApplicationTemplate, GeneratorContext } from '../types';

export interface Generator {
  /** The key under a generator entry: list, clusters, git, matrix, merge, … */
  readonly kind: string;
  /** Parameter sets for this kind's spec (the value under its key). Throws on any failure. */
  generate(spec: any, ctx: GeneratorContext, depth: number, child: ChildTransform): Promise<Params[]>;
  /** Seconds until this generator's input should be read again; undefined when it never changes by itself. */
  requeueAfterSeconds(spec: any): number | undefined;
}

/** Transform of a child entry (matrix and merge): its parameter sets per kind, without a base template. */
export type ChildTransform = (entry: any, depth: number, genParams: Params) => Promise<{ params: Params[] }[]>;

/** The generator-level `template` override (every kind carries one). */
export const generatorTemplate = (spec: any): ApplicationTemplate | undefined => spec?.template;
