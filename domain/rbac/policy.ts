// Argo CD RBAC as Argo CD configures Casbin: request (sub, res, act, obj), policy
// (sub, res, act, obj, eft), one role relation `g`, effect "some allow and no deny",
// and every field of a rule matched with Argo's glob (or regex in policy.matchMode
// regex). Pure and I/O-free: callers hand in the argocd-rbac-cm data.
import YAML from 'yaml';
import { ARGOCD_NAMESPACE } from '../argo/names';

export type Effect = 'allow' | 'deny';
export type MatchMode = 'glob' | 'regex';

export interface PolicyRule {
  subject: string;
  resource: string;
  action: string;
  object: string;
  effect: Effect;
  /** Where the rule came from: `policy.csv`, `policy.<name>.csv`, `builtin`, or a caller-chosen name. */
  source: string;
  line: number;
}

export interface GroupingRule {
  /** The user, group or role that gains the role. */
  member: string;
  role: string;
  source: string;
  line: number;
}

export interface PolicyError {
  source: string;
  /** 1-based line within `source`; 0 for errors that are not about one line. */
  line: number;
  text: string;
  message: string;
}

export interface Policy {
  /** User-defined rules only; the built-in policy is always added at enforcement. */
  rules: PolicyRule[];
  grouping: GroupingRule[];
  /** `policy.default`, '' when unset. */
  defaultRole: string;
  /** OIDC claims that carry groups (`scopes` key); Argo's default is ["groups"]. */
  scopes: string[];
  matchMode: MatchMode;
  /**
   * Lines that could not be loaded. Argo CD refuses the whole policy when any line is
   * invalid; here the valid lines still load and the caller decides.
   */
  errors: PolicyError[];
}

export interface ParseOptions {
  defaultRole?: string;
  /** Raw `scopes` value from argocd-rbac-cm, a YAML list such as `[groups, email]`. */
  scopes?: string;
  /** Raw `policy.matchMode`: `regex` selects regex matching, anything else glob. */
  matchMode?: string;
  /** Name used in error messages; defaults to `policy.csv`. */
  source?: string;
}

export type Subject = string | { user: string; groups: string[] };

export const DEFAULT_SCOPES: readonly string[] = ['groups'];

// Casbin's default role manager follows at most 10 role hops.
const MAX_ROLE_HIERARCHY = 10;

// ---------------------------------------------------------------------------
// Argo's util/glob: gobwas/glob syntax, compiled once and cached. Exported because
// AppProject checks use the same matcher (with '/' as separator for sourceRepos).

type GlobTok =
  | { t: 'text'; v: string }
  | { t: 'any' | 'super' | 'single' | 'rangeOpen' | 'not' | 'between' | 'rangeClose' | 'termsOpen' | 'sep' | 'termsClose' | 'eof' }
  | { t: 'lo' | 'hi'; v: string }
  | { t: 'error'; v: string };

function lexGlob(src: string): GlobTok[] {
  const chars = Array.from(src);
  let pos = 0;
  let terms = 0;
  const out: GlobTok[] = [];
  const textBreakers = ['?', '*', '[', '{'];
  const termsBreakers = [...textBreakers, '}', ','];

  const fetchText = (breakers: string[]) => {
    let data = '';
    let escaped = false;
    while (pos < chars.length) {
      const r = chars[pos++]!;
      if (!escaped) {
        if (r === '\\') {
          escaped = true;
          continue;
        }
        if (breakers.includes(r)) {
          pos--;
          break;
        }
      }
      escaped = false;
      data += r;
    }
    if (data !== '') out.push({ t: 'text', v: data });
  };

  // A character class is a single list of characters or a single lo-hi range.
  const fetchRange = (): boolean => {
    let wantHi = false;
    let wantClose = false;
    let seenNot = false;
    for (;;) {
      if (pos >= chars.length) {
        out.push({ t: 'error', v: 'unexpected end of input' });
        return false;
      }
      const r = chars[pos++]!;
      if (wantClose) {
        if (r !== ']') {
          out.push({ t: 'error', v: 'expected close range character' });
          return false;
        }
        out.push({ t: 'rangeClose' });
        return true;
      }
      if (wantHi) {
        out.push({ t: 'hi', v: r });
        wantClose = true;
        continue;
      }
      if (!seenNot && r === '!') {
        out.push({ t: 'not' });
        seenNot = true;
        continue;
      }
      if (chars[pos] === '-') {
        pos++;
        out.push({ t: 'lo', v: r }, { t: 'between' });
        wantHi = true;
        continue;
      }
      pos--;
      fetchText([']']);
      wantClose = true;
    }
  };

  for (;;) {
    if (pos >= chars.length) {
      out.push({ t: 'eof' });
      return out;
    }
    const r = chars[pos++]!;
    if (r === '{') {
      terms++;
      out.push({ t: 'termsOpen' });
    } else if (r === ',' && terms > 0) {
      out.push({ t: 'sep' });
    } else if (r === '}' && terms > 0) {
      out.push({ t: 'termsClose' });
      terms--;
    } else if (r === '[') {
      out.push({ t: 'rangeOpen' });
      if (!fetchRange()) return out;
    } else if (r === '?') {
      out.push({ t: 'single' });
    } else if (r === '*') {
      if (chars[pos] === '*') {
        pos++;
        out.push({ t: 'super' });
      } else {
        out.push({ t: 'any' });
      }
    } else {
      pos--;
      fetchText(terms > 0 ? termsBreakers : textBreakers);
    }
  }
}

// Unicode-mode regexes only accept escapes of syntax characters ('-' only inside a class).
const escapeRegex = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const escapeClass = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** Translates a gobwas/glob pattern to an anchored RegExp, or undefined when it does not compile. */
function compileGobwas(pattern: string, separators: string): RegExp | undefined {
  const toks = lexGlob(pattern);
  const seps = Array.from(separators).map(escapeClass).join('');
  const anyRun = seps ? `[^${seps}]*` : '[\\s\\S]*';
  const one = seps ? `[^${seps}]` : '[\\s\\S]';
  // Each open `{` holds its finished alternatives plus the one being built.
  const stack: { alts: string[]; cur: string }[] = [{ alts: [], cur: '' }];
  const top = () => stack[stack.length - 1]!;
  let i = 0;
  while (i < toks.length) {
    const tok = toks[i++]!;
    switch (tok.t) {
      case 'eof':
        i = toks.length;
        break;
      case 'error':
        return undefined;
      case 'text':
        top().cur += escapeRegex(tok.v);
        break;
      case 'any':
        top().cur += anyRun;
        break;
      case 'super':
        top().cur += '[\\s\\S]*';
        break;
      case 'single':
        top().cur += one;
        break;
      case 'termsOpen':
        stack.push({ alts: [], cur: '' });
        break;
      case 'sep':
        top().alts.push(top().cur);
        top().cur = '';
        break;
      case 'termsClose': {
        const done = stack.pop()!;
        top().cur += `(?:${[...done.alts, done.cur].join('|')})`;
        break;
      }
      case 'rangeOpen': {
        let not = false;
        let lo = '';
        let hi = '';
        let list = '';
        for (;;) {
          const rt = toks[i++];
          if (!rt || rt.t === 'eof' || rt.t === 'error') return undefined;
          if (rt.t === 'not') not = true;
          else if (rt.t === 'lo') lo = rt.v;
          else if (rt.t === 'hi') {
            hi = rt.v;
            if (hi.codePointAt(0)! < lo.codePointAt(0)!) return undefined;
          } else if (rt.t === 'text') list = rt.v;
          else if (rt.t === 'rangeClose') break;
        }
        const isRange = lo !== '' && hi !== '';
        if ((list !== '') === isRange) return undefined;
        const body = isRange ? `${escapeClass(lo)}-${escapeClass(hi)}` : Array.from(list).map(escapeClass).join('');
        top().cur += `[${not ? '^' : ''}${body}]`;
        break;
      }
      default:
        return undefined;
    }
  }
  // An unclosed `{` still compiles in gobwas: its alternatives so far form the group.
  while (stack.length > 1) {
    const done = stack.pop()!;
    top().cur += `(?:${[...done.alts, done.cur].join('|')})`;
  }
  try {
    return new RegExp(`^${top().cur}$`, 'u');
  } catch {
    return undefined;
  }
}

const globCache = new Map<string, RegExp | null>();
const GLOB_CACHE_MAX = 10_000;

/**
 * Argo CD's glob.Match: gobwas/glob syntax (`*`, `**`, `?`, `[abc]`, `[!a-z]`, `{a,b}`,
 * `\` escapes). Without separators (RBAC, destinations, sync windows) `*` also matches
 * `/`; with separators `*` and `?` stop at them and only `**` crosses. A pattern that
 * does not compile matches nothing.
 */
export function argoGlobMatch(pattern: string, text: string, separators = ''): boolean {
  const key = `${separators}\u0000${pattern}`;
  let re = globCache.get(key);
  if (re === undefined) {
    if (globCache.size >= GLOB_CACHE_MAX) globCache.clear();
    re = compileGobwas(pattern, separators) ?? null;
    globCache.set(key, re);
  }
  return re !== null && re.test(text);
}

// casbin's RegexMatchFunc: unanchored search; an invalid pattern fails the match.
function regexMatch(text: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(text);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Built-in policy, expressed as data: role:readonly may get everything readable,
// role:admin may do everything else and inherits role:readonly, user admin is admin.

const PROJECT_SCOPED_OBJECT = '*/*';

function builtinRules(): { rules: PolicyRule[]; grouping: GroupingRule[] } {
  const rules: PolicyRule[] = [];
  const add = (subject: string, resource: string, actions: string[], object: string) => {
    for (const action of actions) rules.push({ subject, resource, action, object, effect: 'allow', source: 'builtin', line: 0 });
  };
  const readonly: [string, string][] = [
    ['applications', PROJECT_SCOPED_OBJECT],
    ['applicationsets', PROJECT_SCOPED_OBJECT],
    ['certificates', '*'],
    ['clusters', '*'],
    ['repositories', '*'],
    ['write-repositories', '*'],
    ['projects', '*'],
    ['accounts', '*'],
    ['gpgkeys', '*'],
    ['logs', PROJECT_SCOPED_OBJECT],
  ];
  for (const [res, obj] of readonly) add('role:readonly', res, ['get'], obj);
  add('role:admin', 'applications', ['create', 'update', 'update/*', 'delete', 'delete/*', 'sync', 'rollback', 'override', 'action/*'], PROJECT_SCOPED_OBJECT);
  add('role:admin', 'applicationsets', ['get', 'create', 'update', 'delete'], PROJECT_SCOPED_OBJECT);
  for (const res of ['certificates', 'clusters', 'repositories', 'write-repositories', 'projects']) add('role:admin', res, ['create', 'update', 'delete'], '*');
  add('role:admin', 'accounts', ['update'], '*');
  add('role:admin', 'gpgkeys', ['create', 'delete'], '*');
  add('role:admin', 'exec', ['create'], PROJECT_SCOPED_OBJECT);
  const grouping: GroupingRule[] = [
    { member: 'role:admin', role: 'role:readonly', source: 'builtin', line: 0 },
    { member: 'admin', role: 'role:admin', source: 'builtin', line: 0 },
  ];
  return { rules, grouping };
}

/** The built-in rules and role links every enforcement includes. */
const BUILTIN = builtinRules();

// ---------------------------------------------------------------------------
// Parsing

/**
 * Splits one line the way Go's encoding/csv does with TrimLeadingSpace: double-quoted
 * fields may hold commas and `""`, a bare quote in an unquoted field is an error.
 * Unquoted fields are also trimmed on the right (Argo would keep trailing blanks,
 * which only ever produce rules that silently never match).
 */
function splitCsvLine(line: string): string[] | string {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return 'extraneous or missing " in quoted-field';
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += line[i++];
      }
      if (i < line.length && line[i] !== ',') return 'extraneous or missing " in quoted-field';
      fields.push(v);
    } else {
      const end = line.indexOf(',', i);
      const raw = end === -1 ? line.slice(i) : line.slice(i, end);
      if (raw.includes('"')) return 'bare " in non-quoted field';
      fields.push(raw.trimEnd());
      i = end === -1 ? line.length : end;
    }
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function parseScopes(raw: string | undefined, errors: PolicyError[]): string[] {
  if (raw === undefined || raw.trim() === '') return [...DEFAULT_SCOPES];
  try {
    const v: unknown = YAML.parse(raw);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  } catch {
    // reported below
  }
  errors.push({ source: 'scopes', line: 0, text: raw, message: `scopes: cannot read ${JSON.stringify(raw)} as a YAML list of claim names` });
  return [...DEFAULT_SCOPES];
}

function parseLines(csv: string, source: string, policy: Policy): void {
  const lines = csv.split('\n');
  lines.forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const fail = (why: string) =>
      policy.errors.push({ source, line: lineNo, text: line, message: `${source} line ${lineNo}: invalid RBAC policy ${JSON.stringify(line)}: ${why}` });
    const tokens = splitCsvLine(line);
    if (typeof tokens === 'string') return fail(tokens);
    const [kind, ...rest] = tokens;
    if (kind === 'p') {
      if (tokens.length !== 6) return fail(`a p line has 6 fields (p, subject, resource, action, object, effect), found ${tokens.length}`);
      const [subject, resource, action, object, effect] = rest as [string, string, string, string, string];
      // Casbin loads any other effect but it never allows nor denies anything.
      if (effect !== 'allow' && effect !== 'deny') return fail(`effect must be allow or deny, not ${JSON.stringify(effect)}`);
      policy.rules.push({ subject, resource, action, object, effect, source, line: lineNo });
    } else if (kind === 'g') {
      if (tokens.length !== 3) return fail(`a g line has 3 fields (g, user-or-group, role), found ${tokens.length}`);
      policy.grouping.push({ member: rest[0]!, role: rest[1]!, source, line: lineNo });
    } else {
      fail(`lines start with p or g, not ${JSON.stringify(kind ?? '')}`);
    }
  });
}

function emptyPolicy(opts: ParseOptions): Policy {
  const errors: PolicyError[] = [];
  return {
    rules: [],
    grouping: [],
    defaultRole: opts.defaultRole?.trim() ?? '',
    scopes: parseScopes(opts.scopes, errors),
    matchMode: opts.matchMode === 'regex' ? 'regex' : 'glob',
    errors,
  };
}

/** Parses a `policy.csv` body. Malformed lines are returned in `errors`, never thrown. */
export function parsePolicy(csv: string, opts: ParseOptions = {}): Policy {
  const policy = emptyPolicy(opts);
  parseLines(csv ?? '', opts.source ?? 'policy.csv', policy);
  return policy;
}

/**
 * Builds the policy from argocd-rbac-cm `data`: `policy.csv` first, then every other
 * `policy.<name>.csv` key in name order (as Argo concatenates them), plus
 * `policy.default`, `policy.matchMode` and `scopes`.
 */
export function policyFromConfigMap(data: Record<string, string> | undefined | null): Policy {
  const d = data ?? {};
  const policy = emptyPolicy({ defaultRole: d['policy.default'], scopes: d['scopes'], matchMode: d['policy.matchMode'] });
  if (typeof d['policy.csv'] === 'string') parseLines(d['policy.csv'], 'policy.csv', policy);
  for (const key of Object.keys(d).sort()) {
    if (key !== 'policy.csv' && key.startsWith('policy.') && key.endsWith('.csv') && typeof d[key] === 'string') {
      parseLines(d[key], key, policy);
    }
  }
  return policy;
}

// ---------------------------------------------------------------------------
// Enforcement

interface Index {
  bySubject: Map<string, PolicyRule[]>;
  roles: Map<string, string[]>;
  /** Left-hand sides of g lines: the only groups Argo consults for a user's groups. */
  groupMembers: Set<string>;
}

// Rebuilt when rules or role links are appended; edit rules in place and the index goes stale.
const indexCache = new WeakMap<Policy, { rules: number; grouping: number; index: Index }>();

function indexOf(policy: Policy): Index {
  const cached = indexCache.get(policy);
  if (cached && cached.rules === policy.rules.length && cached.grouping === policy.grouping.length) return cached.index;
  const bySubject = new Map<string, PolicyRule[]>();
  for (const r of [...BUILTIN.rules, ...policy.rules]) {
    const list = bySubject.get(r.subject) ?? [];
    list.push(r);
    bySubject.set(r.subject, list);
  }
  const roles = new Map<string, string[]>();
  const groupMembers = new Set<string>();
  for (const g of [...BUILTIN.grouping, ...policy.grouping]) {
    const list = roles.get(g.member) ?? [];
    list.push(g.role);
    roles.set(g.member, list);
    groupMembers.add(g.member);
  }
  const index = { bySubject, roles, groupMembers };
  indexCache.set(policy, { rules: policy.rules.length, grouping: policy.grouping.length, index });
  return index;
}

/** The subject itself and every role it reaches through g lines (within Casbin's hop limit). */
function rolesOf(index: Index, subject: string): Set<string> {
  const seen = new Set([subject]);
  let frontier = [subject];
  for (let depth = 0; depth < MAX_ROLE_HIERARCHY && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const s of frontier) {
      for (const role of index.roles.get(s) ?? []) {
        if (!seen.has(role)) {
          seen.add(role);
          next.push(role);
        }
      }
    }
    frontier = next;
  }
  return seen;
}

// One Casbin Enforce call: allowed when some matching rule allows and none denies.
function casbinEnforce(policy: Policy, index: Index, subject: string, resource: string, action: string, object: string): boolean {
  const match = policy.matchMode === 'regex' ? regexMatch : (text: string, pattern: string) => argoGlobMatch(pattern, text);
  let allowed = false;
  for (const s of rolesOf(index, subject)) {
    for (const r of index.bySubject.get(s) ?? []) {
      if (match(resource, r.resource) && match(action, r.action) && match(object, r.object)) {
        if (r.effect === 'deny') return false;
        allowed = true;
      }
    }
  }
  return allowed;
}

/**
 * Argo CD's enforcement. The default role is tried first, on its own, so a grant from
 * `policy.default` cannot be taken away by a deny on the user. A string subject is then
 * checked alone. A `{ user, groups }` subject (an SSO login) is checked as the user and
 * then once per group, each group separately: a deny only wins within one of these
 * checks, and only groups that appear on the left of some g line are consulted.
 */
export function enforce(policy: Policy, subject: Subject, resource: string, action: string, object: string): boolean {
  const index = indexOf(policy);
  const check = (sub: string) => casbinEnforce(policy, index, sub, resource, action, object);
  if (policy.defaultRole !== '' && check(policy.defaultRole)) return true;
  if (typeof subject === 'string') return check(subject);
  if (check(subject.user)) return true;
  for (const group of subject.groups) {
    if (index.groupMembers.has(group) && check(group)) return true;
  }
  return false;
}

/**
 * The subject Argo derives from OIDC claims: `federated_claims.user_id` (Dex) or `sub`,
 * and groups from every claim named in the policy's scopes (string or string list).
 */
export function subjectFromClaims(policy: Policy, claims: Record<string, unknown>): { user: string; groups: string[] } {
  const fed = claims['federated_claims'];
  const fedUser = fed && typeof fed === 'object' ? (fed as Record<string, unknown>)['user_id'] : undefined;
  const sub = typeof claims['sub'] === 'string' ? claims['sub'] : '';
  const user = typeof fedUser === 'string' && fedUser !== '' ? fedUser : sub;
  const groups: string[] = [];
  for (const scope of policy.scopes) {
    const v = claims[scope];
    if (typeof v === 'string') groups.push(v);
    else if (Array.isArray(v)) for (const g of v) if (typeof g === 'string') groups.push(g);
  }
  return { user, groups };
}

/**
 * The RBAC object for an Application: `<project>/<name>` in the control-plane namespace,
 * `<project>/<namespace>/<name>` for apps in other namespaces.
 */
export function appRBACName(project: string, name: string, namespace?: string, controllerNamespace = ARGOCD_NAMESPACE): string {
  return !namespace || namespace === controllerNamespace ? `${project}/${name}` : `${project}/${namespace}/${name}`;
}
