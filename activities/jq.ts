// ignoreDifferences jqPathExpressions, evaluated as Argo CD does: each expression becomes
// `del(<expression>)` run on the object, by gojq (the jq Argo CD embeds), built at a
// pinned tag into the tool cache. One gojq process per object, its expressions applied in
// turn; an expression that fails at run time on an object leaves that object as it was
// (Argo skips such a patch), one that does not compile is a ComparisonError naming it.
import { spawn } from 'node:child_process';
import { rendererBinary } from './render/tool';
import type { ManifestResource } from '../domain/sync/resources';

export class JqExpressionError extends Error {
  override name = 'JqExpressionError';
}

const TIMEOUT_MS = 5000;

/**
 * The jq program: for each expression, `del(expr)` with its error (or a result that is not
 * exactly one value) falling back to the input. Built as text because jq has no other way
 * to take a path expression; it is passed as one argument, never through a shell.
 */
export function jqDeletionProgram(expressions: readonly string[]): string {
  return expressions.map((e) => `(. as $in | [try del(${e}) catch $in] | if length == 1 then .[0] else $in end)`).join(' | ');
}

/** Same object? A program that replaced the object (not merely deleted from it) is refused. */
function sameObject(a: ManifestResource, b: unknown): b is ManifestResource {
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
  const o = b as ManifestResource;
  return o.apiVersion === a.apiVersion && o.kind === a.kind && o.metadata?.name === a.metadata.name && o.metadata?.namespace === a.metadata.namespace;
}

function runGojq(binary: string, program: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No environment: `env` and `$ENV` in an expression see nothing of the worker's.
    const child = spawn(binary, ['-c', program], { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? -1 : (code ?? -1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // gojq may exit (compile error) before reading
    child.stdin.end(input);
  });
}

export class JqPaths {
  private binary?: Promise<string>;
  /** Compile results of expressions seen, so a bad one is reported without running it again. */
  private readonly compiled = new Map<string, string | undefined>();

  constructor(private readonly locate: () => Promise<string> = async () => rendererBinary('gojq')) {}

  private gojq(): Promise<string> {
    this.binary ??= this.locate().catch((err) => {
      this.binary = undefined;
      throw err;
    });
    return this.binary;
  }

  /** Throws JqExpressionError for an expression gojq cannot compile. */
  private async check(binary: string, expression: string): Promise<void> {
    if (!this.compiled.has(expression)) {
      const r = await runGojq(binary, `del(${expression})`, '{}');
      // Exit 3 is gojq's compile error; 5 a run-time error on `{}`, which is fine here.
      this.compiled.set(
        expression,
        r.code === 3
          ? r.stderr
              .trim()
              .split('\n')[0]!
              .replace(/^gojq: /, '')
          : undefined,
      );
      if (this.compiled.size > 1000) this.compiled.clear();
    }
    const problem = this.compiled.get(expression);
    if (problem !== undefined) throw new JqExpressionError(`ignoreDifferences jqPathExpressions ${JSON.stringify(expression)}: ${problem}`);
  }

  /** A copy of `obj` without what the expressions select (obj itself when there are none). */
  async strip(obj: ManifestResource, expressions: readonly string[]): Promise<ManifestResource> {
    if (expressions.length === 0) return obj;
    const binary = await this.gojq();
    for (const e of expressions) await this.check(binary, e);
    const r = await runGojq(binary, jqDeletionProgram(expressions), JSON.stringify(obj));
    if (r.code !== 0) return obj;
    const lines = r.stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '');
    if (lines.length !== 1) return obj;
    let out: unknown;
    try {
      out = JSON.parse(lines[0]!);
    } catch {
      return obj;
    }
    return sameObject(obj, out) ? out : obj;
  }
}
