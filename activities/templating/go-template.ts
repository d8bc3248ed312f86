// Go templates, rendered by the real engine: Go's text/template with Sprig and Argo CD's
// additions, in a small Go helper (stack/gotemplate) that this module keeps running and
// talks to over JSON lines. ApplicationSets (`goTemplate: true`, `templatePatch`) and
// notification templates call it; nothing here knows about either beyond the function set
// and the wording of errors.
//
//   renderGoTemplates(requests)            many templates in one round trip, one result each
//   renderGoTemplate(template, data, opts) one template; throws GoTemplateError
//   renderTemplateObject(obj, params, opts) every string (and key) of an object, as Argo
//                                           renders an ApplicationSet's template
//
// `templatePatch` is renderGoTemplate on the patch text; the caller parses the YAML and
// merges it. Notifications' repo.GetCommitMetadata / repo.GetAppDetails answer from
// `options.repo`, which the caller fills (it knows which revisions it is notifying about).
//
// The helper runs with an argument array and no shell, and with no environment but TZ
// (time functions format in local time, as Argo's do): a template cannot read the
// worker's environment. It is started on first use, restarted if it dies (the requests it
// held are sent again, once), and a request it does not answer within the timeout fails
// alone: the helper is killed and the others are sent to a new one.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export type MissingKey = 'default' | 'invalid' | 'zero' | 'error';
/** applicationset: Sprig minus env/expandenv/getHostByName, plus normalize, slugify, toYaml, fromYaml, fromYamlArray.
 *  notifications: Sprig minus env/expandenv, plus .time, .strings, .sync, .repo in the data (used with `call`). */
export type FunctionSet = 'applicationset' | 'notifications';

export interface CommitMetadata {
  Message: string;
  Author: string;
  /** RFC 3339 */
  Date: string;
  Tags?: string[];
}

/** What notification templates' repo.GetCommitMetadata(sha) and repo.GetAppDetails() return (Argo's field names). */
export interface RepoHooks {
  commits?: Record<string, CommitMetadata>;
  appDetails?: {
    Type: string;
    Helm?: {
      HelmAppSpec: {
        Name?: string;
        ValueFiles?: string[];
        Parameters?: Array<{ Name: string; Value: string; ForceString?: boolean }>;
        Values?: string;
        FileParameters?: Array<{ Name: string; Path: string }>;
      };
      HelmParameterOverrides?: Array<{ Name: string; Value: string }>;
    };
    Kustomize?: Record<string, unknown>;
    Directory?: Record<string, unknown>;
  };
}

export interface GoTemplateOptions {
  /** text/template's missingkey option; Argo's default is `default` (prints "<no value>"). */
  missingKey?: MissingKey;
  /** Defaults to applicationset. */
  functions?: FunctionSet;
  /** The template's name in error messages (Argo's notification engine uses the template's name). */
  name?: string;
  repo?: RepoHooks;
}

export interface GoTemplateRequest {
  template: string;
  data: unknown;
  options?: GoTemplateOptions;
}

export type GoTemplateResult = { output: string } | { error: string };

export class GoTemplateError extends Error {
  override name = 'GoTemplateError';
  /** Where in the object the failing string was (renderTemplateObject), e.g. ['spec', 'source', 'path']. */
  path: Array<string | number> = [];
}

/** The missing-key mode from an ApplicationSet's `goTemplateOptions` (the last missingkey option wins, as in Go). */
export function missingKeyFromGoTemplateOptions(goTemplateOptions: readonly string[] | undefined): MissingKey {
  let mode: MissingKey = 'default';
  for (const option of goTemplateOptions ?? []) {
    const m = /^missingkey=(default|invalid|zero|error)$/.exec(option);
    if (!m) throw new GoTemplateError(`goTemplateOptions: unrecognized option ${JSON.stringify(option)} (Go knows missingkey=default|invalid|zero|error)`);
    mode = m[1] as MissingKey;
  }
  return mode;
}

/** The helper's binary: SLUICE_GOTEMPLATE (the local stack and tests point it at the cached build), else the name on PATH. */
export const goTemplateBinary = (): string => process.env.SLUICE_GOTEMPLATE || 'sluice-gotemplate';

interface WireRequest {
  id: number;
  templates: string[];
  data: unknown;
  options: GoTemplateOptions;
}

interface Pending {
  line: string;
  count: number;
  attempts: number;
  resolve: (results: GoTemplateResult[]) => void;
  reject: (err: Error) => void;
}

/** One helper process and the requests in flight on it. */
export class GoTemplateEngine {
  private child?: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stdoutTail = '';
  private stderrTail = '';
  private timer?: NodeJS.Timeout;

  /**
   * @param binary the helper's path (default: goTemplateBinary() at start)
   * @param timeoutMs how long the helper may go without answering while requests wait
   * @param maxAttempts how many helpers a request may be sent to before it fails
   */
  constructor(private readonly opts: { binary?: () => string; timeoutMs?: number; maxAttempts?: number } = {}) {}

  /** Renders groups of templates, each group sharing its data and options; one result per template. */
  renderGroups(groups: Array<{ templates: string[]; data: unknown; options?: GoTemplateOptions }>): Promise<GoTemplateResult[][]> {
    return Promise.all(groups.map((g) => (g.templates.length === 0 ? Promise.resolve([]) : this.send(g.templates, g.data, g.options ?? {}))));
  }

  /** Stops the helper; requests still in flight fail. */
  close(): void {
    const child = this.child;
    this.child = undefined;
    this.failAll(new GoTemplateError('go template helper closed'));
    if (child) {
      child.stdin.end();
      child.kill('SIGKILL');
    }
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The helper's pid, if one is running (tests kill it to show the restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private send(templates: string[], data: unknown, options: GoTemplateOptions): Promise<GoTemplateResult[]> {
    const id = this.nextId++;
    const wire: WireRequest = { id, templates, data: data ?? null, options };
    let line: string;
    try {
      line = JSON.stringify(wire) + '\n';
    } catch (err) {
      return Promise.reject(new GoTemplateError(`template data cannot be sent to the go template helper: ${(err as Error).message}`));
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { line, count: templates.length, attempts: 0, resolve, reject });
      this.dispatch(id);
    });
  }

  private dispatch(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    const child = this.child ?? this.start();
    if (!child) return; // start failed and rejected everything
    p.attempts++;
    child.stdin.write(p.line);
    if (!this.timer) this.armTimer();
  }

  private start(): ChildProcessWithoutNullStreams | undefined {
    const binary = (this.opts.binary ?? goTemplateBinary)();
    const env: NodeJS.ProcessEnv = process.env.TZ ? { TZ: process.env.TZ } : {};
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(binary, [], { env, stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    } catch (err) {
      this.failAll(new GoTemplateError(`go template helper ${binary}: ${(err as Error).message}`));
      return undefined;
    }
    this.child = child;
    this.stdoutTail = '';
    this.stderrTail = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onStdout(child, chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-2000)));
    child.stdin.on('error', () => undefined); // a dead helper is handled on 'close'
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.child = undefined;
      // Not there or not runnable: no point retrying.
      const hint = err.code === 'ENOENT' ? ' (build it with the toolchain, or set SLUICE_GOTEMPLATE, or put sluice-gotemplate on PATH)' : '';
      this.failAll(new GoTemplateError(`go template helper ${binary}: ${err.message}${hint}`));
    });
    child.on('close', (code, signal) => this.onExit(child, code, signal));
    return child;
  }

  private onStdout(child: ChildProcessWithoutNullStreams, chunk: string): void {
    if (this.child !== child) return;
    this.stdoutTail += chunk;
    let nl: number;
    while ((nl = this.stdoutTail.indexOf('\n')) >= 0) {
      const line = this.stdoutTail.slice(0, nl);
      this.stdoutTail = this.stdoutTail.slice(nl + 1);
      if (line.trim() !== '') this.onResponse(line);
    }
  }

  private onResponse(line: string): void {
    let msg: { id?: number | null; results?: GoTemplateResult[]; error?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not ours; the timeout covers a request that never gets its answer
    }
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id!);
    if (msg.results && msg.results.length === p.count) p.resolve(msg.results.map((r) => ('output' in r ? { output: r.output } : { error: r.error })));
    else if (msg.error !== undefined) p.resolve(Array.from({ length: p.count }, () => ({ error: msg.error! })));
    else if (p.count === 0) p.resolve([]);
    else p.reject(new GoTemplateError(`go template helper answered ${msg.results?.length ?? 0} results for ${p.count} templates`));
    this.armTimer();
  }

  private onExit(child: ChildProcessWithoutNullStreams, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.clearTimer();
    const why = `go template helper exited (${signal ?? `code ${code}`})${this.stderrTail.trim() ? `: ${this.stderrTail.trim().slice(-500)}` : ''}`;
    this.resend(why);
  }

  /** Sends what a dead helper held to a new one, failing the requests that have used up their attempts. */
  private resend(why: string): void {
    const max = this.opts.maxAttempts ?? 2;
    for (const [id, p] of [...this.pending]) {
      if (p.attempts >= max) {
        this.pending.delete(id);
        p.reject(new GoTemplateError(`${why}; gave up after ${p.attempts} attempts`));
      }
    }
    for (const id of [...this.pending.keys()]) this.dispatch(id);
  }

  /**
   * The helper answers in order, so while requests wait the oldest is the one it is
   * working on: if nothing comes back in time, that one fails and the helper is replaced.
   * Armed when work starts and again at each answer, never by new requests (which would
   * keep postponing a hung one).
   */
  private armTimer(): void {
    this.clearTimer();
    if (this.pending.size === 0) {
      this.setRef(false);
      return;
    }
    this.setRef(true);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const [oldestId, oldest] = this.pending.entries().next().value as [number, Pending];
      this.pending.delete(oldestId);
      oldest.reject(new GoTemplateError(`go template rendering timed out after ${timeoutMs} ms`));
      const child = this.child;
      this.child = undefined;
      child?.kill('SIGKILL');
      // The others did not fail: they go to a new helper without using up an attempt.
      for (const p of this.pending.values()) p.attempts--;
      this.resend('go template helper replaced after a timeout');
    }, timeoutMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** An idle helper does not keep the process alive. */
  private setRef(busy: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout, c.stderr] as Array<{ ref?: () => void; unref?: () => void }>) (busy ? h.ref : h.unref)?.call(h);
  }

  private failAll(err: Error): void {
    this.clearTimer();
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}

let shared: GoTemplateEngine | undefined;
/** The process-wide engine the functions below use. */
export const goTemplateEngine = (): GoTemplateEngine => (shared ??= new GoTemplateEngine());

const sameOptions = (a?: GoTemplateOptions, b?: GoTemplateOptions) => a === b || JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});

/**
 * Renders many templates in one round trip to the helper; results are in request order,
 * each `{output}` or `{error}`. Neighbouring requests with the same data object and
 * options travel together, so their data is sent once.
 */
export async function renderGoTemplates(requests: readonly GoTemplateRequest[], engine = goTemplateEngine()): Promise<GoTemplateResult[]> {
  const groups: Array<{ templates: string[]; data: unknown; options?: GoTemplateOptions }> = [];
  for (const r of requests) {
    const last = groups[groups.length - 1];
    if (last && last.data === r.data && sameOptions(last.options, r.options)) last.templates.push(r.template);
    else groups.push({ templates: [r.template], data: r.data, options: r.options });
  }
  return (await engine.renderGroups(groups)).flat();
}

/** Renders one template; a parse or execution error throws GoTemplateError with Go's message. */
export async function renderGoTemplate(template: string, data: unknown, options?: GoTemplateOptions, engine = goTemplateEngine()): Promise<string> {
  const [result] = await renderGoTemplates([{ template, data, options }], engine);
  if (!result || 'error' in result) throw new GoTemplateError(result?.error ?? 'no result');
  return result.output;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/**
 * Renders every string of `obj`, and every object key, with `params`, as Argo's
 * ApplicationSet controller renders a template with goTemplate (RenderTemplateParams:
 * each string field is its own template; map keys are templated too; null map values are
 * dropped; numbers and booleans stay). With no params the object comes back as it is, as
 * in Argo. The first failing string throws GoTemplateError (Argo's message, plus `path`).
 * Strings without `{{` cannot hold an action and are kept without a round trip.
 */
export async function renderTemplateObject<T>(obj: T, params: Record<string, unknown>, options?: GoTemplateOptions, engine = goTemplateEngine()): Promise<T> {
  if (Object.keys(params).length === 0) return obj;
  const templates: string[] = [];
  const paths: Array<Array<string | number>> = [];
  const collect = (s: string, path: Array<string | number>) => {
    if (s.includes('{{')) {
      templates.push(s);
      paths.push(path);
    }
  };
  const walk = (v: Json, path: Array<string | number>): void => {
    if (typeof v === 'string') collect(v, path);
    else if (Array.isArray(v)) v.forEach((e, i) => walk(e, [...path, i]));
    else if (v !== null && typeof v === 'object')
      for (const [k, e] of Object.entries(v)) {
        if (e === null || e === undefined) continue;
        walk(e, [...path, k]);
        collect(k, [...path, k]);
      }
  };
  walk(obj as Json, []);
  const [results = []] = await engine.renderGroups([{ templates, data: params, options }]);
  results.forEach((r, i) => {
    if ('error' in r) {
      const err = new GoTemplateError(r.error);
      err.path = paths[i]!;
      throw err;
    }
  });
  // Rebuilt in the order the strings were collected, each taking its own result (a string
  // that occurs twice is rendered twice, as in Argo: `randAlpha` differs).
  let next = 0;
  const text = (s: string) => (s.includes('{{') ? (results[next++] as { output: string }).output : s);
  const build = (v: Json): Json => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(build);
    if (v !== null && typeof v === 'object') {
      const out: { [key: string]: Json } = {};
      for (const [k, e] of Object.entries(v)) {
        if (e === null || e === undefined) continue;
        const value = build(e);
        out[text(k)] = value;
      }
      return out;
    }
    return v;
  };
  return build(obj as Json) as T;
}
