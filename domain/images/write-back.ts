// What is written back: Helm parameters and Kustomize images (on the Application for
// write-back `argocd`, in `.argocd-source-<app>.yaml` for `git`), the `images:` of a
// kustomization, or keys of a Helm values file. Every function is idempotent: writing the
// same value again yields the same text, which is how "nothing to commit" is recognised.

import { isMap, isSeq, parseDocument, stringify, type Document } from 'yaml';
import type { ImageSpec } from './annotations';
import { formatImage, parseImageReference } from './reference';

export interface HelmParameter {
  name: string;
  value: string;
  forceString?: boolean;
}

export interface ChosenImage {
  tag: string;
  digest?: string;
}

/** The Helm parameters for one image: image-spec, or image-name + image-tag (defaults image.name / image.tag). */
export function helmParametersFor(spec: ImageSpec, chosen: ChosenImage): HelmParameter[] {
  const tagValue = chosen.digest ? `${chosen.tag}@${chosen.digest}` : chosen.tag;
  if (spec.helm?.imageSpec) return [{ name: spec.helm.imageSpec, value: `${spec.image.name}:${tagValue}`, forceString: true }];
  return [
    { name: spec.helm?.imageName ?? 'image.name', value: spec.image.name, forceString: true },
    { name: spec.helm?.imageTag ?? 'image.tag', value: tagValue, forceString: true },
  ];
}

/** The Kustomize image override for one image: `[original=]name:tag` or `name@digest`. */
export function kustomizeImageFor(spec: ImageSpec, chosen: ChosenImage): string {
  const target = chosen.digest ? formatImage(spec.image.name, undefined, chosen.digest) : formatImage(spec.image.name, chosen.tag);
  return spec.kustomizeImageName && spec.kustomizeImageName !== spec.image.name ? `${spec.kustomizeImageName}=${target}` : target;
}

/** The image a Kustomize override applies to: the part before `=`, or the name itself. */
export function kustomizeOverrideKey(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq >= 0) return entry.slice(0, eq);
  try {
    return parseImageReference(entry).name;
  } catch {
    return entry;
  }
}

/** Parameters merged by name: new values replace, the order of the existing ones is kept. */
export function mergeHelmParameters(existing: readonly HelmParameter[], updates: readonly HelmParameter[]): HelmParameter[] {
  const out = existing.map((p) => ({ ...p }));
  for (const u of updates) {
    const i = out.findIndex((p) => p.name === u.name);
    if (i >= 0) out[i] = { ...out[i], ...u };
    else out.push({ ...u });
  }
  return out;
}

export function mergeKustomizeImages(existing: readonly string[], updates: readonly string[]): string[] {
  const out = [...existing];
  for (const u of updates) {
    const i = out.findIndex((e) => kustomizeOverrideKey(e) === kustomizeOverrideKey(u));
    if (i >= 0) out[i] = u;
    else out.push(u);
  }
  return out;
}

export const argocdSourceFileName = (appName: string): string => `.argocd-source-${appName}.yaml`;

function loadDoc(text: string | undefined): Document {
  const doc = parseDocument(text ?? '');
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) return parseDocument('');
  return doc;
}

/** `.argocd-source-<app>.yaml` in Helm shape, merged with what the file already holds. */
export function helmSourceFile(existing: string | undefined, updates: readonly HelmParameter[]): string {
  const doc = loadDoc(existing);
  const current = (doc.getIn(['helm', 'parameters']) as { toJSON(): unknown } | undefined)?.toJSON();
  const params = Array.isArray(current)
    ? (current as Record<string, unknown>[]).map((p) => ({
        name: String(p.name),
        value: String(p.value ?? ''),
        ...(p.forcestring ? { forceString: true } : {}),
      }))
    : [];
  const merged = mergeHelmParameters(params, updates).map((p) => ({ name: p.name, value: p.value, forcestring: p.forceString ?? false }));
  doc.setIn(['helm', 'parameters'], doc.createNode(merged));
  return doc.toString({ indentSeq: false });
}

/** `.argocd-source-<app>.yaml` in Kustomize shape. */
export function kustomizeSourceFile(existing: string | undefined, updates: readonly string[]): string {
  const doc = loadDoc(existing);
  const current = (doc.getIn(['kustomize', 'images']) as { toJSON(): unknown } | undefined)?.toJSON();
  const images = Array.isArray(current) ? current.map(String) : [];
  doc.setIn(['kustomize', 'images'], doc.createNode(mergeKustomizeImages(images, updates)));
  return doc.toString({ indentSeq: false });
}

/** Current Helm parameter values from a `.argocd-source` file. */
export function helmParametersIn(text: string | undefined): HelmParameter[] {
  const p = (loadDoc(text).toJSON() as { helm?: { parameters?: unknown } } | null)?.helm?.parameters;
  return Array.isArray(p) ? p.map((x: Record<string, unknown>) => ({ name: String(x.name), value: String(x.value ?? '') })) : [];
}

export function kustomizeImagesIn(text: string | undefined): string[] {
  const i = (loadDoc(text).toJSON() as { kustomize?: { images?: unknown } } | null)?.kustomize?.images;
  return Array.isArray(i) ? i.map(String) : [];
}

export class WriteBackError extends Error {}

/** A kustomization's `images:` entry for the image set to the chosen tag (or digest), the rest of the file kept. */
export function kustomizationWithImage(text: string, spec: ImageSpec, chosen: ChosenImage): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) throw new WriteBackError('the kustomization is not a YAML mapping');
  const key = spec.kustomizeImageName ?? spec.image.name;
  let images = doc.get('images');
  if (!isSeq(images)) {
    doc.set('images', doc.createNode([]));
    images = doc.get('images');
  }
  const seq = images as { items: unknown[] };
  let entry = seq.items.find((i) => isMap(i) && String(i.get('name')) === key) as ReturnType<Document['createNode']> | undefined;
  if (!entry) {
    entry = doc.createNode({ name: key });
    seq.items.push(entry);
  }
  const m = entry as unknown as { set(k: string, v: unknown): void; delete(k: string): void };
  if (key !== spec.image.name) m.set('newName', spec.image.name);
  if (chosen.digest) {
    m.delete('newTag');
    m.set('digest', chosen.digest);
  } else {
    m.delete('digest');
    m.set('newTag', chosen.tag);
  }
  return doc.toString({ indentSeq: false });
}

/** The image's tag in a kustomization (digest when it pins one). */
export function kustomizationTag(text: string | undefined, spec: ImageSpec): string | undefined {
  const images = (parseDocument(text ?? '').toJSON() as { images?: Record<string, unknown>[] } | null)?.images;
  const e = Array.isArray(images) ? images.find((i) => i?.name === (spec.kustomizeImageName ?? spec.image.name)) : undefined;
  if (!e) return undefined;
  return e.digest ? String(e.digest) : e.newTag !== undefined ? String(e.newTag) : undefined;
}

/** A Helm values file with the parameters set at their dotted paths, the rest of the file kept. */
export function helmValuesWith(text: string, params: readonly HelmParameter[]): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || (doc.contents !== null && !isMap(doc.contents))) throw new WriteBackError('the values file is not a YAML mapping');
  for (const p of params) {
    const path = p.name.split('.');
    if (path.some((s) => s === '')) throw new WriteBackError(`invalid Helm value path ${JSON.stringify(p.name)}`);
    doc.setIn(path, p.value);
  }
  return doc.toString();
}

export function helmValueAt(text: string | undefined, name: string): string | undefined {
  let cur: unknown = parseDocument(text ?? '').toJSON();
  for (const k of name.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur === undefined || cur === null ? undefined : String(cur);
}

/** The tag (or tag@digest) a set of Helm parameters holds for an image. */
export function helmTagIn(params: readonly HelmParameter[], spec: ImageSpec): string | undefined {
  if (spec.helm?.imageSpec) {
    const v = params.find((p) => p.name === spec.helm!.imageSpec)?.value;
    if (v === undefined) return undefined;
    const at = v.indexOf('@');
    const base = at >= 0 ? v.slice(0, at) : v;
    const colon = base.lastIndexOf(':');
    return colon > base.lastIndexOf('/') ? v.slice(colon + 1) : undefined;
  }
  return params.find((p) => p.name === (spec.helm?.imageTag ?? 'image.tag'))?.value;
}

/** The tag (or digest) a list of Kustomize overrides holds for an image. */
export function kustomizeTagIn(images: readonly string[], spec: ImageSpec): string | undefined {
  const key = spec.kustomizeImageName && spec.kustomizeImageName !== spec.image.name ? spec.kustomizeImageName : spec.image.name;
  const e = images.find((i) => kustomizeOverrideKey(i) === key);
  if (!e) return undefined;
  const ref = parseImageReference(e.includes('=') ? e.slice(e.indexOf('=') + 1) : e);
  return ref.digest ?? ref.tag;
}

export interface ImageChange {
  image: string;
  from?: string;
  to: string;
}

/** Image Updater's default commit message, naming every image and its tags. */
export function commitMessage(appName: string, changes: readonly ImageChange[]): string {
  const lines = changes.map((c) => `updates image ${c.image} tag '${c.from ?? ''}' to '${c.to}'`);
  return `build: automatic update of ${appName}\n\n${lines.join('\n')}\n`;
}

export const yamlText = (v: unknown): string => stringify(v, { indentSeq: false });
