// Fakes for the ApplicationSet domain: a git tree in memory, cluster Secrets, projects.
import { parse } from 'yaml';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultTemplateEngine } from '../../domain/applicationsets/fasttemplate';
import type { ApplicationSet, ClusterSecret, GeneratorContext, GitSnapshot, TemplateEngine } from '../../domain/applicationsets/types';

/** A tree from a path → content map; directories are every parent of a file (hidden ones left out). */
export function memoryTree(files: Record<string, string>): GitSnapshot {
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) {
      const segs = parts.slice(0, i);
      if (segs.some((s) => s.startsWith('.'))) break;
      dirs.add(segs.join('/'));
    }
  }
  return {
    directories: [...dirs].sort(),
    files: Object.keys(files).sort(),
    read: async (p) => {
      if (!(p in files)) throw new Error(`no file ${p}`);
      return files[p]!;
    },
  };
}

export interface FakeWorld {
  repos?: Record<string, Record<string, string>>;
  clusters?: ClusterSecret[];
  projects?: string[];
  failGit?: boolean;
  configMaps?: Record<string, Record<string, string>>;
  resources?: Record<string, Record<string, any>[]>;
  secrets?: Record<string, Record<string, string>>;
  http?: (url: string, headers: Record<string, string>) => { status: number; body: unknown; headers?: Record<string, string> };
  plugin?: (request: { url: string; token: string; body: unknown }) => Promise<unknown>;
}

/**
 * A stand-in for the Go template engine in tests of parameter shapes: `{{ .a.b }}` lookups only,
 * a missing key an error when asked. The real engine is activities/templating.
 */
export const lookupOnlyGoEngine: TemplateEngine = {
  goTemplate: true,
  goTemplateOptions: [],
  replace: async (template, params, options) =>
    template.replace(/{{-?\s*\.([\w.]+)\s*-?}}/g, (_, p: string) => {
      let v: any = params;
      for (const k of p.split('.')) v = v?.[k];
      if (v === undefined && options?.missingKeyError) throw new Error(`map has no entry for key "${p}"`);
      return v === undefined ? '<no value>' : String(v);
    }),
};

export function fakeContext(appSet: ApplicationSet, world: FakeWorld = {}, engine?: TemplateEngine): GeneratorContext {
  engine ??= appSet.spec.goTemplate ? lookupOnlyGoEngine : defaultTemplateEngine;
  return {
    appSet,
    engine,
    sources: {
      git: async (repoURL) => {
        if (world.failGit) throw new Error(`git fetch failed: ${repoURL} unreachable`);
        const files = world.repos?.[repoURL];
        if (!files) throw new Error(`repository not found: ${repoURL}`);
        return memoryTree(files);
      },
      clusterSecrets: async () => world.clusters ?? [],
      projectExists: async (name) => (world.projects ?? ['default']).includes(name),
      configMap: async (name) => world.configMaps?.[name],
      secretValue: async (name, key) => world.secrets?.[name]?.[key],
      httpGetJSON: async (url, headers) => {
        if (!world.http) throw new Error('connection refused');
        const r = world.http(url, headers);
        return { status: r.status, body: r.body, headers: r.headers ?? {} };
      },
      callPlugin: async (request) => {
        if (!world.plugin) throw new Error('connection refused');
        return world.plugin(request);
      },
      listResources: async (ref) => (world.resources?.[ref.plural] ?? []).filter((o) => !ref.name || o.metadata?.name === ref.name),
    },
  };
}

export function appSet(spec: ApplicationSet['spec'], name = 'set', namespace = 'argocd'): ApplicationSet {
  return { apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', metadata: { name, namespace, uid: `uid-${name}` }, spec };
}

/** The examples' ApplicationSets, and their repository laid out like the examples folder. */
export function exampleAppSet(examplesDir: string, file: string): ApplicationSet {
  return parse(fs.readFileSync(path.join(examplesDir, 'applicationsets', file), 'utf8')) as ApplicationSet;
}
