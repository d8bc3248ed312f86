// The workflow bundle, built so that each cached workflow and each workflow thread costs
// as little memory as it can (NOTES.md, Benchmarks, issue 18's memory).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

const workflowsPath = require.resolve('../workflows');

/**
 * Bundles the workflows with the pure modules they use (domain/) loaded once per workflow
 * thread instead of once per workflow. The SDK's reusable V8 context gives every workflow its
 * own copy of each module it loads (its closures, tables and caches: ~0.2 MiB a workflow for
 * Sluice's, times up to SLUICE_MAX_CACHED_WORKFLOWS); a preloaded module is shared by all of
 * them and its exports are frozen. domain/ is safe to share: no I/O, no Temporal calls, and
 * its few module-level caches are memoised compilations of pure inputs.
 */
export async function bundleSluiceWorkflows(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: new DefaultLogger('WARN'),
    preloadModules: pureModulesOf(workflowsPath),
  });
  return slimmed(code);
}

/** Every module under domain/ that the workflows require, directly or not (tsc's CommonJS output). */
export function pureModulesOf(entry: string): string[] {
  const domainDir = path.resolve(__dirname, '..', 'domain') + path.sep;
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g)) {
      visit(require.resolve(path.resolve(path.dirname(file), spec!)));
    }
  };
  visit(entry);
  return [...seen].filter((f) => f.startsWith(domainDir)).sort();
}

/**
 * The bundle as the SDK's bundler writes it, less what no workflow thread uses: the source
 * map keeps its mappings (stack traces of workflow code still name the TypeScript sources)
 * but not the sources' full text (read only by a stack-trace query with sources, which the
 * worker does not enable), and the few characters beyond Latin-1 (dashes and arrows in
 * comments and messages) are written as escapes, so V8 holds the script as one byte per
 * character instead of two. Each isolate (the main thread and each workflow thread) keeps
 * the whole bundle in memory; this takes it from 3.2 MB (6.3 MiB in V8) to about 1.9 MB.
 */
export function slimmed(code: string): string {
  const marker = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64At = code.indexOf('base64,', marker);
  if (marker < 0 || base64At < 0) throw new Error('the workflow bundle has no inline source map');
  const map = JSON.parse(Buffer.from(code.slice(base64At + 'base64,'.length).trim(), 'base64').toString('utf8')) as Record<string, unknown>;
  delete map.sourcesContent;
  const script = code.slice(0, marker).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${script}//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}
