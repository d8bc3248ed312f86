// AnalysisTemplate successCondition / failureCondition, with Argo Rollouts' semantics.
//
// Argo Rollouts (utils/evaluate/evaluate.go) evaluates these with expr-lang/expr v1.17.
// Here jsep parses (extended with hooks for expr's operators, `{...}` predicates, `#`,
// `.field`, Go string literals and comments) and the small tree-walker below evaluates.
// Nothing is ever run from a string (no eval, Function or vm). Pure and deterministic: no
// I/O, clocks, randomness or Node built-ins, because workflow code imports it.

import jsep from 'jsep';

// ---------------------------------------------------------------------------------------
// Public API

export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export type MeasurementOutcome = { phase: Exclude<MeasurementPhase, 'Error'> } | { phase: 'Error'; message: string };

export interface ConditionEnv {
  /** The metric value: a number for a Prometheus scalar, number[] for a vector, parsed JSON for web. */
  result: unknown;
  /** AnalysisTemplate args, reachable as `args.name`. */
  args?: Record<string, unknown>;
  /** Further top-level names, for conditions compiled with `names` (notification triggers: `app`). */
  vars?: Record<string, unknown>;
}

export interface CompiledCondition {
  readonly expression: string;
  /** True or false; throws ConditionError when the condition cannot be evaluated. */
  evaluate(env: ConditionEnv): boolean;
  /** The expression's value, of any type (notifications' `oncePer`); throws ConditionError. */
  value(env: ConditionEnv): unknown;
}

/** A condition that does not parse or cannot be evaluated; the message says which and why. */
export class ConditionError extends Error {
  constructor(
    /** The condition as written. */
    readonly expression: string,
    /** What was being done, for the message: 'successCondition', 'failureCondition', 'condition'. */
    readonly label: string,
    readonly stage: 'parse' | 'evaluate',
    /** The parser's or evaluator's own message. */
    readonly detail: string,
  ) {
    super(`${stage === 'parse' ? 'cannot parse' : 'could not evaluate'} ${label} \`${expression}\`: ${detail}`);
    this.name = 'ConditionError';
  }
}

/** Parses once; throws ConditionError on a syntax error. Name and type errors surface in evaluate(). */
export function compileCondition(expression: string, label = 'condition', names: readonly string[] = []): CompiledCondition {
  let root: Node;
  let problems: string[];
  try {
    const ctx: NormalizeCtx = { depth: 0, problems: [], names: new Set([...ENV_NAMES, ...names]) };
    root = normalize(parse(expression), ctx);
    problems = ctx.problems;
  } catch (err) {
    throw new ConditionError(expression, label, 'parse', errorText(err));
  }
  return {
    expression,
    evaluate(env: ConditionEnv): boolean {
      try {
        // expr rejects unknown names and bad calls at compile time, before running
        // anything, so even `false && nosuch` fails in Argo: report them first here too.
        if (problems.length > 0) throw new EvalFailure(problems[0]);
        typeCheck(root, knownType(env.result));
        const value = evaluate(root, { result: env.result, args: env.args, vars: env.vars, frame: undefined });
        if (typeof value !== 'boolean') throw new EvalFailure(`expected bool, but got ${typeName(value)}`);
        return value;
      } catch (err) {
        throw new ConditionError(expression, label, 'evaluate', errorText(err));
      }
    },
    value(env: ConditionEnv): unknown {
      try {
        if (problems.length > 0) throw new EvalFailure(problems[0]);
        return evaluate(root, { result: env.result, args: env.args, vars: env.vars, frame: undefined });
      } catch (err) {
        throw new ConditionError(expression, label, 'evaluate', errorText(err));
      }
    },
  };
}

/**
 * One measurement's phase, exactly as Argo's EvaluateResult: no conditions → Successful;
 * only a success condition → Failed when it is false; only a failure condition →
 * Successful when it is false; both → Failed if the failure condition holds (even when
 * the success condition holds too), else Successful if the success condition holds, else
 * Inconclusive. Any parse or evaluation error → Error, with the reason.
 */
export function evaluateMeasurement(result: unknown, successCondition?: string, failureCondition?: string, args?: Record<string, unknown>): MeasurementOutcome {
  // Argo treats an empty string as "no condition".
  const hasSuccess = typeof successCondition === 'string' && successCondition !== '';
  const hasFailure = typeof failureCondition === 'string' && failureCondition !== '';
  let success = false;
  let failure = false;
  try {
    // Same order as Argo: a broken success condition is reported before the failure one.
    if (hasSuccess) success = compileCondition(successCondition, 'successCondition').evaluate({ result, args });
    if (hasFailure) failure = compileCondition(failureCondition, 'failureCondition').evaluate({ result, args });
  } catch (err) {
    return { phase: 'Error', message: errorMessage(err, result) };
  }
  if (!hasSuccess && !hasFailure) return { phase: 'Successful' };
  if (hasSuccess && !hasFailure) failure = !success;
  if (!hasSuccess && hasFailure) success = !failure;
  if (failure) return { phase: 'Failed' };
  if (!success) return { phase: 'Inconclusive' };
  return { phase: 'Successful' };
}

function errorMessage(err: unknown, result: unknown): string {
  if (!(err instanceof ConditionError)) return errorText(err);
  // Argo's hint for the most common cause of an evaluation error: the query returned nothing.
  if (err.stage === 'evaluate' && (isNil(result) || (Array.isArray(result) && result.length === 0))) {
    return `${err.message}; the metric result is nil or empty: no data was returned by the metric provider`;
  }
  return err.message;
}

function errorText(err: unknown): string {
  if (err instanceof RangeError) return 'expression or value nested too deeply';
  return err instanceof Error ? err.message : String(err);
}

/** An evaluation error; wrapped into a ConditionError by evaluate(). */
class EvalFailure extends Error {}

// ---------------------------------------------------------------------------------------
// Parsing: jsep plus hooks for expr's grammar.
//
// jsep keeps its operators, literals and hooks in global (static) state. So that this
// module neither depends on nor disturbs anyone else's jsep configuration, expr's grammar
// is installed only for the duration of our own synchronous parse and then put back.

type Expr = jsep.Expression;
type Scope = jsep.HookScope;
type HookFn = (this: Scope, env: { node?: Expr }) => void;

/** The parts of jsep's parser class that the typings do not declare. */
interface JsepClass {
  new (expr: string): Scope;
  hooks: Record<string, HookFn[] | undefined>;
  unary_ops: Record<string, unknown>;
  binary_ops: Record<string, number>;
  max_unop_len: number;
  max_binop_len: number;
  literals: Record<string, unknown>;
  this_str: string;
  right_associative: Set<string>;
  additional_identifier_chars: Set<string>;
}

const Jsep = (jsep as unknown as { Jsep: JsepClass }).Jsep;

const HOOK_NAMES = ['before-all', 'after-all', 'gobble-expression', 'after-expression', 'gobble-token', 'after-token', 'gobble-spaces'];

function parse(expression: string): Expr {
  return withExprGrammar(() => {
    const parser: Scope = new Jsep(expression);
    const node = parser.gobbleExpression() as Expr | false | undefined;
    parser.gobbleSpaces();
    if (parser.index < expression.length) parser.throwError(`Unexpected "${parser.char}"`);
    if (!node) parser.throwError('Empty expression');
    return node;
  });
}

function withExprGrammar<T>(run: () => T): T {
  const saved = {
    unary_ops: Jsep.unary_ops,
    binary_ops: Jsep.binary_ops,
    max_unop_len: Jsep.max_unop_len,
    max_binop_len: Jsep.max_binop_len,
    literals: Jsep.literals,
    this_str: Jsep.this_str,
    right_associative: Jsep.right_associative,
    additional_identifier_chars: Jsep.additional_identifier_chars,
  };
  const hookNames = [...new Set([...HOOK_NAMES, ...Object.keys(Jsep.hooks)])];
  const savedHooks = hookNames.map((name) => [name, Object.prototype.hasOwnProperty.call(Jsep.hooks, name), Jsep.hooks[name]] as const);
  try {
    // Operators are parsed by our own hook (expr's precedences, word operators, `not in`),
    // so jsep's tables are emptied; `this` is disabled by a name no identifier can have.
    Jsep.unary_ops = {};
    Jsep.binary_ops = {};
    Jsep.max_unop_len = 0;
    Jsep.max_binop_len = 0;
    Jsep.literals = { true: true, false: false, nil: null };
    Jsep.this_str = '';
    Jsep.right_associative = new Set();
    Jsep.additional_identifier_chars = new Set(['$', '_']);
    for (const name of hookNames) delete Jsep.hooks[name];
    Jsep.hooks['gobble-expression'] = [gobbleExpressionHook];
    Jsep.hooks['gobble-token'] = [gobbleTokenHook];
    Jsep.hooks['gobble-spaces'] = [skipCommentsHook];
    return run();
  } finally {
    Object.assign(Jsep, saved);
    for (const [name, had, value] of savedHooks) {
      if (had) Jsep.hooks[name] = value;
      else delete Jsep.hooks[name];
    }
  }
}

// expr-lang/expr parser/operator/operator.go; `and`/`or`/`^` are stored as `&&`/`||`/`**`.
const PRECEDENCE: Record<string, number> = {
  '||': 10,
  '&&': 15,
  '==': 20,
  '!=': 20,
  '<': 20,
  '>': 20,
  '<=': 20,
  '>=': 20,
  in: 20,
  matches: 20,
  contains: 20,
  startsWith: 20,
  endsWith: 20,
  '+': 30,
  '-': 30,
  '*': 60,
  '/': 60,
  '%': 60,
  '**': 100,
  '??': 500,
};
const SYMBOL_OPS_2 = new Set(['||', '&&', '==', '!=', '<=', '>=', '**', '??']);
const SYMBOL_OPS_1: Record<string, string> = { '<': '<', '>': '>', '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '^': '**' };
const WORD_OPS: Record<string, string> = {
  and: '&&',
  or: '||',
  in: 'in',
  matches: 'matches',
  contains: 'contains',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
};
const NEGATABLE = new Set(['in', 'matches', 'contains', 'startsWith', 'endsWith']);
const COMPARISONS = new Set(['<', '>', '<=', '>=']);
const UNARY_PRECEDENCE = { not: 50, sign: 90 };

interface ScannedOp {
  op: string;
  text: string;
  end: number;
  negate: boolean;
}

function isIdentStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 36 || code === 95 || code >= 128;
}
function isIdentPart(code: number): boolean {
  return isIdentStart(code) || (code >= 48 && code <= 57);
}
function wordAt(s: string, i: number): string {
  let j = i;
  if (j < s.length && isIdentStart(s.charCodeAt(j))) while (j < s.length && isIdentPart(s.charCodeAt(j))) j++;
  return s.slice(i, j);
}

/** The binary operator at p.index, without consuming it (the caller may not take it). */
function scanBinaryOp(p: Scope): ScannedOp | undefined {
  const s = p.expr;
  const i = p.index;
  const two = s.slice(i, i + 2);
  if (SYMBOL_OPS_2.has(two)) return { op: two, text: two, end: i + 2, negate: false };
  const one = SYMBOL_OPS_1[s.charAt(i)];
  if (one) return { op: one, text: s.charAt(i), end: i + 1, negate: false };
  const word = wordAt(s, i);
  if (Object.prototype.hasOwnProperty.call(WORD_OPS, word)) return { op: WORD_OPS[word], text: word, end: i + word.length, negate: false };
  if (word === 'not') {
    let j = i + 3;
    while (j < s.length && ' \t\n\r'.includes(s.charAt(j))) j++;
    const next = wordAt(s, j);
    if (NEGATABLE.has(next)) return { op: next, text: `not ${next}`, end: j + next.length, negate: true };
    p.throwError('Unexpected "not": only `not in`, `not matches`, `not contains`, `not startsWith` and `not endsWith` follow a value');
  }
  return undefined;
}

function binary(operator: string, left: Expr, right: Expr): Expr {
  return { type: 'BinaryExpression', operator, left, right };
}
function unary(operator: string, argument: Expr): Expr {
  return { type: 'UnaryExpression', operator, argument, prefix: true };
}

/** expr's parseExpression: precedence climbing, comparison chains, `??` mixing rule, ternary. */
function parseExpr(p: Scope, minPrec: number): Expr | undefined {
  let left = parseOperand(p);
  if (!left) return undefined;
  let previous: string | undefined;
  for (;;) {
    p.gobbleSpaces();
    const scanned = scanBinaryOp(p);
    if (!scanned || PRECEDENCE[scanned.op] < minPrec) break;
    if (previous === '??' && scanned.op !== '??') {
      p.throwError(`Operator (${scanned.text}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.`);
    }
    p.index = scanned.end;
    const prec = PRECEDENCE[scanned.op];
    if (COMPARISONS.has(scanned.op)) {
      left = parseComparisonChain(p, left, scanned.op, prec);
    } else {
      const right = parseExpr(p, scanned.op === '**' ? prec : prec + 1); // `**` is right-associative
      if (!right) p.throwError(`Expected expression after ${scanned.text}`);
      left = binary(scanned.op, left, right);
      if (scanned.negate) left = unary('!', left);
    }
    previous = scanned.op;
  }
  return minPrec === 0 ? parseTernary(p, left) : left;
}

/** expr reads `a < b <= c` as `a < b && b <= c`. */
function parseComparisonChain(p: Scope, first: Expr, firstOp: string, prec: number): Expr {
  let left = first;
  let op = firstOp;
  let root: Expr | undefined;
  for (;;) {
    const right = parseExpr(p, prec + 1);
    if (!right) p.throwError(`Expected expression after ${op}`);
    const comparison = binary(op, left, right);
    root = root ? binary('&&', root, comparison) : comparison;
    left = right;
    p.gobbleSpaces();
    const next = scanBinaryOp(p);
    if (!next || !COMPARISONS.has(next.op)) return root;
    p.index = next.end;
    op = next.op;
  }
}

function parseOperand(p: Scope): Expr | undefined {
  p.gobbleSpaces();
  const ch = p.char;
  let op: string | undefined;
  let prec = 0;
  let length = 1;
  if (ch === '!') [op, prec] = ['!', UNARY_PRECEDENCE.not];
  else if (ch === '-' || ch === '+') [op, prec] = [ch, UNARY_PRECEDENCE.sign];
  else if (wordAt(p.expr, p.index) === 'not') [op, prec, length] = ['!', UNARY_PRECEDENCE.not, 3];
  if (op) {
    const text = p.expr.slice(p.index, p.index + length);
    p.index += length;
    // Like expr, the operand extends over tighter operators: `-2 ** 2` is -(2 ** 2).
    const argument = parseExpr(p, prec);
    if (!argument) p.throwError(`Expected expression after ${text}`);
    return unary(op, argument);
  }
  return p.gobbleToken() || undefined;
}

/** The character at p.index (a call, so TypeScript does not keep a narrowed p.char across p.index++). */
function peek(p: Scope): string {
  return p.char;
}

function parseTernary(p: Scope, test: Expr): Expr {
  p.gobbleSpaces();
  while (peek(p) === '?') {
    p.index++;
    p.gobbleSpaces();
    if (peek(p) === ':') p.throwError('The ?: operator is not supported; write `a != nil ? a : b`');
    const consequent = parseExpr(p, 0);
    if (!consequent) p.throwError('Expected expression after ?');
    p.gobbleSpaces();
    if (peek(p) !== ':') p.throwError('Expected :');
    p.index++;
    const alternate = parseExpr(p, 0);
    if (!alternate) p.throwError('Expected expression after :');
    test = { type: 'ConditionalExpression', test, consequent, alternate };
    p.gobbleSpaces();
  }
  return test;
}

const gobbleExpressionHook: HookFn = function (env) {
  env.node = parseExpr(this, 0);
};

/** Tokens jsep does not know: Go strings, `{...}` predicates, `#`, `#index`, `.field`; and groups. */
const gobbleTokenHook: HookFn = function (env) {
  const ch = this.char;
  if (ch === '(') {
    // jsep's own group parsing would accept `(a, b)` and `()`; expr accepts neither.
    this.index++;
    const inner = this.gobbleExpression() as Expr | false | undefined;
    if (!inner) this.throwError('Expected expression after (');
    this.gobbleSpaces();
    if (this.char !== ')') this.throwError('Expected )');
    this.index++;
    env.node = this.gobbleTokenProperty(inner);
  } else if (ch === '"' || ch === "'") {
    env.node = this.gobbleTokenProperty(gobbleQuotedString(this));
  } else if (ch === '`') {
    env.node = this.gobbleTokenProperty(gobbleRawString(this));
  } else if (ch === '{') {
    env.node = gobblePredicate(this);
  } else if (ch === '#') {
    this.index++;
    const name = wordAt(this.expr, this.index);
    this.index += name.length;
    env.node = this.gobbleTokenProperty({ type: 'Pointer', name });
  } else if (ch === '.' && isIdentStart(this.expr.charCodeAt(this.index + 1))) {
    // `.kind` inside a predicate is `#.kind`.
    this.index++;
    const property = this.gobbleIdentifier() as Expr;
    env.node = this.gobbleTokenProperty({ type: 'MemberExpression', computed: false, object: { type: 'Pointer', name: '' }, property });
  }
};

function gobblePredicate(p: Scope): Expr {
  p.index++;
  const body = p.gobbleExpression() as Expr | false | undefined;
  if (!body) p.throwError('Expected expression after {');
  p.gobbleSpaces();
  if (p.char === ':') p.throwError('Map literals are not supported');
  if (p.char !== '}') p.throwError('Expected }');
  p.index++;
  return { type: 'Predicate', body };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
  '?': '?',
};

/** A '...' or "..." literal with Go's escapes (expr's lexer), not JavaScript's. */
function gobbleQuotedString(p: Scope): Expr {
  const s = p.expr;
  const start = p.index;
  const quote = s.charAt(start);
  let i = start + 1;
  let out = '';
  for (;;) {
    if (i >= s.length) {
      p.index = i;
      p.throwError(`Unclosed quote after "${out}"`);
    }
    const c = s.charAt(i);
    if (c === quote) break;
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = s.charAt(i + 1);
    let hexDigits = 0;
    if (Object.prototype.hasOwnProperty.call(SIMPLE_ESCAPES, e)) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
      continue;
    } else if (e >= '0' && e <= '3' && /^[0-7]{2}$/.test(s.slice(i + 2, i + 4))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 4), 8));
      i += 4;
      continue;
    } else if (e === 'u' && s.charAt(i + 2) === '{') {
      const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(s.slice(i + 2));
      if (m) {
        out += codePoint(p, i, parseInt(m[1], 16));
        i += 2 + m[0].length;
        continue;
      }
    } else if (e === 'x' || e === 'X') hexDigits = 2;
    else if (e === 'u') hexDigits = 4;
    else if (e === 'U') hexDigits = 8;
    const hex = s.slice(i + 2, i + 2 + hexDigits);
    if (hexDigits === 0 || hex.length !== hexDigits || !/^[0-9a-fA-F]+$/.test(hex)) {
      p.index = i;
      p.throwError(`Invalid escape sequence \\${e} in string`);
    }
    out += codePoint(p, i, parseInt(hex, 16));
    i += 2 + hexDigits;
  }
  p.index = i + 1;
  // Go normalises line endings inside literals.
  return { type: 'Literal', value: out.replace(/\r\n?/g, '\n'), raw: s.slice(start, p.index) };
}

function codePoint(p: Scope, at: number, value: number): string {
  if (value > 0x10ffff) {
    p.index = at;
    p.throwError('Invalid escape sequence in string: code point out of range');
  }
  // Go encodes surrogate halves as U+FFFD.
  return String.fromCodePoint(value >= 0xd800 && value <= 0xdfff ? 0xfffd : value);
}

function gobbleRawString(p: Scope): Expr {
  const start = p.index;
  const end = p.expr.indexOf('`', start + 1);
  if (end < 0) p.throwError('Unclosed `');
  p.index = end + 1;
  return { type: 'Literal', value: p.expr.slice(start + 1, end).replace(/\r\n?/g, '\n'), raw: p.expr.slice(start, end + 1) };
}

/** expr allows // line and /* block *\/ comments wherever whitespace may go. */
const skipCommentsHook: HookFn = function () {
  const s = this.expr;
  for (;;) {
    if (s.startsWith('//', this.index)) {
      const newline = s.indexOf('\n', this.index);
      this.index = newline < 0 ? s.length : newline + 1;
    } else if (s.startsWith('/*', this.index)) {
      const close = s.indexOf('*/', this.index + 2);
      if (close < 0) this.throwError('Unclosed comment');
      this.index = close + 2;
    } else {
      return;
    }
    while (this.index < s.length && ' \t\n\r'.includes(s.charAt(this.index))) this.index++;
  }
};

// ---------------------------------------------------------------------------------------
// Our tree: jsep's, checked and reduced to what the evaluator supports.

type Node =
  | { kind: 'literal'; value: null | boolean | number | string }
  | { kind: 'name'; name: string }
  | { kind: 'pointer'; name: '' | 'index' }
  | { kind: 'member'; object: Node; property: Node | string; optional: boolean }
  | { kind: 'array'; elements: Node[] }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'unary'; op: string; arg: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node; regex?: RegExp }
  | { kind: 'cond'; test: Node; then: Node; otherwise: Node };

interface NormalizeCtx {
  /** How many predicates enclose this node; `#` and `.field` need at least one. */
  depth: number;
  /** Name and call errors, which expr reports before running and we report from evaluate(). */
  problems: string[];
  /** The top-level names this condition may use. */
  names: ReadonlySet<string>;
}

const ENV_NAMES = new Set(['result', 'args']);

function normalize(e: Expr, ctx: NormalizeCtx): Node {
  switch (e.type) {
    case 'Literal': {
      const value = e.value;
      if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') {
        return { kind: 'literal', value };
      }
      throw new Error(`Unsupported literal ${String(e.raw)}`);
    }
    case 'Identifier': {
      const name = e.name as string;
      if (!ctx.names.has(name)) {
        ctx.problems.push(Object.prototype.hasOwnProperty.call(BUILTINS, name) ? `${name} is a function: call it as ${name}(...)` : `unknown name ${name}`);
      }
      return { kind: 'name', name };
    }
    case 'Pointer': {
      const name = e.name as string;
      if (ctx.depth === 0) throw new Error("`#` and `.field` can only be used inside a predicate, e.g. all(result, {# > 0}) or any(result, {.status == 'ok'})");
      if (name !== '' && name !== 'index') throw new Error(`Unknown pointer #${name}: only # and #index are supported`);
      return { kind: 'pointer', name };
    }
    case 'MemberExpression': {
      const object = normalize(e.object as Expr, ctx);
      const prop = e.property as Expr;
      const property = e.computed ? normalize(prop, ctx) : (prop.name as string);
      return { kind: 'member', object, property, optional: e.optional === true };
    }
    case 'ArrayExpression': {
      const elements = (e.elements as Array<Expr | null>).map((el) => {
        if (!el) throw new Error('Unexpected "," in array');
        return normalize(el, ctx);
      });
      return { kind: 'array', elements };
    }
    case 'CallExpression':
      return normalizeCall(e, ctx);
    case 'UnaryExpression':
      return { kind: 'unary', op: e.operator as string, arg: normalize(e.argument as Expr, ctx) };
    case 'BinaryExpression': {
      const node: Node = { kind: 'binary', op: e.operator as string, left: normalize(e.left as Expr, ctx), right: normalize(e.right as Expr, ctx) };
      // A constant pattern is compiled once, and a bad one is a syntax error, as in expr.
      if (node.op === 'matches' && node.right.kind === 'literal' && typeof node.right.value === 'string') {
        node.regex = compileRegex(node.right.value);
      }
      return node;
    }
    case 'ConditionalExpression':
      return { kind: 'cond', test: normalize(e.test as Expr, ctx), then: normalize(e.consequent as Expr, ctx), otherwise: normalize(e.alternate as Expr, ctx) };
    case 'Predicate':
      throw new Error(
        'A {...} predicate is only allowed as the second argument of all, any, none, one, filter, map, count, sum, find, findIndex, findLast or findLastIndex',
      );
    case 'SequenceExpression':
    case 'Compound':
      throw new Error('Expected a single expression (sequences with , or ; are not supported)');
    default:
      throw new Error(`Unsupported syntax (${e.type})`);
  }
}

function normalizeCall(e: Expr, ctx: NormalizeCtx): Node {
  const callee = e.callee as Expr;
  const rawArgs = e.arguments as Expr[];
  const name = callee.type === 'Identifier' ? (callee.name as string) : undefined;
  const builtin = name !== undefined && Object.prototype.hasOwnProperty.call(BUILTINS, name) ? BUILTINS[name] : undefined;
  const args = rawArgs.map((arg, i) => {
    if (builtin?.predicate && i === 1) {
      // The predicate may be written with or without braces: all(xs, {# > 0}) or all(xs, # > 0).
      const inner = { ...ctx, depth: ctx.depth + 1 };
      const node = normalize(arg.type === 'Predicate' ? (arg.body as Expr) : arg, inner);
      return node;
    }
    return normalize(arg, ctx);
  });
  if (name === undefined || !builtin) {
    const what = name ?? 'this value';
    ctx.problems.push(name !== undefined && !ctx.names.has(name) ? `unknown func ${name}` : `${what} is not a function`);
    return { kind: 'literal', value: null }; // never evaluated: the problem is thrown first
  }
  if (args.length < builtin.min || args.length > builtin.max) {
    const expected = builtin.min === builtin.max ? `${builtin.min}` : builtin.max === Infinity ? `at least ${builtin.min}` : `${builtin.min} or ${builtin.max}`;
    ctx.problems.push(`invalid number of arguments for ${name} (expected ${expected}, got ${args.length})`);
  }
  return { kind: 'call', name, args };
}

function compileRegex(pattern: string): RegExp {
  // RE2 (Go) and JavaScript regexps agree on the common syntax; RE2's leading flag
  // group, e.g. (?i), becomes a JavaScript flag.
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  try {
    return m ? new RegExp(pattern.slice(m[0].length), [...new Set(m[1])].join('')) : new RegExp(pattern);
  } catch (err) {
    throw new EvalFailure(`invalid regular expression ${JSON.stringify(pattern)}: ${errorText(err)}`);
  }
}

// ---------------------------------------------------------------------------------------
// Type check
//
// Argo compiles each condition against the actual result (expr.Env(env)), so expr's
// checker knows the type of `result`, of literals and of most operators' values, and
// rejects a mismatch before running anything: `result == "200"` is an Error, not false,
// when the result is the number 200, and `false && result < "x"` is an Error too.
// Values it cannot know (map fields, array elements, `#`) are checked while running.

type KnownType = 'number' | 'string' | 'bool' | 'array' | 'map' | 'nil' | undefined;

const RETURN_TYPES: Record<string, KnownType> = {
  all: 'bool',
  none: 'bool',
  any: 'bool',
  one: 'bool',
  isNaN: 'bool',
  isInf: 'bool',
  isNil: 'bool',
  len: 'number',
  count: 'number',
  findIndex: 'number',
  findLastIndex: 'number',
  asInt: 'number',
  asFloat: 'number',
  int: 'number',
  float: 'number',
  filter: 'array',
  map: 'array',
  lower: 'string',
  upper: 'string',
  trim: 'string',
};

/** The type expr's checker gives `result`; Argo's nil result has no type. */
function knownType(v: unknown): KnownType {
  if (isNil(v)) return undefined;
  const t = typeName(v);
  return t === 'number' || t === 'string' || t === 'bool' || t === 'array' || t === 'map' ? t : undefined;
}

/** Each known side must be one of `allowed`, and two known sides must agree (expr's MaybeCompatible). */
function expectTypes(op: string, l: KnownType, r: KnownType, allowed: KnownType[]): void {
  if ((l && !allowed.includes(l)) || (r && !allowed.includes(r)) || (l && r && l !== r)) {
    throw new EvalFailure(`invalid operation: ${op} (mismatched types ${l ?? 'unknown'} and ${r ?? 'unknown'})`);
  }
}

function typeCheck(n: Node, result: KnownType): KnownType {
  switch (n.kind) {
    case 'literal':
      return n.value === null ? 'nil' : typeof n.value === 'boolean' ? 'bool' : typeof n.value === 'number' ? 'number' : 'string';
    case 'name':
      return n.name === 'result' ? result : undefined;
    case 'pointer':
      return undefined;
    case 'member':
      typeCheck(n.object, result);
      if (typeof n.property !== 'string') typeCheck(n.property, result);
      return undefined;
    case 'array':
      for (const el of n.elements) typeCheck(el, result);
      return 'array';
    case 'call': {
      const [first] = n.args.map((a) => typeCheck(a, result));
      if ((n.name === 'isNaN' || n.name === 'isInf') && first && first !== 'number') {
        throw new EvalFailure(`cannot use ${first} as argument (type float64) to call ${n.name}`);
      }
      return RETURN_TYPES[n.name];
    }
    case 'unary': {
      const t = typeCheck(n.arg, result);
      const want: KnownType = n.op === '!' ? 'bool' : 'number';
      if (t && t !== want) throw new EvalFailure(`invalid operation: ${n.op === '!' ? 'not' : n.op} (mismatched type ${t})`);
      return want === 'bool' || t ? want : undefined;
    }
    case 'cond': {
      const test = typeCheck(n.test, result);
      if (test && test !== 'bool') throw new EvalFailure(`non-bool expression (type ${test}) used as condition`);
      const a = typeCheck(n.then, result);
      const b = typeCheck(n.otherwise, result);
      return a === b ? a : undefined;
    }
    case 'binary': {
      const l = typeCheck(n.left, result);
      const r = typeCheck(n.right, result);
      switch (n.op) {
        case '==':
        case '!=':
          // Comparable: nil with anything, numbers with numbers, arrays with arrays, else the same type.
          if (l && r && l !== 'nil' && r !== 'nil' && l !== r) expectTypes(n.op, l, r, []);
          return 'bool';
        case '<':
        case '>':
        case '<=':
        case '>=':
          expectTypes(n.op, l, r, ['number', 'string']);
          return 'bool';
        case '&&':
        case '||':
          expectTypes(n.op, l, r, ['bool']);
          return 'bool';
        case '+':
          expectTypes(n.op, l, r, ['number', 'string']);
          return l && l === r ? l : undefined;
        case '-':
        case '*':
        case '/':
        case '%':
        case '**':
          expectTypes(n.op, l, r, ['number']);
          return l && r ? 'number' : undefined;
        case 'matches':
        case 'contains':
        case 'startsWith':
        case 'endsWith':
          expectTypes(n.op, l, r, ['string']);
          return 'bool';
        case 'in':
          if (r === 'number' || r === 'bool') throw new EvalFailure(`operator "in" not defined on ${r}`);
          return 'bool';
        default:
          return undefined;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Evaluation

interface Frame {
  value: unknown;
  index: number;
}
interface Ctx {
  result: unknown;
  args: Record<string, unknown> | undefined;
  vars: Record<string, unknown> | undefined;
  frame: Frame | undefined;
}

/** Returned by an optional member whose object is nil: ends the whole chain with nil, as `?.` does in expr. */
const CHAIN_NIL = Symbol('nil chain');

function evaluate(n: Node, c: Ctx): unknown {
  switch (n.kind) {
    case 'literal':
      return n.value;
    case 'name':
      if (n.name === 'result') return c.result;
      if (n.name !== 'args') return c.vars && Object.prototype.hasOwnProperty.call(c.vars, n.name) ? c.vars[n.name] : null;
      if (c.args === undefined) throw new EvalFailure('unknown name args (no args were given)');
      return c.args;
    case 'pointer':
      // Always inside a predicate: normalize() rejects `#` elsewhere.
      return n.name === 'index' ? c.frame!.index : c.frame!.value;
    case 'member': {
      const value = evaluateMember(n, c);
      return value === CHAIN_NIL ? null : value;
    }
    case 'array':
      return n.elements.map((el) => evaluate(el, c));
    case 'call':
      return callBuiltin(n.name, n.args, c);
    case 'unary':
      return evaluateUnary(n.op, evaluate(n.arg, c));
    case 'binary':
      return evaluateBinary(n, c);
    case 'cond': {
      const test = evaluate(n.test, c);
      if (typeof test !== 'boolean') throw new EvalFailure(`non-bool ${typeName(test)} used as condition of ?:`);
      return evaluate(test ? n.then : n.otherwise, c);
    }
  }
}

function evaluateMember(n: Extract<Node, { kind: 'member' }>, c: Ctx): unknown {
  const object = n.object.kind === 'member' ? evaluateMember(n.object, c) : evaluate(n.object, c);
  if (object === CHAIN_NIL || (n.optional && isNil(object))) return CHAIN_NIL;
  const key = typeof n.property === 'string' ? n.property : evaluate(n.property, c);
  return fetch(object, key);
}

function fetch(from: unknown, key: unknown): unknown {
  if (Array.isArray(from)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new EvalFailure(`cannot index an array with ${describe(key)}`);
    // expr counts negative indexes from the end.
    const index = key < 0 ? from.length + key : key;
    if (index < 0 || index >= from.length) throw new EvalFailure(`index out of range: ${key} (array length is ${from.length})`);
    return from[index];
  }
  if (isMap(from)) {
    if (typeof key !== 'string') throw new EvalFailure(`cannot use ${describe(key)} as a key of a map`);
    // A missing key is nil, as for a Go map; only own properties, never the prototype's.
    return Object.prototype.hasOwnProperty.call(from, key) ? from[key] : null;
  }
  throw new EvalFailure(`cannot fetch ${describe(key)} from ${typeName(from)}`);
}

function evaluateUnary(op: string, value: unknown): unknown {
  if (op === '!') {
    if (typeof value !== 'boolean') throw new EvalFailure(`invalid operation: not ${typeName(value)}`);
    return !value;
  }
  if (typeof value !== 'number') throw new EvalFailure(`invalid operation: ${op} ${typeName(value)}`);
  return op === '-' ? -value : value;
}

function evaluateBinary(n: Extract<Node, { kind: 'binary' }>, c: Ctx): unknown {
  const { op } = n;
  const left = evaluate(n.left, c);
  // Short-circuiting operators evaluate their right side only when needed.
  if (op === '&&' || op === '||') {
    if (typeof left !== 'boolean') throw new EvalFailure(`invalid operation: ${typeName(left)} ${op} ...: operands must be bool`);
    if (op === '&&' ? !left : left) return left;
    const right = evaluate(n.right, c);
    if (typeof right !== 'boolean') throw new EvalFailure(`invalid operation: bool ${op} ${typeName(right)}: operands must be bool`);
    return right;
  }
  if (op === '??') return isNil(left) ? evaluate(n.right, c) : left;
  const right = evaluate(n.right, c);
  switch (op) {
    case '==':
      return equal(left, right);
    case '!=':
      return !equal(left, right);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compare(op, left, right);
    case '+':
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      return arithmetic(op, left, right, (a, b) => a + b);
    case '-':
      return arithmetic(op, left, right, (a, b) => a - b);
    case '*':
      return arithmetic(op, left, right, (a, b) => a * b);
    case '/':
      return arithmetic(op, left, right, (a, b) => a / b); // always a float in expr, so x/0 is ±Inf or NaN
    case '%':
      return arithmetic(op, left, right, (a, b) => {
        // expr's % is defined on integers only.
        if (!Number.isInteger(a) || !Number.isInteger(b)) throw new EvalFailure(`invalid operation: % needs integers, got ${a} % ${b}`);
        if (b === 0) throw new EvalFailure('integer divide by zero');
        return a % b;
      });
    case '**':
      return arithmetic(op, left, right, goPow);
    case 'in':
      return contains(right, left);
    case 'matches':
      return stringOp(op, left, right, (s, pattern) => (n.regex ?? compileRegex(pattern)).test(s));
    case 'contains':
      return stringOp(op, left, right, (a, b) => a.includes(b));
    case 'startsWith':
      return stringOp(op, left, right, (a, b) => a.startsWith(b));
    case 'endsWith':
      return stringOp(op, left, right, (a, b) => a.endsWith(b));
    default:
      throw new EvalFailure(`unsupported operator ${op}`);
  }
}

function arithmetic(op: string, a: unknown, b: unknown, f: (a: number, b: number) => number): number {
  if (typeof a !== 'number' || typeof b !== 'number') throw mismatch(op, a, b);
  return f(a, b);
}

function stringOp(op: string, a: unknown, b: unknown, f: (a: string, b: string) => boolean): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') throw mismatch(op, a, b);
  return f(a, b);
}

function mismatch(op: string, a: unknown, b: unknown): EvalFailure {
  return new EvalFailure(`invalid operation: ${op} (mismatched types ${typeName(a)} and ${typeName(b)})`);
}

/** Go's math.Pow, which differs from JavaScript's for a base of ±1. */
function goPow(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  // Numbers with numbers (NaN compares false, as in Go), strings with strings; nothing else.
  if (typeof a === 'number' && typeof b === 'number') return ordered(op, a, b);
  if (typeof a === 'string' && typeof b === 'string') return ordered(op, a, b);
  throw mismatch(op, a, b);
}

function ordered<T extends number | string>(op: string, x: T, y: T): boolean {
  switch (op) {
    case '<':
      return x < y;
    case '>':
      return x > y;
    case '<=':
      return x <= y;
    default:
      return x >= y;
  }
}

/** expr's runtime.Equal: numbers by value, arrays element-wise, maps deeply, different types unequal. */
function equal(a: unknown, b: unknown): boolean {
  if (isNil(a) || isNil(b)) return isNil(a) && isNil(b);
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]));
  }
  return a === b;
}

/** expr's `in`: an element of an array, or a key of a map; `x in nil` is false. */
function contains(haystack: unknown, needle: unknown): boolean {
  if (isNil(haystack)) return false;
  if (Array.isArray(haystack)) return haystack.some((el) => equal(el, needle));
  if (isMap(haystack)) {
    if (typeof needle !== 'string') throw new EvalFailure(`cannot use ${describe(needle)} as a key of a map`);
    return Object.prototype.hasOwnProperty.call(haystack, needle);
  }
  throw new EvalFailure(`operator "in" not defined on ${typeName(haystack)}`);
}

// ---------------------------------------------------------------------------------------
// Functions: expr builtins, and the ones Argo adds (isNaN, isInf, isNil, default, asInt, asFloat).

interface Builtin {
  min: number;
  max: number;
  /** Takes a predicate as its second argument, evaluated once per element. */
  predicate?: boolean;
}

const PREDICATE_BUILTINS = ['all', 'none', 'any', 'one', 'filter', 'map', 'find', 'findIndex', 'findLast', 'findLastIndex'];

const BUILTINS: Record<string, Builtin> = {
  ...Object.fromEntries(PREDICATE_BUILTINS.map((name) => [name, { min: 2, max: 2, predicate: true }])),
  count: { min: 1, max: 2, predicate: true },
  sum: { min: 1, max: 2, predicate: true },
  len: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  ceil: { min: 1, max: 1 },
  floor: { min: 1, max: 1 },
  round: { min: 1, max: 1 },
  int: { min: 1, max: 1 },
  float: { min: 1, max: 1 },
  max: { min: 1, max: Infinity },
  min: { min: 1, max: Infinity },
  mean: { min: 1, max: Infinity },
  median: { min: 1, max: Infinity },
  first: { min: 1, max: 1 },
  last: { min: 1, max: 1 },
  lower: { min: 1, max: 1 },
  upper: { min: 1, max: 1 },
  trim: { min: 1, max: 2 },
  isNaN: { min: 1, max: 1 },
  isInf: { min: 1, max: 1 },
  isNil: { min: 1, max: 1 },
  default: { min: 2, max: 2 },
  asInt: { min: 1, max: 1 },
  asFloat: { min: 1, max: 1 },
};

function callBuiltin(name: string, argNodes: Node[], c: Ctx): unknown {
  if (BUILTINS[name].predicate) return callPredicateBuiltin(name, argNodes, c);
  const args = argNodes.map((a) => evaluate(a, c));
  const [x] = args;
  switch (name) {
    case 'len':
      if (typeof x === 'string') return [...x].length; // runes, as utf8.RuneCountInString
      if (Array.isArray(x)) return x.length;
      if (isMap(x)) return Object.keys(x).length;
      throw new EvalFailure(`invalid argument for len (type ${typeName(x)})`);
    case 'abs':
      return Math.abs(numberArg(name, x));
    case 'ceil':
      return Math.ceil(numberArg(name, x));
    case 'floor':
      return Math.floor(numberArg(name, x));
    case 'round': {
      const v = numberArg(name, x);
      return v < 0 ? -Math.round(-v) : Math.round(v); // Go rounds halves away from zero
    }
    case 'int':
      if (typeof x === 'string') {
        if (!/^[+-]?\d+$/.test(x)) throw new EvalFailure(`invalid operation: int(${JSON.stringify(x)})`);
        return Number(x);
      }
      return truncate(name, x);
    case 'float':
      if (typeof x === 'string') return parseGoFloat(name, x);
      return numberArg(name, x);
    case 'max':
    case 'min': {
      // expr's minMax: the first value, replaced by any later value that compares greater (less).
      let best: number | null = null;
      for (const v of flattenNumbers(name, args)) if (best === null || (name === 'max' ? best < v : best > v)) best = v;
      return best;
    }
    case 'mean': {
      const values = flattenNumbers(name, args);
      return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
    }
    case 'median': {
      // sort.Float64s order: NaN first.
      const values = flattenNumbers(name, args).sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
      const n = values.length;
      if (n === 0) return 0;
      return n % 2 === 1 ? values[(n - 1) / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
    case 'first':
      return Array.isArray(x) && x.length > 0 ? x[0] : null;
    case 'last':
      return Array.isArray(x) && x.length > 0 ? x[x.length - 1] : null;
    case 'lower':
      return stringArg(name, x).toLowerCase();
    case 'upper':
      return stringArg(name, x).toUpperCase();
    case 'trim': {
      const s = stringArg(name, x);
      if (args.length === 1) return s.trim();
      const cut = new Set(stringArg(name, args[1]));
      const chars = [...s];
      let start = 0;
      let end = chars.length;
      while (start < end && cut.has(chars[start])) start++;
      while (end > start && cut.has(chars[end - 1])) end--;
      return chars.slice(start, end).join('');
    }
    case 'isNaN':
      return Number.isNaN(numberArg(name, x));
    case 'isInf': {
      const v = numberArg(name, x);
      return v === Infinity || v === -Infinity;
    }
    // Argo's isNil and default look at `result` itself, whatever argument is passed.
    case 'isNil':
      return isNil(c.result);
    case 'default':
      return isNil(c.result) ? args[1] : c.result;
    case 'asInt':
      if (typeof x === 'string') {
        // strconv.ParseInt(s, 10, 64)
        if (!/^[+-]?\d+$/.test(x)) throw new EvalFailure(`asInt: cannot parse ${JSON.stringify(x)} as an integer`);
        const exact = BigInt(x);
        if (exact > 9223372036854775807n || exact < -9223372036854775808n) throw new EvalFailure(`asInt: ${JSON.stringify(x)} is out of range`);
        return Number(x);
      }
      if (typeof x !== 'number') throw new EvalFailure(`asInt() not supported on ${typeName(x)} ${describe(x)}`);
      return truncate(name, x);
    case 'asFloat':
      if (typeof x === 'string') return parseGoFloat(name, x);
      if (typeof x !== 'number') throw new EvalFailure(`asFloat() not supported on ${typeName(x)} ${describe(x)}`);
      return x;
    default:
      throw new EvalFailure(`unknown func ${name}`);
  }
}

function callPredicateBuiltin(name: string, argNodes: Node[], c: Ctx): unknown {
  const collection = evaluate(argNodes[0], c);
  if (!Array.isArray(collection)) throw new EvalFailure(`${name}() needs an array, got ${typeName(collection)}`);
  const predicate = argNodes[1] as Node | undefined;
  // Without a predicate (count, sum) the element itself is used.
  const apply = (el: unknown, index: number): unknown => (predicate ? evaluate(predicate, { ...c, frame: { value: el, index } }) : el);
  const test = (el: unknown, index: number): boolean => {
    const v = apply(el, index);
    if (typeof v !== 'boolean') throw new EvalFailure(`predicate of ${name}() must return bool, got ${typeName(v)}`);
    return v;
  };
  switch (name) {
    case 'all':
      return collection.every(test);
    case 'none':
      return !collection.some(test);
    case 'any':
      return collection.some(test);
    case 'one':
      return collection.filter(test).length === 1;
    case 'filter':
      return collection.filter(test);
    case 'map':
      return collection.map(apply);
    case 'count':
      return collection.filter(test).length;
    case 'sum':
      return collection.reduce((total: number, el, i) => {
        const v = apply(el, i);
        if (typeof v !== 'number') throw new EvalFailure(`invalid operation: + (mismatched types number and ${typeName(v)}) in sum()`);
        return total + v;
      }, 0);
    case 'find': {
      const i = collection.findIndex(test);
      return i < 0 ? null : collection[i];
    }
    case 'findIndex':
      return collection.findIndex(test);
    case 'findLast':
    case 'findLastIndex': {
      let i = collection.length - 1;
      while (i >= 0 && !test(collection[i], i)) i--;
      if (name === 'findLastIndex') return i;
      return i < 0 ? null : collection[i];
    }
    default:
      throw new EvalFailure(`unknown func ${name}`);
  }
}

function numberArg(name: string, x: unknown): number {
  if (typeof x !== 'number') throw new EvalFailure(`invalid argument for ${name} (type ${typeName(x)})`);
  return x;
}

function stringArg(name: string, x: unknown): string {
  if (typeof x !== 'string') throw new EvalFailure(`invalid argument for ${name} (type ${typeName(x)})`);
  return x;
}

/** A float to an integer as Go's int64(f) does, refusing NaN and ±Inf (undefined in Go). */
function truncate(name: string, x: unknown): number {
  const v = numberArg(name, x);
  if (!Number.isFinite(v)) throw new EvalFailure(`${name}: cannot convert ${v} to an integer`);
  return Math.trunc(v);
}

/** strconv.ParseFloat(s, 64) for decimal notation, Inf, Infinity and NaN (not hex floats). */
function parseGoFloat(name: string, s: string): number {
  if (/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v)) throw new EvalFailure(`${name}: ${JSON.stringify(s)} is out of range`);
    return v;
  }
  const lower = s.toLowerCase();
  if (/^[+-]?inf(?:inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (lower === 'nan') return NaN;
  throw new EvalFailure(`${name}: cannot parse ${JSON.stringify(s)} as a number`);
}

/** Numbers from the arguments, arrays flattened, as expr's max/min/mean/median. */
function flattenNumbers(name: string, values: unknown[], out: number[] = []): number[] {
  for (const v of values) {
    if (typeof v === 'number') out.push(v);
    else if (Array.isArray(v)) flattenNumbers(name, v, out);
    else throw new EvalFailure(`invalid argument for ${name} (type ${typeName(v)})`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Values

function isNil(v: unknown): v is null | undefined {
  return v === null || v === undefined;
}

function isMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Type names for messages: what a user can match against their metric's output. */
function typeName(v: unknown): string {
  if (isNil(v)) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (isMap(v)) return 'map';
  return typeof v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || isNil(v)) return String(v ?? 'nil');
  return typeName(v);
}
