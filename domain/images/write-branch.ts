// Image Updater's write branch template (`git-branch: <base>:<template>`, or the
// ImageUpdater resource's gitConfig.branch): the branch pushed to is a Go text/template
// given `.Images` (each `.Name`, `.Alias`, `.OldTag`, `.NewTag`) and `.SHA256`, a digest
// of the change list, so each set of changes gets its own branch (one pull request each).
// `.AppNamespace`, `.AppName` and `.TargetKey` are empty here, as Image Updater leaves them
// outside its pull-request mode. The rendered name is cut at 255 characters, as there.

import { safeBranch } from './annotations';
import { DOCKER_HUB, type ImageReference } from './reference';

export interface BranchChange {
  alias: string;
  image: ImageReference;
  /** The tag (or digest) written before; '' when none was. */
  from?: string;
  to: string;
}

export interface WriteBranchData {
  AppNamespace: string;
  AppName: string;
  TargetKey: string;
  Images: { Name: string; Alias: string; OldTag: string; NewTag: string }[];
  SHA256: string;
}

const MAX_BRANCH = 255;

export const isBranchTemplate = (branch: string): boolean => branch.includes('{{');

/** Image Updater's image name: the registry path, without Docker Hub's implied `library/`. */
export function templateImageName(image: ImageReference): string {
  const implied = image.registry === DOCKER_HUB && image.repository.startsWith('library/') && !image.name.split('/').includes('library');
  return implied ? image.repository.slice('library/'.length) : image.repository;
}

/** What SHA256 is the digest of: `<name>-<old>-<new>,` per change, in order. */
export const changeListDigestInput = (changes: readonly BranchChange[]): string =>
  changes.map((c) => `${templateImageName(c.image)}-${c.from ?? ''}-${c.to},`).join('');

export function writeBranchData(changes: readonly BranchChange[], sha256: string): WriteBranchData {
  return {
    AppNamespace: '',
    AppName: '',
    TargetKey: '',
    Images: changes.map((c) => ({ Name: templateImageName(c.image), Alias: c.alias, OldTag: c.from ?? '', NewTag: c.to })),
    SHA256: sha256,
  };
}

/** The rendered template as a branch: cut at 255 characters; an error for a name git could misread. */
export function writeBranchName(rendered: string, template: string): { branch: string } | { problem: string } {
  const branch = rendered.trim().slice(0, MAX_BRANCH);
  if (branch === '') return { problem: `git-branch template ${JSON.stringify(template)} rendered an empty branch name` };
  if (!safeBranch(branch))
    return { problem: `git-branch template ${JSON.stringify(template)} rendered ${JSON.stringify(branch)}, not a branch name git accepts` };
  return { branch };
}
