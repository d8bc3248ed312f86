// Image Updater's commit message template (`git.commit-message-template` in the
// argocd-image-updater-config ConfigMap): a Go text/template given `.AppName` and
// `.AppChanges`, each with `.Image`, `.OldTag`, `.NewTag` and `.Labels` (the new image's
// labels; Sluice does not read them, so an empty map, as Image Updater gives an image
// without labels). A template that fails to render gives Image Updater's fallback message.
// Without a template the default message (write-back.ts commitMessage) is unchanged.

import type { ImageChange } from './write-back';

export const COMMIT_TEMPLATE_KEY = 'git.commit-message-template';
export const COMMIT_USER_KEY = 'git.user';
export const COMMIT_EMAIL_KEY = 'git.email';

export interface CommitMessageData {
  AppName: string;
  AppChanges: { Image: string; OldTag: string; NewTag: string; Labels: Record<string, string> }[];
}

export function commitMessageData(appName: string, changes: readonly ImageChange[]): CommitMessageData {
  return { AppName: appName, AppChanges: changes.map((c) => ({ Image: c.image, OldTag: c.from ?? '', NewTag: c.to, Labels: {} })) };
}

/** Image Updater's message when its template cannot be executed. */
export const fallbackCommitMessage = (appName: string): string => `build: update of application ${appName}`;
