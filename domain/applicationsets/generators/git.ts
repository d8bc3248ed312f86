// The git generator (generators/git.go): `directories` (Go path.Match globs with `exclude`) or
// `files` (git pathspecs, JSON/YAML objects or lists of objects, flattened for default
// templating), with the path parameters, `pathParamPrefix` and `values`.
import { parse } from 'yaml';
import { flatten, goValueString, isPlainObject, sanitizeName, type Params } from '../params';
import { gitPathspecMatch, goPathMatch } from '../globs';
import { DEFAULT_REQUEUE_AFTER_SECONDS, type GeneratorContext } from '../types';
import type { Generator } from './generator';
import { appendTemplatedValues } from './values';

interface PathItem {
  path: string;
  exclude?: boolean;
}

const dir = (p: string) => {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
};
const base = (p: string) => {
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return p === '' ? '.' : '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
};

/** The path parameters of one directory (and file, for `files`). */
export function pathParams(path: string, prefix: string | undefined, goTemplate: boolean, filename?: string): Params {
  if (goTemplate) {
    const p: Params = { path, basename: base(path) };
    if (filename !== undefined) p.filename = filename;
    p.basenameNormalized = sanitizeName(base(path));
    if (filename !== undefined) p.filenameNormalized = sanitizeName(filename);
    p.segments = path.split('/');
    return prefix ? { [prefix]: { path: p } } : { path: p };
  }
  const name = prefix ? `${prefix}.path` : 'path';
  const out: Params = { [name]: path, [`${name}.basename`]: base(path) };
  if (filename !== undefined) out[`${name}.filename`] = filename;
  out[`${name}.basenameNormalized`] = sanitizeName(base(path));
  if (filename !== undefined) out[`${name}.filenameNormalized`] = sanitizeName(filename);
  path.split('/').forEach((segment, i) => {
    if (segment !== '') out[`${name}[${i}]`] = segment;
  });
  return out;
}

/** Directories the items select: some include matches and no exclude does (a bad pattern matches nothing). */
export function selectDirectories(items: readonly PathItem[], directories: readonly string[]): string[] {
  const matches = (pattern: string, d: string) => {
    try {
      return goPathMatch(pattern, d);
    } catch {
      return false;
    }
  };
  return directories.filter((d) => items.some((i) => !i.exclude && matches(i.path, d)) && !items.some((i) => i.exclude && matches(i.path, d)));
}

/** Files the items select, sorted: those some include pathspec matches, less those an exclude matches. */
export function selectFiles(items: readonly PathItem[], files: readonly string[]): string[] {
  const included = files.filter((f) => items.some((i) => !i.exclude && gitPathspecMatch(i.path, f)));
  return included.filter((f) => !items.some((i) => i.exclude && gitPathspecMatch(i.path, f))).sort();
}

/** A file's objects: one mapping, or a list of mappings (sigs.k8s.io/yaml reads JSON and YAML 1.1). */
export function parseGitFile(content: string): Record<string, unknown>[] {
  let doc: unknown;
  try {
    doc = parse(content, { version: '1.1', uniqueKeys: false });
  } catch (err) {
    throw new Error(`unable to parse file: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || doc === undefined) return [{}];
  if (isPlainObject(doc)) return [doc];
  if (Array.isArray(doc) && doc.every((o) => o === null || isPlainObject(o))) return doc.map((o) => (o ?? {}) as Record<string, unknown>);
  throw new Error('unable to parse file: error unmarshaling JSON: cannot unmarshal into Go value of type []map[string]interface {}');
}

async function checkProject(ctx: GeneratorContext): Promise<void> {
  const project = ctx.appSet.spec.template?.spec?.project;
  if (typeof project !== 'string' || project.includes('{{')) return;
  if (!(await ctx.sources.projectExists(project))) {
    throw new Error(`error getting project ${project}: appprojects.argoproj.io "${project}" not found`);
  }
}

export const gitGenerator: Generator = {
  kind: 'git',
  requeueAfterSeconds: (spec) => (typeof spec?.requeueAfterSeconds === 'number' ? spec.requeueAfterSeconds : DEFAULT_REQUEUE_AFTER_SECONDS),
  async generate(spec, ctx) {
    const { engine } = ctx;
    await checkProject(ctx);
    const repoURL = String(spec.repoURL ?? '');
    const revision = String(spec.revision ?? '');
    const prefix: string | undefined = spec.pathParamPrefix || undefined;
    const directories: PathItem[] = spec.directories ?? [];
    const files: PathItem[] = spec.files ?? [];
    if (directories.length === 0 && files.length === 0) throw new Error('ApplicationSet is empty');
    let tree;
    try {
      tree = await ctx.sources.git(repoURL, revision);
    } catch (err) {
      const what = directories.length > 0 ? 'error getting directories from repo' : 'unable to read files';
      throw new Error(`error generating params from git: ${what}: ${(err as Error).message}`, { cause: err });
    }
    const res: Params[] = [];
    if (directories.length > 0) {
      for (const d of selectDirectories(directories, tree.directories)) {
        const params = pathParams(d, prefix, engine.goTemplate);
        await appendTemplatedValues(spec.values, params, engine);
        res.push(params);
      }
      return res;
    }
    for (const file of selectFiles(files, tree.files)) {
      let objects;
      try {
        objects = parseGitFile(await tree.read(file));
      } catch (err) {
        throw new Error(`error generating params from git: unable to process file '${file}' from repository '${repoURL}': ${(err as Error).message}`, {
          cause: err,
        });
      }
      for (const object of objects) {
        const path = pathParams(dir(file), prefix, engine.goTemplate, base(file));
        let params: Params;
        if (engine.goTemplate) params = { ...object, ...path };
        else {
          params = {};
          for (const [k, v] of Object.entries(flatten(object))) params[k] = goValueString(v);
          Object.assign(params, path);
        }
        await appendTemplatedValues(spec.values, params, engine);
        res.push(params);
      }
    }
    return res;
  },
};
