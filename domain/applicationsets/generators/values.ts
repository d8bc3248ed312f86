// A generator's `values` (value_interpolation.go): each rendered with the generator's own
// parameters, then added as `values.<key>` (default templating) or under `values` (goTemplate).
import type { Params } from '../params';
import type { TemplateEngine } from '../types';

export async function appendTemplatedValues(values: Record<string, string> | undefined, params: Params, engine: TemplateEngine): Promise<void> {
  if (!values) return;
  const rendered: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    try {
      rendered[key] = await engine.replace(String(value), params);
    } catch (err) {
      throw new Error(`failed to append templated values: failed to replace templated string: ${(err as Error).message}`, { cause: err });
    }
  }
  if (engine.goTemplate) {
    if (Object.keys(rendered).length > 0) params.values = rendered;
  } else for (const [k, v] of Object.entries(rendered)) params[`values.${k}`] = v;
}
