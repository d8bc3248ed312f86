// Plain-directory sources (no Helm, no Kustomize): the image line carries a marker comment,
// as Flux's image automation does, and the write-back rewrites the value before it.
//
//   image: reg.example/team/web:1.0.0 # {"$imagepolicy": "default:web"}
//   tag: 1.0.0                        # {"$imagepolicy": "default:web:tag"}
//   repository: reg.example/team/web  # {"$imagepolicy": "default:web:name"}
//
// Flux names `<namespace>:<ImagePolicy>`; Sluice has no ImagePolicy objects, so the policy
// name is the image's alias in image-list (the namespace part is there to keep Flux's form
// and is not used). Suffix `:tag` writes the tag (or digest) only, `:name` the name only,
// none the whole reference. Lines without a marker, and markers for other aliases, are left
// byte for byte as they are.

import type { ChosenImage } from './write-back';

const MARKER = /^(?<head>.*?)(?<value>"[^"\s]*"|'[^'\s]*'|[^\s"'#]+)(?<gap>\s*#\s*)(?<marker>\{\s*"\$imagepolicy"\s*:\s*"(?<policy>[^"]+)"\s*\})(?<tail>.*)$/;

export interface Marker {
  alias: string;
  field: 'image' | 'tag' | 'name';
}

/** The marker of a policy string `<namespace>:<alias>[:tag|:name]` (a bare `<alias>` too). */
export function parsePolicy(policy: string): Marker | undefined {
  const parts = policy.split(':');
  let field: Marker['field'] = 'image';
  if (parts.length >= 2 && (parts[parts.length - 1] === 'tag' || parts[parts.length - 1] === 'name')) field = parts.pop() as 'tag' | 'name';
  const alias = parts[parts.length - 1];
  return alias ? { alias, field } : undefined;
}

const unquote = (v: string) => (/^(".*"|'.*')$/.test(v) ? v.slice(1, -1) : v);
const requote = (old: string, v: string) => (old.startsWith('"') ? `"${v}"` : old.startsWith("'") ? `'${v}'` : v);

/** What the value of a marked line means for its image: the tag, or the digest when it pins one. */
function valueOf(field: Marker['field'], raw: string): string | undefined {
  const v = unquote(raw);
  if (field === 'name') return undefined;
  if (field === 'tag') return v;
  const at = v.indexOf('@');
  if (at >= 0) return v.slice(at + 1);
  const colon = v.lastIndexOf(':');
  return colon > v.lastIndexOf('/') ? v.slice(colon + 1) : undefined;
}

/** The tag (or digest) the first line marked for the alias holds now. */
export function currentFromMarkers(text: string | undefined, alias: string): string | undefined {
  for (const line of (text ?? '').split('\n')) {
    const m = MARKER.exec(line);
    const marker = m && parsePolicy(m.groups!.policy!);
    if (marker?.alias === alias && marker.field !== 'name') return valueOf(marker.field, m!.groups!.value!);
  }
  return undefined;
}

/** The text with every line marked for one of the images rewritten (identical when nothing changes). */
export function applyMarkers(text: string, updates: readonly { alias: string; name: string; chosen: ChosenImage }[]): string {
  return text
    .split('\n')
    .map((line) => {
      const m = MARKER.exec(line);
      const marker = m && parsePolicy(m.groups!.policy!);
      const u = marker && updates.find((x) => x.alias === marker.alias);
      if (!m || !marker || !u) return line;
      const { head, value, gap, marker: text, tail } = m.groups!;
      const ref = u.chosen.digest ?? u.chosen.tag;
      const next =
        marker.field === 'tag' ? ref : marker.field === 'name' ? u.name : u.chosen.digest ? `${u.name}@${u.chosen.digest}` : `${u.name}:${u.chosen.tag}`;
      return `${head}${requote(value!, next)}${gap}${text}${tail}`;
    })
    .join('\n');
}
