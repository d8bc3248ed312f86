// allow-tags expressions are Go (RE2) regexps. The common RE2-only spellings are rewritten
// for JavaScript: named groups `(?P<n>…)` and leading inline flags `(?i)`, `(?s)`, `(?m)`.
// Anything JavaScript cannot compile is refused, with the engine's message.

const cache = new Map<string, RegExp>();

export function compileTagRegexp(source: string): RegExp {
  const hit = cache.get(source);
  if (hit) return hit;
  let src = source.replace(/\(\?P</g, '(?<');
  let flags = '';
  const inline = /^\(\?([ism]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]!) if (!flags.includes(f)) flags += f;
    src = src.slice(inline[0].length);
  }
  const re = new RegExp(src, flags);
  cache.set(source, re);
  return re;
}
