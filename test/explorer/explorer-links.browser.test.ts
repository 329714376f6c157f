// Deep links (issue #17 item 9): the selected relation type and profile (with its database) live in
// the address; a reload shows the same view, Back and Forward move between selections, and a
// malformed or stale link shows the page without failing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import {
  BROWSER_REQUIRED,
  type Browser,
  chromiumMissing,
  type DemoServer,
  ensureExplorerBuilt,
  inPage,
  launchBrowser,
  settled,
  startDemoServer,
  untilInPage,
} from '../support/browser.js';

const OLGA = '669e6968ebf4ac52b623a997';
const missing = chromiumMissing();

if (missing && BROWSER_REQUIRED) {
  test('the Explorer deep-link tests need Chromium (TIES_TEST_BROWSER_REQUIRED=1)', () =>
    assert.fail(missing));
} else if (missing) {
  test(`Explorer deep links — skipped: ${missing}`, { skip: missing }, () => {});
} else {
  describe('Explorer: deep links, reload, Back and Forward', { concurrency: 1 }, () => {
    let server: DemoServer;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];

    before(async () => {
      ensureExplorerBuilt();
      [server, browser] = await Promise.all([startDemoServer(), launchBrowser()]);
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    const focal = () => inPage(page, (w) => w.tiesExplorer?.focal?.id);
    const hash = () => page.evaluate('location.hash') as Promise<string>;
    const readerDb = async () => {
      const response = await fetch(`${server.url}api/v1.1/profiles/get`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
        body: JSON.stringify({ db_id: 1, matching: 'email', email: 'olga@example.com' }),
      });
      return ((await response.json()) as { error: number }).error === 0 ? 1 : 2;
    };
    async function untilFocal(id: string | undefined): Promise<void> {
      await untilInPage(page, (w, want) => (w.tiesExplorer?.focal?.id ?? null) === want, id ?? null);
      await settled(page);
    }

    test('the selection is written to the address as it changes', async () => {
      await page.goto(server.url);
      await untilInPage(page, (w) => w.document.body.dataset.ready === 'true');
      await page.fill('#token', server.token);
      await page.press('#token', 'Enter');
      await untilInPage(page, (w) => w.document.body.dataset.signedIn === 'true');
      await page.selectOption('#find-type', '3');
      assert.equal(await hash(), '#rel_id=3');
      await page.selectOption('#find-matching', 'email');
      await page.fill('#find-email', 'anna@example.com');
      await page.press('#find-email', 'Enter');
      await untilFocal(DEMO_AUTHOR_ID);
      assert.match(await hash(), new RegExp(`^#rel_id=3&db_id=\\d+&profile_id=${DEMO_AUTHOR_ID}$`));
      await page.click(`#relations-table tr[data-profile="${OLGA}"] button.link`);
      await untilFocal(OLGA);
      assert.equal(await hash(), `#rel_id=3&db_id=${await readerDb()}&profile_id=${OLGA}`);
    });

    test('Reload shows the same type and profile', async () => {
      await page.reload();
      await untilInPage(page, (w) => w.document.body.dataset.signedIn === 'true');
      await untilFocal(OLGA);
      assert.equal(await page.inputValue('#find-type'), '3');
      assert.equal(await page.textContent('#inspector-title'), 'Profile Olga');
      assert.equal((await page.locator('#relations-table tbody tr[data-profile]').count()) > 0, true);
    });

    test('Back returns to the previous profile, and Forward again', async () => {
      await page.goBack();
      await untilFocal(DEMO_AUTHOR_ID);
      assert.match((await page.textContent('#table-title'))!, /Anna Author/);
      await page.goBack();
      await untilFocal(undefined);
      assert.equal(await hash(), '#rel_id=3');
      assert.equal(await page.locator('#relations-table tbody tr[data-profile]').count(), 0);
      await page.goForward();
      await untilFocal(DEMO_AUTHOR_ID);
      await page.goForward();
      await untilFocal(OLGA);
    });

    test('a malformed link shows the page without a profile and without an error', async () => {
      await page.goto(`${server.url}#rel_id=abc&db_id=1&profile_id=${'x'.repeat(80)}`);
      await untilInPage(page, (w) => w.document.body.dataset.signedIn === 'true');
      await settled(page);
      assert.equal(await focal(), undefined);
      assert.match(await hash(), /^#rel_id=\d+$/, 'the address says what is shown');
    });

    test('no script failed', () => {
      assert.deepEqual(pageErrors, []);
    });
  });
}
