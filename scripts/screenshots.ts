// Saves screenshots of the Explorer's main views to docs/screenshots/ (npm run screenshots): a real
// Ties with the demo workspace, driven in Debian's Chromium like the browser tests.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { DEMO_AUTHOR_ID, DEMO_READER_ID } from '../src/demo.js';
import {
  chromiumMissing,
  clickNode,
  ensureExplorerBuilt,
  inPage,
  launchBrowser,
  settled,
  startDemoServer,
  untilInPage,
} from '../test/support/browser.js';

const OUT = join('docs', 'screenshots');

async function submitChange(
  page: Page,
  op: string,
  email: string,
  donate: string,
  /** Runs while the preview is shown, before the change is confirmed. */
  before?: () => Promise<void>,
): Promise<void> {
  await page.check(`#op-${op}`);
  await page.selectOption('#change-a-matching', 'profile_id');
  await page.fill('#change-a-profile_id', DEMO_AUTHOR_ID);
  await page.selectOption('#change-b-matching', 'email');
  await page.fill('#change-b-email', email);
  await page.fill('#change-w-donate', donate);
  await inPage(page, (w) => {
    delete w.document.getElementById('change-status')!.dataset.kind;
  });
  await page.press('#change-w-donate', 'Enter');
  // The form first shows "current → new"; the next Enter (focus is on Confirm) sends it.
  await page.waitForSelector('#change-preview');
  await before?.();
  await page.keyboard.press('Enter');
  await untilInPage(page, (w) => {
    const kind = w.document.getElementById('change-status')?.dataset.kind;
    return kind === 'ok' || kind === 'error';
  });
  await settled(page);
}

async function main(): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  ensureExplorerBuilt();
  mkdirSync(OUT, { recursive: true });
  const server = await startDemoServer();
  const browser = await launchBrowser();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    const shot = async (name: string, selector?: string) => {
      const path = join(OUT, `${name}.png`);
      if (selector) await page.locator(selector).screenshot({ path });
      else await page.screenshot({ path });
      console.log(`saved ${path}`);
    };
    await page.goto(server.url);
    await page.fill('#token', server.token);
    await page.press('#token', 'Enter');
    await page.waitForSelector('#find-type option[value="3"]', { state: 'attached' });
    await page.selectOption('#find-type', '3');
    await page.selectOption('#find-matching', 'email');
    await page.fill('#find-email', 'anna@example.com');
    await page.press('#find-email', 'Enter');
    await untilInPage(page, (w) => (w.tiesExplorer?.graph?.cy.nodes().length ?? 0) > 0);
    await settled(page);

    // Ivan's first donation to Anna, so that Anna has four donors and Ivan a second relation.
    await submitChange(page, 'strengthen', 'ivan@example.com', '25', () => shot('preview', '.change-panel'));
    await page.selectOption('#width-property', 'donate');
    // The graph draws the strongest by the chosen property again.
    await settled(page);
    await inPage(page, (w) => w.scrollTo(0, 0));
    await shot('graph');
    await shot('table', '.table-panel');
    await shot('counter', '.counter-panel');

    await submitChange(page, 'strengthen', 'ivan@example.com', '2.5');
    await shot('form-error', '.change-panel');

    // A neighbour expanded: Ivan's relations join the graph.
    await clickNode(page, DEMO_READER_ID);
    await shot('graph-expanded', '.graph-panel');

    await page.click('#views button[data-view="admin"]');
    await page.waitForSelector('#admin table');
    await shot('admin');

    await page.click('#views button[data-view="relations"]');
    await page.setViewportSize({ width: 390, height: 844 });
    await inPage(page, (w) => w.scrollTo(0, 0));
    await page.waitForTimeout(200);
    await shot('phone');
  } finally {
    await browser.close();
    await server.close();
  }
}

await main();
