// The two pattern languages Argo's git generator uses: Go's path.Match for `directories`
// (`*` stops at `/`), and git pathspecs for `files` (the repo server runs `git ls-files -- <path>`,
// where `*` also crosses `/`, so `**` works, and a literal path matches everything under it).

/** Go's path.Match; throws for a malformed pattern (ErrBadPattern). */
export function goPathMatch(pattern: string, name: string): boolean {
  return patternRegExp(pattern, false).test(name);
}

/** A git pathspec (no magic) against a file path. */
export function gitPathspecMatch(pattern: string, file: string): boolean {
  const spec = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  if (spec === '' || spec === '.') return true;
  if (!/[*?[\\]/.test(spec)) return file === spec || file.startsWith(`${spec}/`);
  return patternRegExp(spec, true).test(file);
}

const cache = new Map<string, RegExp>();

function patternRegExp(pattern: string, crossSlash: boolean): RegExp {
  const key = `${crossSlash ? 1 : 0}${pattern}`;
  let re = cache.get(key);
  if (re) return re;
  const any = crossSlash ? '[\\s\\S]' : '[^/]';
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') src += `${any}*`;
    else if (c === '?') src += any;
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new Error('syntax error in pattern');
      src += escape(pattern[++i]!);
    } else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (pattern[j] === '^' || pattern[j] === '!') {
        negate = true;
        j++;
      }
      let cls = '';
      let first = true;
      for (; j < pattern.length && (pattern[j] !== ']' || (first && crossSlash)); j++) {
        first = false;
        let lo = pattern[j]!;
        if (lo === '\\') {
          if (++j >= pattern.length) throw new Error('syntax error in pattern');
          lo = pattern[j]!;
        }
        cls += escapeClass(lo);
        if (pattern[j + 1] === '-' && pattern[j + 2] !== undefined && pattern[j + 2] !== ']') {
          let hi = pattern[j + 2]!;
          j += 2;
          if (hi === '\\') {
            if (++j >= pattern.length) throw new Error('syntax error in pattern');
            hi = pattern[j]!;
          }
          if (hi < lo) throw new Error('syntax error in pattern');
          cls += `-${escapeClass(hi)}`;
        }
      }
      if (j >= pattern.length || cls === '') throw new Error('syntax error in pattern');
      src += negate ? `(?:(?!/)[^${cls}])` : `[${cls}]`;
      i = j;
    } else src += escape(c);
  }
  re = new RegExp(`^${src}$`);
  if (cache.size > 500) cache.clear();
  cache.set(key, re);
  return re;
}

const escape = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeClass = (c: string) => c.replace(/[\]\\^-]/g, '\\$&');
