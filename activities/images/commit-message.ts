// Renders the configured commit message template with the project's Go template engine
// (Go's text/template; the ApplicationSet function set, a superset of Image Updater's plain
// text/template, without env access).
import { commitMessageData, fallbackCommitMessage } from '../../domain/images/commit-message';
import type { ImageChange } from '../../domain/images/write-back';
import { renderGoTemplate } from '../templating/go-template';

export interface RenderedCommitMessage {
  text: string;
  /** Why the template was not used (the fallback message was). */
  problem?: string;
}

export async function renderCommitMessage(template: string, appName: string, changes: readonly ImageChange[]): Promise<RenderedCommitMessage> {
  try {
    const text = await renderGoTemplate(template, commitMessageData(appName, changes), { name: 'commitMessage' });
    if (text.trim() === '') return { text: fallbackCommitMessage(appName), problem: 'the commit message template rendered an empty message' };
    return { text };
  } catch (err) {
    return { text: fallbackCommitMessage(appName), problem: `commit message template: ${(err as Error).message}` };
  }
}
