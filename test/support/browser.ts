// Headless Chromium from Debian's packages (installed when absent), driven by
// playwright-core, for the dashboard's browser tests and bench. A fresh profile per
// launch, no network but the page's own (no sync, no component updates, no QUIC).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureDebianPackage } from '../../stack/toolchain';
import { repoRoot } from './paths';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureDebianPackage('chromium', CHROMIUM);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chromium-'));
  // playwright takes the profile as userDataDir (it refuses a --user-data-dir in args).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where a test's screenshots go: test-output/<name> in the repository, or under SLUICE_TEST_OUTPUT. */
export function testOutputDir(name: string): string {
  const dir = path.join(process.env.SLUICE_TEST_OUTPUT || path.join(repoRoot, 'test-output'), name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Logs in on the dashboard's login page with an API token. */
export async function logIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/#/login`);
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-page=applications][data-loaded=true]');
}
