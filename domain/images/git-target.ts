// Which file a git write-back edits and what it becomes, from the file's current text.
// Paths are resolved against the Application's source path (or the repository root for a
// leading '/') and must stay inside the repository.

import type { ImageSpec, WriteBackTarget } from './annotations';
import { valueKey } from './selection';
import {
  argocdSourceFileName,
  helmParametersFor,
  helmParametersIn,
  helmSourceFile,
  helmTagIn,
  helmValueAt,
  helmValuesWith,
  kustomizationTag,
  kustomizationWithImage,
  kustomizeImageFor,
  kustomizeImagesIn,
  kustomizeSourceFile,
  kustomizeTagIn,
  WriteBackError,
  type ChosenImage,
} from './write-back';

/** directory: a plain-directory source, written through marker comments (domain/images/markers.ts). */
export type SourceKind = 'helm' | 'kustomize' | 'directory';

export interface ImageUpdate {
  spec: ImageSpec;
  chosen: ChosenImage;
}

/** A repository-relative path with `.` and `..` resolved; a leading '..' means it climbs out. */
function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The repository-relative file a write-back edits; throws for a path leaving the repository. */
export function writeBackFile(target: WriteBackTarget, appPath: string, appName: string): string {
  const rel = (p: string) => normalize(p.startsWith('/') ? p : `${appPath}/${p}`);
  let file: string;
  if (target.kind === 'argocd-source') file = rel(argocdSourceFileName(appName));
  else if (target.kind === 'kustomization') file = normalize(`${rel(target.path)}/kustomization.yaml`);
  else file = rel(target.path);
  if (file === '' || file.split('/')[0] === '..' || file.split('/').includes('.git'))
    throw new WriteBackError(`write-back file ${file} is outside the repository`);
  return file;
}

/** The new text of the write-back file (identical when nothing changes). */
export function applyToFile(target: WriteBackTarget, kind: SourceKind, text: string | undefined, updates: readonly ImageUpdate[]): string {
  if (target.kind === 'kustomization') {
    if (text === undefined) throw new WriteBackError('the kustomization file does not exist');
    return updates.reduce((t, u) => kustomizationWithImage(t, u.spec, u.chosen), text);
  }
  if (target.kind === 'helmvalues') {
    if (text === undefined) throw new WriteBackError('the Helm values file does not exist');
    return helmValuesWith(
      text,
      updates.flatMap((u) => helmParametersFor(u.spec, u.chosen)),
    );
  }
  return kind === 'helm'
    ? helmSourceFile(
        text,
        updates.flatMap((u) => helmParametersFor(u.spec, u.chosen)),
      )
    : kustomizeSourceFile(
        text,
        updates.map((u) => kustomizeImageFor(u.spec, u.chosen)),
      );
}

/** The value (tag or digest) the write-back file holds for an image now. */
export function currentInFile(target: WriteBackTarget, kind: SourceKind, text: string | undefined, spec: ImageSpec): string | undefined {
  if (target.kind === 'kustomization') return valueKey(kustomizationTag(text, spec));
  if (target.kind === 'helmvalues') {
    const name = spec.helm?.imageSpec ?? spec.helm?.imageTag ?? 'image.tag';
    const v = helmValueAt(text, name);
    return valueKey(spec.helm?.imageSpec ? helmTagIn([{ name, value: v ?? '' }], spec) : v);
  }
  return valueKey(kind === 'helm' ? helmTagIn(helmParametersIn(text), spec) : kustomizeTagIn(kustomizeImagesIn(text), spec));
}
