// Parameter sets as Argo's generators produce them, and the value conversions Argo applies
// to them (Go's fmt %v, jeremywohl/flatten's dot style, utils.SanitizeName).

/** One generated parameter set: flat strings (default templating) or nested values (goTemplate). */
export type Params = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export { isPlainObject };

/** Go's strconv 'g' with the shortest representation, as fmt's %v prints a float64. */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  // strconv's 'g' with the shortest digits switches to an exponent below 1e-4 and from 1e6 on.
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    const digits = String(Math.abs(exp)).padStart(2, '0');
    return `${mantissa}e${sign}${digits}`;
  }
  return String(n);
}

/** fmt.Sprintf("%v", v) for the JSON values a YAML/JSON document decodes to. */
export function goValueString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(goValueString).join(' ')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goValueString(v[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** jeremywohl/flatten in DotStyle: nested maps and arrays become dotted keys; empty ones vanish. */
export function flatten(value: Record<string, unknown> | unknown[], prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (Array.isArray(v) || isPlainObject(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

/** Argo's flattenParameters: what a generator-level selector matches against. */
export function flattenToStrings(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(flatten(params))) out[k] = goValueString(v);
  return out;
}

/** utils.SanitizeName: lowercase, [^-a-z0-9.] to '-', at most 253 bytes, trimmed of '-' and '.'. */
export function sanitizeName(name: string): string {
  let s = name.toLowerCase().replace(/[^-a-z0-9.]/g, '-');
  if (s.length > 253) s = s.slice(0, 253);
  return s.replace(/^[-.]+/, '').replace(/[-.]+$/, '');
}

/** utils.CombineStringMaps: both sides as %v strings; a key with two different values is an error. */
export function combineStringMaps(a: Params, b: Params): Params {
  const res: Params = {};
  for (const [k, v] of Object.entries(a)) res[k] = goValueString(v);
  for (const [k, v] of Object.entries(b)) {
    const s = goValueString(v);
    if (k in res && res[k] !== s) throw new Error(`found duplicate key ${k} with different value, a: ${String(res[k])} ,b: ${s}`);
    res[k] = s;
  }
  return res;
}

/** mergo.Merge(dst, src, WithOverride) on parameter maps: src's non-empty values win, maps merge deeply. */
export function mergeOverride(dst: Params, src: Params): Params {
  const out: Params = { ...dst };
  for (const [k, v] of Object.entries(src)) {
    const d = out[k];
    if (isPlainObject(d) && isPlainObject(v)) out[k] = mergeOverride(d, v);
    else if (!isEmptyValue(v) || !(k in out)) out[k] = v;
  }
  return out;
}

/** Go's zero value test as mergo applies it. */
export function isEmptyValue(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    v === 0 ||
    v === false ||
    (Array.isArray(v) && v.length === 0) ||
    (isPlainObject(v) && Object.keys(v).length === 0)
  );
}
