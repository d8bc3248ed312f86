// AppProject enforcement with Argo CD's semantics: allowed sources, destinations and
// resource kinds, sync windows and the orphaned-resources warning. Pure and I/O-free:
// callers pass the project, the app and (for windows) the current time.
import { CronExpressionParser } from 'cron-parser';
import { argoGlobMatch } from '../rbac/policy';
import type { ApplicationDestination, ApplicationSource, ApplicationSpec } from '../applications/types';
import { ARGOCD_NAMESPACE } from '../argo/names';
import { parseGoDuration } from '../argo/duration';

export interface GroupKindRule {
  group?: string;
  kind?: string;
  /** Cluster-scoped lists and orphaned-resource ignores also accept a name glob. */
  name?: string;
}

export interface SyncWindow {
  kind?: string;
  schedule?: string;
  duration?: string;
  applications?: string[];
  namespaces?: string[];
  clusters?: string[];
  manualSync?: boolean;
  timeZone?: string;
  andOperator?: boolean;
  description?: string;
  syncOverrun?: boolean;
}

export interface AppProjectSpec {
  sourceRepos?: string[];
  destinations?: ApplicationDestination[];
  clusterResourceWhitelist?: GroupKindRule[];
  clusterResourceBlacklist?: GroupKindRule[];
  /** Absent means every namespaced kind; an explicit empty list means none (as in Argo). */
  namespaceResourceWhitelist?: GroupKindRule[] | null;
  namespaceResourceBlacklist?: GroupKindRule[];
  syncWindows?: SyncWindow[];
  orphanedResources?: { warn?: boolean; ignore?: GroupKindRule[] } | null;
  sourceNamespaces?: string[];
  permitOnlyProjectScopedClusters?: boolean;
}

export interface AppProject {
  metadata?: { name?: string; namespace?: string };
  spec?: AppProjectSpec;
}

export interface Cluster {
  name: string;
  server: string;
}

export type CheckResult = { ok: true } | { ok: false; message: string };
export type AppCheckResult = { ok: true } | { ok: false; message: string; messages: string[] };

export interface DestinationOptions {
  /**
   * Clusters Argo CD knows, for resolving `destination.name` and for matching a
   * destination by either name or server. Defaults to the in-cluster cluster only.
   */
  clusters?: Cluster[];
  /** Clusters scoped to this project, consulted when spec.permitOnlyProjectScopedClusters is set. */
  projectClusters?: Cluster[];
}

export interface ApplicationCheckOptions extends DestinationOptions {
  /** The Application's own metadata, to apply spec.sourceNamespaces. */
  application?: { name: string; namespace?: string };
  /** The control-plane namespace, where every Application may live. Default `argocd`. */
  controllerNamespace?: string;
}

export const IN_CLUSTER: Cluster = { name: 'in-cluster', server: 'https://kubernetes.default.svc' };

const OK: { ok: true } = { ok: true };
const projectName = (p: AppProject) => p.metadata?.name ?? '';

// ---------------------------------------------------------------------------
// Matching helpers

const isDenyPattern = (p: string) => p.startsWith('!');

// Argo's project globMatch: optional `!` negation, and a bare `*` matches even ''.
function projGlob(pattern: string, value: string, allowNegation: boolean, separators = ''): boolean {
  if (allowNegation && isDenyPattern(pattern)) return !argoGlobMatch(pattern.slice(1), value, separators);
  if (pattern === '*') return true;
  return argoGlobMatch(pattern, value, separators);
}

const pathMatchCache = new Map<string, RegExp | null>();

/**
 * Go's path/filepath.Match (used for group/kind/name lists): `*` and `?` stop at '/',
 * classes are `[...]`/`[^...]` with ranges, `\` escapes; a malformed pattern matches nothing.
 */
export function goPathMatch(pattern: string, name: string): boolean {
  let re = pathMatchCache.get(pattern);
  if (re === undefined) {
    re = compileGoPath(pattern) ?? null;
    if (pathMatchCache.size > 10_000) pathMatchCache.clear();
    pathMatchCache.set(pattern, re);
  }
  return re !== null && re.test(name);
}

function compileGoPath(pattern: string): RegExp | undefined {
  const cs = Array.from(pattern);
  // Unicode-mode regexes reject `\-` outside a class, so literals and class members escape differently.
  const esc = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
  const escClass = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  let out = '';
  let i = 0;
  while (i < cs.length) {
    const c = cs[i++]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      if (i >= cs.length) return undefined;
      out += esc(cs[i++]!);
    } else if (c === '[') {
      let body = '';
      let n = 0;
      let neg = false;
      if (cs[i] === '^') {
        neg = true;
        i++;
      }
      const getEsc = (): string | undefined => {
        let ch = cs[i];
        if (ch === undefined || ch === '-' || ch === ']') return undefined;
        if (ch === '\\') {
          i++;
          ch = cs[i];
          if (ch === undefined) return undefined;
        }
        i++;
        return ch;
      };
      for (;;) {
        if (cs[i] === ']' && n > 0) {
          i++;
          break;
        }
        const lo = getEsc();
        if (lo === undefined) return undefined;
        let hi = lo;
        if (cs[i] === '-') {
          i++;
          const h = getEsc();
          if (h === undefined) return undefined;
          hi = h;
        }
        n++;
        // Go accepts an inverted range; it simply matches nothing.
        if (hi.codePointAt(0)! >= lo.codePointAt(0)!) body += `${escClass(lo)}-${escClass(hi)}`;
      }
      out += body === '' ? (neg ? '[\\s\\S]' : '[]') : `[${neg ? '^' : ''}${body}]`;
    } else out += esc(c);
  }
  try {
    return new RegExp(`^${out}$`, 'u');
  } catch {
    return undefined;
  }
}

/**
 * Argo's NormalizeGitURL: lower case, scp-style SSH (`git@host:org/repo`) turned into a
 * path, `.git` dropped. Go's url.Parse round trip is an identity for the URLs that
 * matter; the ones it rejects (bad % escapes, control characters) normalise to ''.
 */
export function normalizeGitURL(repo: string): string {
  let r = repo.trim().toLowerCase();
  if (/^(ssh:\/\/)?([^/:]*?)@[^@]+$/.test(r) && !r.startsWith('ssh://')) {
    r = 'ssh://' + r.replace(':', '/');
  }
  if (r.endsWith('.git')) r = r.slice(0, -4);
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(r) || /%(?![0-9a-f]{2})/.test(r)) return '';
  return r.startsWith('ssh://') ? r.slice('ssh://'.length) : r;
}

// ---------------------------------------------------------------------------
// Sources

function isSourcePermitted(project: AppProject, repoURL: string): boolean {
  const src = normalizeGitURL(repoURL);
  let anyMatched = false;
  for (const pattern of project.spec?.sourceRepos ?? []) {
    const normalized = isDenyPattern(pattern) ? '!' + normalizeGitURL(pattern.slice(1)) : normalizeGitURL(pattern);
    // A deny entry "matches" every repo it does not deny, so it also counts as a grant.
    if (projGlob(normalized, src, true, '/')) anyMatched = true;
    else if (isDenyPattern(normalized)) return false;
  }
  return anyMatched;
}

/** Is `repoURL` one of the project's sourceRepos? (globs stop at '/', `!` entries deny) */
export function checkSource(project: AppProject, repoURL: string): CheckResult {
  if (isSourcePermitted(project, repoURL)) return OK;
  return { ok: false, message: `application repo ${repoURL} is not permitted in project '${projectName(project)}'` };
}

// ---------------------------------------------------------------------------
// Destinations

function isDestinationMatched(project: AppProject, dst: { server: string; name: string; namespace: string }): boolean {
  let anyMatched = false;
  for (const item of project.spec?.destinations ?? []) {
    const itemName = item.name ?? '';
    const itemServer = item.server ?? '';
    const nameMatched = dst.name !== '' && projGlob(itemName, dst.name, true);
    const serverMatched = dst.server !== '' && projGlob(itemServer, dst.server, true);
    const nsMatched = projGlob(item.namespace ?? '', dst.namespace, true);
    if ((serverMatched || nameMatched) && nsMatched) anyMatched = true;
    // Same precedence as Argo: a denied name refuses outright, a denied server only
    // when the namespace matched, a denied namespace only when the server matched.
    else if ((!nameMatched && isDenyPattern(itemName)) || (!serverMatched && isDenyPattern(itemServer) && nsMatched)) return false;
    else if (!nsMatched && isDenyPattern(item.namespace ?? '') && serverMatched) return false;
  }
  return anyMatched;
}

function isDestinationPermitted(project: AppProject, cluster: Cluster, namespace: string, opts: DestinationOptions): boolean {
  const matched = isDestinationMatched(project, { server: cluster.server, name: cluster.name, namespace });
  if (matched && project.spec?.permitOnlyProjectScopedClusters) {
    return (opts.projectClusters ?? []).some((c) => c.name === cluster.name || c.server === cluster.server);
  }
  return matched;
}

/** Argo's GetDestinationCluster: exactly one of server or name, the name resolved through the known clusters. */
function resolveCluster(dest: ApplicationDestination, opts: DestinationOptions): Cluster | string {
  const clusters = opts.clusters ?? [IN_CLUSTER];
  const name = dest.name ?? '';
  const rawServer = dest.server ?? '';
  if (name !== '' && rawServer !== '') return `application destination can't have both name and server defined: ${name} ${rawServer}`;
  if (rawServer !== '') {
    const server = rawServer.replace(/\/+$/, '');
    // An unregistered server is not refused here (no cluster registry to ask); it just has no name.
    const known = clusters.find((c) => c.server.replace(/\/+$/, '') === server);
    return { server, name: known?.name ?? '' };
  }
  if (name !== '') {
    const found = clusters.filter((c) => c.name === name);
    if (found.length === 0) return `there are no clusters with this name: ${name}`;
    if (found.length > 1) return `there are ${found.length} clusters with the same name: [${found.map((c) => c.server).join(' ')}]`;
    return { server: found[0]!.server.replace(/\/+$/, ''), name };
  }
  return 'Destination server missing from app spec';
}

/** Is the Application destination (server or name, plus namespace) allowed by the project? */
export function checkDestination(project: AppProject, dest: ApplicationDestination, opts: DestinationOptions = {}): CheckResult {
  const cluster = resolveCluster(dest, opts);
  if (typeof cluster === 'string') return { ok: false, message: cluster };
  const namespace = dest.namespace ?? '';
  if (isDestinationPermitted(project, cluster, namespace, opts)) return OK;
  const shown = dest.name ? cluster.name : cluster.server;
  return {
    ok: false,
    message: `application destination server '${shown}' and namespace '${namespace}' do not match any of the allowed destinations in project '${projectName(project)}'`,
  };
}

// ---------------------------------------------------------------------------
// Resource kinds

function inList(list: GroupKindRule[], group: string, kind: string, name: string | undefined, named: boolean): boolean {
  return list.some((item) => {
    if (!goPathMatch(item.kind ?? '', kind) || !goPathMatch(item.group ?? '', group)) return false;
    if (!named || !item.name) return true;
    return goPathMatch(item.name, name ?? '');
  });
}

/** Argo's IsGroupKindNamePermitted. */
export function isGroupKindPermitted(project: AppProject, group: string, kind: string, namespaced: boolean, name?: string): boolean {
  const spec = project.spec ?? {};
  if (namespaced) {
    const white = spec.namespaceResourceWhitelist;
    const black = spec.namespaceResourceBlacklist ?? [];
    const whitelisted = white == null || (white.length !== 0 && inList(white, group, kind, name, false));
    return whitelisted && !(black.length !== 0 && inList(black, group, kind, name, false));
  }
  const white = spec.clusterResourceWhitelist ?? [];
  const black = spec.clusterResourceBlacklist ?? [];
  // No cluster whitelist means no cluster-scoped resources at all.
  return white.length !== 0 && inList(white, group, kind, name, true) && !(black.length !== 0 && inList(black, group, kind, name, true));
}

export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  kind: string;
  namespaced: boolean;
  name?: string;
  /** With `destination`, a namespaced resource's namespace must also be an allowed destination. */
  namespace?: string;
  destination?: { server?: string; name?: string };
}

/** May the project deploy this kind (and, when given, into this namespace)? Messages as Argo's sync reports them. */
export function checkResource(project: AppProject, res: ResourceRef, opts: DestinationOptions = {}): CheckResult {
  const group = res.group ?? '';
  if (!isGroupKindPermitted(project, group, res.kind, res.namespaced, res.name)) {
    return { ok: false, message: `resource ${group}:${res.kind} is not permitted in project ${projectName(project)}` };
  }
  if (res.namespaced && res.namespace !== undefined && res.destination) {
    const cluster = resolveCluster(res.destination, opts);
    if (typeof cluster === 'string') return { ok: false, message: cluster };
    if (!isDestinationPermitted(project, cluster, res.namespace, opts)) {
      return { ok: false, message: `namespace ${res.namespace} is not permitted in project '${projectName(project)}'` };
    }
  }
  return OK;
}

// ---------------------------------------------------------------------------
// Whole Application

/** Argo's IsAppNamespacePermitted: the control-plane namespace always, others via spec.sourceNamespaces. */
export function isAppNamespacePermitted(project: AppProject, appNamespace: string | undefined, controllerNamespace = ARGOCD_NAMESPACE): boolean {
  if (!appNamespace || appNamespace === controllerNamespace) return true;
  return (project.spec?.sourceNamespaces ?? []).some((p) => {
    if (p.length > 1 && p.startsWith('/') && p.endsWith('/')) {
      try {
        if (new RegExp(p.slice(1, -1)).test(appNamespace)) return true;
      } catch {
        // an invalid regex falls through to glob matching, as in Argo
      }
    }
    return argoGlobMatch(p, appNamespace);
  });
}

/**
 * Everything Argo's ValidatePermissions reports for an Application spec: source fields,
 * each source repo, then the destination. All problems are listed in `messages`;
 * `message` joins them.
 */
export function checkApplication(project: AppProject, spec: ApplicationSpec, opts: ApplicationCheckOptions = {}): AppCheckResult {
  const messages: string[] = [];
  const name = projectName(project);
  if (opts.application && !isAppNamespacePermitted(project, opts.application.namespace, opts.controllerNamespace)) {
    messages.push(`application '${opts.application.name}' in namespace '${opts.application.namespace ?? ''}' is not allowed to use project ${name}`);
  }
  const done = () => (messages.length === 0 ? OK : { ok: false as const, message: messages.join('; '), messages });

  if (spec.sourceHydrator) {
    const dry = spec.sourceHydrator.drySource?.repoURL ?? '';
    if (dry === '') {
      messages.push('spec.sourceHydrator.drySource.repoURL is required');
      return done();
    }
    if (!isSourcePermitted(project, dry)) messages.push(`application repo ${dry} is not permitted in project '${name}'`);
  } else if ((spec.sources ?? []).length > 0) {
    for (const src of spec.sources!) {
      if (!src.repoURL || (!src.path && !src.chart && !src.ref)) {
        messages.push(`spec.source.repoURL and either source.path, source.chart, or source.ref are required for source ${JSON.stringify(src)}`);
        return done();
      }
      if (src.chart && !src.targetRevision) {
        messages.push('spec.source.targetRevision is required if the manifest source is a helm chart');
        return done();
      }
      if (!isSourcePermitted(project, src.repoURL)) messages.push(`application repo ${src.repoURL} is not permitted in project '${name}'`);
    }
  } else {
    // Input not yet validated: repoURL may be missing.
    const src: Partial<ApplicationSource> = spec.source ?? {};
    if (!src.repoURL || (!src.path && !src.chart)) {
      messages.push('spec.source.repoURL and either spec.source.path or spec.source.chart are required');
      return done();
    }
    if (src.chart && !src.targetRevision) {
      messages.push('spec.source.targetRevision is required if the manifest source is a helm chart');
      return done();
    }
    if (!isSourcePermitted(project, src.repoURL)) messages.push(`application repo ${src.repoURL} is not permitted in project '${name}'`);
  }

  const dest = checkDestination(project, spec.destination ?? {}, opts);
  if (!dest.ok) messages.push(dest.message);
  return done();
}

// ---------------------------------------------------------------------------
// Sync windows

export interface SyncWindowApp {
  /** Application name. */
  name: string;
  /** Destination namespace. */
  namespace: string;
  /** Destination server, as written in the Application spec. */
  server?: string;
  /** Destination cluster name, as written in the Application spec. */
  cluster?: string;
}

export class SyncWindowError extends Error {
  override name = 'SyncWindowError';
}

/** Windows whose applications/clusters/namespaces select the app (OR, or AND with andOperator). */
export function matchingWindows(project: AppProject, app: SyncWindowApp): SyncWindow[] {
  const out: SyncWindow[] = [];
  for (const w of project.spec?.syncWindows ?? []) {
    if (!w) continue;
    const and = w.andOperator === true;
    let matched = false;
    let isSet = false;
    const apps = w.applications ?? [];
    if (apps.length > 0) {
      isSet = true;
      matched = apps.some((a) => projGlob(a, app.name, false));
    }
    if (and && !matched && isSet) continue;
    if (!and && matched) {
      out.push(w);
      continue;
    }
    const clusters = w.clusters ?? [];
    if (clusters.length > 0) {
      isSet = true;
      matched = clusters.some((c) => (!!app.cluster && projGlob(c, app.cluster, false)) || (!!app.server && projGlob(c, app.server, false)));
    }
    if (isSet && and && !matched) continue;
    if (!and && matched) {
      out.push(w);
      continue;
    }
    const namespaces = w.namespaces ?? [];
    // With AND and no namespaces listed, the earlier app/cluster result stands.
    if (namespaces.length > 0) matched = namespaces.some((n) => projGlob(n, app.namespace, false));
    if (matched) out.push(w);
  }
  return out;
}

interface CronField {
  values: number[];
  /** `*` or `?` (with or without a step): robfig then ANDs day-of-month with day-of-week. */
  star: boolean;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DOW_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

// One field of the standard 5-field parser Argo uses (robfig/cron, no descriptors).
function parseCronField(field: string, min: number, max: number, names: string[] | undefined, nameBase: number): CronField {
  const values = new Set<number>();
  let star = false;
  const num = (s: string): number => {
    const byName = names?.indexOf(s.toLowerCase()) ?? -1;
    if (byName >= 0) return byName + nameBase;
    if (!/^\d+$/.test(s)) throw new Error(`failed to parse int from ${s}`);
    return Number(s);
  };
  for (const part of field.split(',')) {
    const rangeAndStep = part.split('/');
    if (rangeAndStep.length > 2) throw new Error(`too many slashes: ${part}`);
    const lowAndHigh = rangeAndStep[0]!.split('-');
    if (lowAndHigh.length > 2) throw new Error(`too many hyphens: ${part}`);
    let start: number;
    let end: number;
    if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
      start = min;
      end = max;
      star = true;
    } else {
      start = num(lowAndHigh[0]!);
      end = lowAndHigh.length === 2 ? num(lowAndHigh[1]!) : start;
    }
    let step = 1;
    if (rangeAndStep.length === 2) {
      if (!/^\d+$/.test(rangeAndStep[1]!)) throw new Error(`failed to parse int from ${rangeAndStep[1]}`);
      step = Number(rangeAndStep[1]);
      // "N/step" means N through the maximum.
      if (lowAndHigh.length === 1 && !star) end = max;
      if (step === 0) throw new Error(`step of range should be a positive number: ${part}`);
    }
    if (start < min) throw new Error(`beginning of range (${start}) below minimum (${min}): ${part}`);
    if (end > max) throw new Error(`end of range (${end}) above maximum (${max}): ${part}`);
    if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${part}`);
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return { values: [...values].sort((a, b) => a - b), star };
}

interface Schedule {
  next(after: number): number | undefined;
}

function parseSchedule(spec: string): Schedule {
  let s = spec;
  if (s.trim() === '') throw new Error('empty spec string');
  let tz = 'UTC';
  if (s.startsWith('TZ=') || s.startsWith('CRON_TZ=')) {
    const sp = s.indexOf(' ');
    const loc = s.slice(s.indexOf('=') + 1, sp === -1 ? undefined : sp);
    if (!validTimeZone(loc)) throw new Error(`provided bad location ${loc}`);
    tz = loc;
    s = sp === -1 ? '' : s.slice(sp).trim();
  }
  if (s.startsWith('@')) throw new Error(`parser does not accept descriptors: ${s}`);
  const fields = s.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: ${s}`);
  const [minute, hour, dom, month, dow] = [
    parseCronField(fields[0]!, 0, 59, undefined, 0),
    parseCronField(fields[1]!, 0, 23, undefined, 0),
    parseCronField(fields[2]!, 1, 31, undefined, 0),
    parseCronField(fields[3]!, 1, 12, MONTH_NAMES, 1),
    parseCronField(fields[4]!, 0, 6, DOW_NAMES, 0),
  ] as const;
  const list = (f: CronField, size: number) => (f.values.length === size ? '*' : f.values.join(','));
  // robfig ORs day-of-month with day-of-week only when neither is starred; otherwise it
  // ANDs them. cron-parser ORs any two restricted lists, so for the AND case it gets the
  // day-of-month list alone and day-of-week is filtered here.
  const andDays = dom.star || dow.star;
  const domList = list(dom, 31);
  const dowList = list(dow, 7);
  const filterDow = andDays && domList !== '*' && dowList !== '*';
  const expr = `${list(minute, 60)} ${list(hour, 24)} ${domList} ${list(month, 12)} ${filterDow ? '*' : dowList}`;
  const dowSet = new Set(dow.values);
  return {
    next(after: number) {
      // robfig gives up after five years and returns the zero time.
      const limit = new Date(after).getUTCFullYear() + 5;
      let it;
      try {
        it = CronExpressionParser.parse(expr, { currentDate: new Date(after), tz });
      } catch {
        return undefined; // e.g. 30 February: never fires
      }
      for (;;) {
        let d: Date;
        try {
          d = it.next().toDate();
        } catch {
          return undefined;
        }
        if (d.getUTCFullYear() > limit) return undefined;
        if (!filterDow || dowSet.has(weekdayIn(d, tz))) return d.getTime();
      }
    },
  };
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function weekdayIn(d: Date, tz: string): number {
  if (tz === 'UTC') return d.getUTCDay();
  const wd = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short' }).format(d).toLowerCase();
  return DOW_NAMES.indexOf(wd.slice(0, 3));
}

/** Offset of `timeZone` from UTC at `at`, in ms; '' or an unknown zone is UTC, as in Argo. */
function zoneOffset(timeZone: string | undefined, at: Date): number {
  if (!timeZone || timeZone === 'UTC' || !validTimeZone(timeZone)) return 0;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * Argo's window activity test. The schedule is read as wall-clock time in the window's
 * timeZone, using that zone's offset at `now`; the window is active when a start falls
 * strictly inside (now - duration, now).
 */
function isWindowActive(w: SyncWindow, now: Date): boolean {
  let sched: Schedule;
  try {
    sched = parseSchedule(w.schedule ?? '');
  } catch (e) {
    throw new SyncWindowError(`cannot parse schedule '${w.schedule ?? ''}': ${(e as Error).message}`);
  }
  const dur = parseGoDuration(w.duration ?? '');
  if (dur === undefined) throw new SyncWindowError(`cannot parse duration '${w.duration ?? ''}': time: invalid duration "${w.duration ?? ''}"`);
  const shifted = now.getTime() + zoneOffset(w.timeZone, now);
  const next = sched.next(shifted - dur);
  // A schedule that never fires yields Go's zero time, which is before everything.
  return next === undefined || next < shifted;
}

/**
 * The project's windows that select this app and are active at `now`.
 * Throws SyncWindowError when a selected window has an unparsable schedule or duration.
 */
export function activeWindows(project: AppProject, app: SyncWindowApp, now: Date): SyncWindow[] {
  return matchingWindows(project, app).filter((w) => isWindowActive(w, now));
}

function canSyncAt(windows: SyncWindow[], manual: boolean, at: Date, operationStartedAt?: Date): boolean {
  if (windows.length === 0) return true;
  const active = windows.filter((w) => isWindowActive(w, at));
  const activeDenies = active.filter((w) => w.kind === 'deny');
  if (activeDenies.length > 0) {
    // Every active deny window must let manual syncs through.
    if (manual && activeDenies.every((w) => w.manualSync === true)) return true;
    if (operationStartedAt && activeDenies.every((w) => w.syncOverrun === true)) {
      return canSyncAt(windows, manual, operationStartedAt);
    }
    return false;
  }
  if (active.some((w) => w.kind === 'allow')) return true;
  const inactiveAllows = windows.filter((w) => w.kind === 'allow' && !isWindowActive(w, at));
  if (inactiveAllows.length > 0) {
    if (manual && inactiveAllows.every((w) => w.manualSync === true)) return true;
    if (operationStartedAt && inactiveAllows.every((w) => w.syncOverrun === true)) {
      return canSyncAt(windows, manual, operationStartedAt);
    }
    return false;
  }
  return true;
}

/**
 * Whether the project's sync windows let this app sync at `now`: deny beats allow,
 * allow windows exist ⇒ only inside one, `manualSync` lets manual syncs through,
 * no selected windows ⇒ allowed. `operationStartedAt` enables `syncOverrun` for an
 * operation already running. Invalid windows block the sync, as in Argo.
 */
export function syncAllowed(
  project: AppProject,
  app: SyncWindowApp,
  now: Date,
  manual: boolean,
  operationStartedAt?: Date,
): { allowed: boolean; message?: string } {
  const blocked = manual ? 'cannot sync: blocked by sync window' : 'Sync operation blocked by sync window';
  try {
    if (canSyncAt(matchingWindows(project, app), manual, now, operationStartedAt)) return { allowed: true };
    return { allowed: false, message: blocked };
  } catch (e) {
    if (!(e instanceof SyncWindowError)) throw e;
    return { allowed: false, message: `${blocked}: invalid sync windows: ${e.message}` };
  }
}

// ---------------------------------------------------------------------------
// Orphaned resources

export interface LiveResource {
  /** API group; when omitted, taken from a table of built-in kinds (core otherwise). */
  group?: string;
  kind: string;
  name: string;
  namespace: string;
}

const BUILTIN_GROUPS: Record<string, string> = {
  Deployment: 'apps',
  StatefulSet: 'apps',
  DaemonSet: 'apps',
  ReplicaSet: 'apps',
  ControllerRevision: 'apps',
  Job: 'batch',
  CronJob: 'batch',
  Ingress: 'networking.k8s.io',
  NetworkPolicy: 'networking.k8s.io',
  Role: 'rbac.authorization.k8s.io',
  RoleBinding: 'rbac.authorization.k8s.io',
  HorizontalPodAutoscaler: 'autoscaling',
  PodDisruptionBudget: 'policy',
  Lease: 'coordination.k8s.io',
  EndpointSlice: 'discovery.k8s.io',
};

// Objects every namespace has without anyone deploying them, plus the project's ignore list.
function isKnownExclusion(group: string, r: LiveResource, ignore: GroupKindRule[]): boolean {
  if (r.namespace === 'default' && group === '' && r.kind === 'Service' && r.name === 'kubernetes') return true;
  if (group === '' && r.kind === 'ServiceAccount' && r.name === 'default') return true;
  if (group === '' && r.kind === 'ConfigMap' && r.name === 'kube-root-ca.crt') return true;
  return ignore.some((i) => (!i.kind || argoGlobMatch(i.kind, r.kind)) && argoGlobMatch(i.group ?? '', group) && (!i.name || argoGlobMatch(i.name, r.name)));
}

/**
 * The OrphanedResourceWarning message for unmanaged live resources in the app's
 * destination namespace, or undefined when the project does not ask for warnings or
 * none count. Only namespaced kinds the project permits count; with `destination`
 * their namespace must also be an allowed destination.
 */
export function orphanedResourceWarning(
  project: AppProject,
  liveUnmanaged: LiveResource[],
  destination?: { server?: string; name?: string },
  opts: DestinationOptions = {},
): string | undefined {
  const settings = project.spec?.orphanedResources;
  if (!settings || settings.warn !== true) return undefined;
  const ignore = settings.ignore ?? [];
  const cluster = destination ? resolveCluster(destination, opts) : undefined;
  const count = liveUnmanaged.filter((r) => {
    const group = r.group ?? BUILTIN_GROUPS[r.kind] ?? '';
    if (!r.namespace) return false;
    if (!isGroupKindPermitted(project, group, r.kind, true, r.name) || isKnownExclusion(group, r, ignore)) return false;
    if (cluster === undefined) return true;
    return typeof cluster !== 'string' && isDestinationPermitted(project, cluster, r.namespace, opts);
  }).length;
  return count > 0 ? `Application has ${count} orphaned resources` : undefined;
}

// ---------------------------------------------------------------------------
// Naming the windows that block a sync

/** One line naming a window the way `argocd proj windows list` shows it: kind, schedule, duration, selectors. */
export function describeWindow(w: SyncWindow): string {
  const selectors = [
    w.applications?.length ? `applications ${w.applications.join(',')}` : '',
    w.namespaces?.length ? `namespaces ${w.namespaces.join(',')}` : '',
    w.clusters?.length ? `clusters ${w.clusters.join(',')}` : '',
  ].filter((s) => s !== '');
  return `${w.kind ?? '?'} window '${w.schedule ?? ''}' for ${w.duration ?? ''}${w.timeZone ? ` (${w.timeZone})` : ''}${selectors.length ? ` on ${selectors.join(', ')}` : ''}`;
}

/**
 * syncAllowed, with the blocking windows named: an active deny window (not letting manual
 * syncs through), or, when no allow window is active, the allow windows outside which the
 * app may not sync. Manual: "cannot sync: blocked by sync window" (Argo's API answer);
 * automated: "Sync operation blocked by sync window" (Argo's operation message).
 */
export function syncWindowVerdict(project: AppProject, app: SyncWindowApp, now: Date, manual: boolean): { allowed: boolean; message?: string } {
  const verdict = syncAllowed(project, app, now, manual);
  if (verdict.allowed || (verdict.message ?? '').includes('invalid sync windows')) return verdict;
  const matching = matchingWindows(project, app);
  const active = matching.filter((w) => isWindowActive(w, now));
  const denies = active.filter((w) => w.kind === 'deny' && !(manual && w.manualSync === true));
  const blocking = denies.length > 0 ? denies : matching.filter((w) => w.kind === 'allow' && !active.includes(w));
  const named = blocking.map((w) => `${describeWindow(w)} ${w.kind === 'deny' ? 'is active' : 'is not active'}`);
  return { allowed: false, message: `${verdict.message}: ${named.join('; ')}` };
}
