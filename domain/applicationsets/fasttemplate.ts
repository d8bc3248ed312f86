// Argo's default templating (utils.Render.Replace without goTemplate): valyala/fasttemplate
// with `{{` and `}}`, the tag trimmed of spaces; a tag that is empty or names no string
// parameter is written back as it was, so unknown parameters stay as `{{param}}`.
import type { Params } from './params';

// Go's regexp ".*{{.*}}.*": `.` stops at a newline, so `{{` and `}}` must share a line.
const TEMPLATED = /{{.*}}/;

export function replaceDefault(template: string, params: Params): string {
  if (!TEMPLATED.test(template)) return template;
  let out = '';
  let at = 0;
  for (;;) {
    const start = template.indexOf('{{', at);
    if (start < 0) return out + template.slice(at);
    const end = template.indexOf('}}', start + 2);
    if (end < 0)
      throw new Error(
        `invalid template: Cannot find end tag="}}" in the template=${JSON.stringify(template)} starting from ${JSON.stringify(template.slice(start + 2))}`,
      );
    const tag = template.slice(start + 2, end);
    const value = params[tag.trim()];
    out += template.slice(at, start) + (tag.trim() !== '' && typeof value === 'string' ? value : `{{${tag}}}`);
    at = end + 2;
  }
}

/**
 * Every string in a JSON value, and every object key, through `replace` (Argo's deeplyReplace).
 * Numbers, booleans and nulls are kept; nothing is rendered twice.
 */
export async function renderDeep(value: unknown, replace: (s: string) => Promise<string> | string): Promise<unknown> {
  if (typeof value === 'string') return replace(value);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) out.push(await renderDeep(v, replace));
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null) continue; // Go drops nil map entries while copying
      out[await replace(k)] = await renderDeep(v, replace);
    }
    return out;
  }
  return value;
}

/** The TemplateEngine of an ApplicationSet without goTemplate. */
export const defaultTemplateEngine = {
  goTemplate: false,
  goTemplateOptions: [] as readonly string[],
  replace: async (template: string, params: Params) => replaceDefault(template, params),
};
