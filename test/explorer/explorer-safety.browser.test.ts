// The Explorer is safe for changing data (issue #17 items 1, 2, 4, 7, 8): every write shows
// "current → new" first, a strengthen starts empty, one selection drives every panel, loads show
// progress, a detach can be undone, and the page shows only what the token's rights allow and
// says why a session ended. Chromium via playwright-core against a real Ties with the demo data.
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

async function api(server: DemoServer, call: string, params: object, token = server.token) {
  const response = await fetch(`${server.url}api/v1.1/${call}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(params),
  });
  return (await response.json()) as { error: number; error_text: string; data?: unknown; token?: string };
}

if (missing && BROWSER_REQUIRED) {
  test('the Explorer safety tests need Chromium (TIES_TEST_BROWSER_REQUIRED=1)', () => assert.fail(missing));
} else if (missing) {
  test(`Explorer safety — skipped: ${missing}`, { skip: missing }, () => {});
} else {
  describe('Explorer: safe changes, one selection, loading, rights', { concurrency: 1 }, () => {
    let server: DemoServer;
    let browser: Browser;
    let page: Page;
    const pageErrors: string[] = [];
    const writes: string[] = [];

    before(async () => {
      ensureExplorerBuilt();
      [server, browser] = await Promise.all([startDemoServer(), launchBrowser()]);
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
      page.on('request', (r) => {
        const call = /api\/v1\.1\/relations\/(attach|detach|strengthen|edit)$/.exec(r.url());
        if (call) writes.push(`${call[1]} ${r.postData()}`);
      });
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    async function signIn(token: string): Promise<void> {
      await page.goto(server.url);
      await untilInPage(page, (w) => w.document.body.dataset.ready === 'true');
      await page.fill('#token', token);
      await page.press('#token', 'Enter');
      await untilInPage(page, (w) => w.document.body.dataset.signedIn === 'true');
    }

    async function openAnna(): Promise<void> {
      await page.selectOption('#find-type', '3');
      await page.selectOption('#find-matching', 'email');
      await page.fill('#find-email', 'anna@example.com');
      await page.press('#find-email', 'Enter');
      await untilInPage(page, (w) => (w.tiesExplorer?.graph?.cy.nodes().length ?? 0) > 0);
      await settled(page);
    }

    const cell = (id: string, prop: string) =>
      page.textContent(`#relations-table tr[data-profile="${id}"] td[data-prop="${prop}"]`);

    test('strengthen starts empty; the change shows "current → new" and is sent only when confirmed', async () => {
      await signIn(server.token);
      await openAnna();
      writes.length = 0;
      await page.click(`#relations-table tr[data-profile="${OLGA}"] button.small-button`);
      assert.equal(await page.inputValue('#change-w-user_like'), '5', 'Change… fills the current values');
      await page.check('#op-strengthen');
      assert.equal(await page.inputValue('#change-w-user_like'), '', 'an increment starts empty');
      assert.equal(await page.inputValue('#change-w-donate'), '');
      await page.fill('#change-w-donate', '10');
      await page.press('#change-w-donate', 'Enter');
      await page.waitForSelector('#change-preview');
      assert.deepEqual(await page.locator('#change-preview li').allTextContents(), ['donate: 120 → 130']);
      assert.deepEqual(writes, [], 'nothing is sent before the confirmation');
      assert.equal(await page.textContent('#change-submit'), 'Confirm strengthen');

      // Back: nothing sent, the form is as it was.
      await page.click('#change-back');
      assert.equal(await page.locator('#change-preview').count(), 0);
      assert.deepEqual(writes, []);

      await page.press('#change-w-donate', 'Enter');
      await page.waitForSelector('#change-preview');
      await page.click('#change-submit');
      await untilInPage(page, (w) => w.document.getElementById('change-status')?.dataset.kind === 'ok');
      await settled(page);
      assert.equal(writes.length, 1);
      assert.deepEqual(JSON.parse(String(writes.at(-1)).slice('strengthen '.length)).weights, { donate: 10 });
      assert.equal(await cell(OLGA, 'donate'), '130');
      assert.equal(await cell(OLGA, 'user_like'), '5', 'the old user_like was not added again');
    });

    test('"1e3" in an integer field is not taken for 1000: the server names the field', async () => {
      await page.check('#op-strengthen');
      await page.fill('#change-w-donate', '1e3');
      await page.press('#change-w-donate', 'Enter');
      await page.waitForSelector('#change-preview');
      await page.click('#change-submit');
      await page.waitForSelector('[data-error-for="weights.donate"]');
      assert.match((await page.textContent('[data-error-for="weights.donate"]'))!, /^weights\.donate: /);
      assert.equal(await cell(OLGA, 'donate'), '130');
    });

    test('detach asks first, then offers Undo, which re-attaches with the previous values', async () => {
      await page.click(`#relations-table tr[data-profile="${OLGA}"] button.small-button`);
      await page.check('#op-detach');
      await page.click('#change-submit');
      await page.waitForSelector('#change-preview');
      assert.deepEqual(await page.locator('#change-preview li').allTextContents(), [
        'user_like: 5 → removed',
        'donate: 130 → removed',
        'is_online: false → removed',
      ]);
      assert.equal(await page.locator(`#relations-table tr[data-profile="${OLGA}"]`).count(), 1);
      await page.click('#change-submit');
      await page.waitForSelector('#change-undo');
      await settled(page);
      assert.equal(await page.locator(`#relations-table tr[data-profile="${OLGA}"]`).count(), 0);

      await page.click('#change-undo');
      await untilInPage(page, (w) =>
        /^Undone/.test(w.document.getElementById('change-status')!.textContent!),
      );
      await settled(page);
      assert.equal(await cell(OLGA, 'donate'), '130');
      assert.equal(await cell(OLGA, 'user_like'), '5');
      assert.equal(await cell(OLGA, 'is_online'), 'false');
    });

    test('one selection: a new type or a failed search leaves no profile of the previous one', async () => {
      await page.selectOption('#find-type', '1');
      assert.equal(await page.locator('#relations-table button.small-button').count(), 0, 'no Change… left');
      assert.equal(await page.locator('#relations-table tbody tr[data-profile]').count(), 0);
      assert.equal(await page.inputValue('#change-a-profile_id'), '', 'the form keeps no profile');
      assert.equal(await page.inputValue('#change-b-profile_id'), '');
      assert.equal(await inPage(page, (w) => w.tiesExplorer?.focal), undefined);

      await openAnna();
      assert.equal(await page.locator('#relations-table tbody tr[data-profile]').count(), 3);
      await page.fill('#find-email', 'nobody@example.com');
      await page.press('#find-email', 'Enter');
      await page.waitForSelector('#find-form .field-error');
      await settled(page);
      assert.equal(await page.locator('#relations-table tbody tr[data-profile]').count(), 0);
      assert.equal(await inPage(page, (w) => w.tiesExplorer?.graph?.cy.nodes().length), 0);
      assert.equal(await page.inputValue('#change-a-profile_id'), '');
    });

    test('loading: the panels are aria-busy, a spinner says so, and the search cannot be sent twice', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await page.route('**/api/v1.1/relations/get', async (route) => {
        await held;
        await route.continue();
      });
      await page.fill('#find-email', 'anna@example.com');
      await page.press('#find-email', 'Enter');
      await page.waitForSelector('#panels[aria-busy="true"]');
      assert.equal(await page.isDisabled('#find-submit'), true);
      assert.equal(await page.locator('#graph-status .spinner').count(), 1);
      assert.doesNotMatch((await page.textContent('#graph-status'))!, /Find a profile/);
      release();
      await settled(page);
      await page.unroute('**/api/v1.1/relations/get');
      await page.waitForSelector('#panels:not([aria-busy])');
      assert.equal(await page.isDisabled('#find-submit'), false);
      assert.equal(await page.locator('#relations-table tbody tr[data-profile]').count(), 3);
    });

    test('a read-only token sees no change form and no Change…; it says why', async () => {
      const minted = await api(server, 'tokens/create', { name: 'reader', rights: ['read'] });
      assert.equal(minted.error, 0, minted.error_text);
      const readOnly = (minted.data as { token: string }).token;
      await inPage(page, (w) => w.sessionStorage.clear());
      await signIn(readOnly);
      assert.match((await page.textContent('#signed-in-as'))!, /read only/);
      await openAnna();
      assert.equal(await page.isVisible('#change-form'), false);
      assert.equal(await page.isVisible('#change-readonly'), true);
      assert.equal(await page.locator('#relations-table button.small-button').count(), 0);
    });

    test('when the token stops working the page signs out and says why; Admin is gone', async () => {
      const tokens = (await api(server, 'tokens/list', {})).data as { id: number; name: string }[];
      const reader = tokens.find((t) => t.name === 'reader')!;
      assert.equal((await api(server, 'tokens/revoke', { id: reader.id })).error, 0);
      await page.press('#find-email', 'Enter');
      await untilInPage(page, (w) => w.document.body.dataset.signedIn === 'false');
      assert.match((await page.textContent('#signin-reason'))!, /session ended: Ties no longer accepts/);
      assert.equal(await page.isVisible('#signin-reason'), true);
      assert.equal(await page.isVisible('#views'), false, 'no Admin to click while signed out');
      assert.equal(
        await inPage(page, (w) => w.sessionStorage.getItem('ties.explorer.token')),
        null,
        'the dead token is forgotten',
      );
    });

    test('no script failed', () => {
      assert.deepEqual(pageErrors, []);
      assert.ok(DEMO_AUTHOR_ID);
    });
  });
}
