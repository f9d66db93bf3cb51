// Debian's Chromium driven by playwright-core (never a downloaded browser), and axe-core injected
// from node_modules. Tests skip with a reason when /usr/bin/chromium is absent.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WEB_DIST } from '../../src/api/routes/index.js';
import { missing } from '../helpers/peers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SKIP = missing('chromium', existsSync(CHROMIUM), 'apt-get install chromium');
export const ARTIFACTS = 'test-artifacts';

export async function launch(): Promise<Browser> {
  // playwright's launch() gives each browser a fresh, temporary --user-data-dir.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Builds the console once when web/dist is missing (a checkout where only tsc ran). */
export function ensureConsoleBuilt(): void {
  if (existsSync(`${WEB_DIST}/index.html`)) return;
  execFileSync('npm', ['run', '-s', 'build:web'], { stdio: 'inherit' });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is now: the serious and critical violations, one line each. */
export async function axe(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  // A string runs in the page as is (the test's TypeScript has no DOM types).
  const res = await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) })))`,
  );
  return (res as { id: string; impact: string; targets: string[] }[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

/** Logs in on `path` and, from '/', waits for the landing page so a later goto is not overridden. */
export async function logIn(page: Page, base: string, username: string, password: string, path = '/'): Promise<void> {
  await page.goto(base + path);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  if (path === '/') await page.waitForURL((u) => u.pathname !== '/');
}
