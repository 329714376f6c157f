// The Explorer is safe for changing data (issue #17 items 1, 2, 4, 7, 8): every write shows
// "current → new" first, a strengthen starts empty, one selection drives every panel, loads show
// progress, a detach can be undone, and the page shows only what the token's rights allow and
// says why a session ended. Chromium via playwright-core against a real Ties with the demo data.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import { type DemoServer, inPage, settled, untilInPage } from '../support/browser.js';
import { describeInBrowser } from '../support/explorer-suite.js';

const OLGA = '669e6968ebf4ac52b623a997';

async function api(server: DemoServer, call: string, params: object, token = server.token) {
  const response = await fetch(`${server.url}api/v1.1/${call}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(params),
  });
  return (await response.json()) as { error: number; error_text: string; data?: unknown; token?: string };
}

describeInBrowser(
  'Explorer: safe changes, one selection, loading, rights',
  { name: 'Explorer safety' },
  (ctx) => {
    const writes: string[] = [];

    before(() => {
      ctx.page.on('request', (r) => {
        const call = /api\/v1\.1\/relations\/(attach|detach|strengthen|edit)$/.exec(r.url());
        if (call) writes.push(`${call[1]} ${r.postData()}`);
      });
    });

    test('strengthen starts empty; the change shows "current → new" and is sent only when confirmed', async () => {
      await ctx.signIn(ctx.server.token);
      await ctx.openByEmail(3, 'anna@example.com');
      writes.length = 0;
      await ctx.page.click(`#relations-table tr[data-profile="${OLGA}"] button.small-button`);
      assert.equal(await ctx.page.inputValue('#change-w-user_like'), '5', 'Change… fills the current values');
      await ctx.page.check('#op-strengthen');
      assert.equal(await ctx.page.inputValue('#change-w-user_like'), '', 'an increment starts empty');
      assert.equal(await ctx.page.inputValue('#change-w-donate'), '');
      await ctx.page.fill('#change-w-donate', '10');
      await ctx.page.press('#change-w-donate', 'Enter');
      await ctx.page.waitForSelector('#change-preview');
      assert.deepEqual(await ctx.page.locator('#change-preview li').allTextContents(), ['donate: 120 → 130']);
      assert.deepEqual(writes, [], 'nothing is sent before the confirmation');
      assert.equal(await ctx.page.textContent('#change-submit'), 'Confirm strengthen');

      // Back: nothing sent, the form is as it was.
      await ctx.page.click('#change-back');
      assert.equal(await ctx.page.locator('#change-preview').count(), 0);
      assert.deepEqual(writes, []);

      await ctx.page.press('#change-w-donate', 'Enter');
      await ctx.page.waitForSelector('#change-preview');
      await ctx.page.click('#change-submit');
      await untilInPage(ctx.page, (w) => w.document.getElementById('change-status')?.dataset.kind === 'ok');
      await settled(ctx.page);
      assert.equal(writes.length, 1);
      assert.deepEqual(JSON.parse(String(writes.at(-1)).slice('strengthen '.length)).weights, { donate: 10 });
      assert.equal(await ctx.cell(OLGA, 'donate'), '130');
      assert.equal(await ctx.cell(OLGA, 'user_like'), '5', 'the old user_like was not added again');
    });

    test('"1e3" in an integer field is not taken for 1000: the server names the field', async () => {
      await ctx.page.check('#op-strengthen');
      await ctx.page.fill('#change-w-donate', '1e3');
      await ctx.page.press('#change-w-donate', 'Enter');
      await ctx.page.waitForSelector('#change-preview');
      await ctx.page.click('#change-submit');
      await ctx.page.waitForSelector('[data-error-for="weights.donate"]');
      assert.match((await ctx.page.textContent('[data-error-for="weights.donate"]'))!, /^weights\.donate: /);
      assert.equal(await ctx.cell(OLGA, 'donate'), '130');
    });

    test('detach asks first, then offers Undo, which re-attaches with the previous values', async () => {
      await ctx.page.click(`#relations-table tr[data-profile="${OLGA}"] button.small-button`);
      await ctx.page.check('#op-detach');
      await ctx.page.click('#change-submit');
      await ctx.page.waitForSelector('#change-preview');
      assert.deepEqual(await ctx.page.locator('#change-preview li').allTextContents(), [
        'user_like: 5 → removed',
        'donate: 130 → removed',
        'is_online: false → removed',
      ]);
      assert.equal(await ctx.page.locator(`#relations-table tr[data-profile="${OLGA}"]`).count(), 1);
      await ctx.page.click('#change-submit');
      await ctx.page.waitForSelector('#change-undo');
      await settled(ctx.page);
      assert.equal(await ctx.page.locator(`#relations-table tr[data-profile="${OLGA}"]`).count(), 0);

      await ctx.page.click('#change-undo');
      await untilInPage(ctx.page, (w) =>
        /^Undone/.test(w.document.getElementById('change-status')!.textContent!),
      );
      await settled(ctx.page);
      assert.equal(await ctx.cell(OLGA, 'donate'), '130');
      assert.equal(await ctx.cell(OLGA, 'user_like'), '5');
      assert.equal(await ctx.cell(OLGA, 'is_online'), 'false');
    });

    test('one selection: a new type or a failed search leaves no profile of the previous one', async () => {
      await ctx.page.selectOption('#find-type', '1');
      assert.equal(
        await ctx.page.locator('#relations-table button.small-button').count(),
        0,
        'no Change… left',
      );
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), 0);
      assert.equal(await ctx.page.inputValue('#change-a-profile_id'), '', 'the form keeps no profile');
      assert.equal(await ctx.page.inputValue('#change-b-profile_id'), '');
      assert.equal(await inPage(ctx.page, (w) => w.tiesExplorer?.focal), undefined);

      await ctx.openByEmail(3, 'anna@example.com');
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), 3);
      await ctx.page.fill('#find-email', 'nobody@example.com');
      await ctx.page.press('#find-email', 'Enter');
      await ctx.page.waitForSelector('#find-form .field-error');
      await settled(ctx.page);
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), 0);
      assert.equal(await inPage(ctx.page, (w) => w.tiesExplorer?.graph?.cy.nodes().length), 0);
      assert.equal(await ctx.page.inputValue('#change-a-profile_id'), '');
    });

    test('loading: the panels are aria-busy, a spinner says so, and the search cannot be sent twice', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await ctx.page.route('**/api/v1.1/relations/get', async (route) => {
        await held;
        await route.continue();
      });
      await ctx.page.fill('#find-email', 'anna@example.com');
      await ctx.page.press('#find-email', 'Enter');
      await ctx.page.waitForSelector('#panels[aria-busy="true"]');
      assert.equal(await ctx.page.isDisabled('#find-submit'), true);
      assert.equal(await ctx.page.locator('#graph-status .spinner').count(), 1);
      assert.doesNotMatch((await ctx.page.textContent('#graph-status'))!, /Find a profile/);
      release();
      await settled(ctx.page);
      await ctx.page.unroute('**/api/v1.1/relations/get');
      await ctx.page.waitForSelector('#panels:not([aria-busy])');
      assert.equal(await ctx.page.isDisabled('#find-submit'), false);
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), 3);
    });

    test('a read-only token sees no change form and no Change…; it says why', async () => {
      const minted = await api(ctx.server, 'tokens/create', { name: 'reader', rights: ['read'] });
      assert.equal(minted.error, 0, minted.error_text);
      const readOnly = (minted.data as { token: string }).token;
      await inPage(ctx.page, (w) => w.sessionStorage.clear());
      await ctx.signIn(readOnly);
      assert.match((await ctx.page.textContent('#signed-in-as'))!, /read only/);
      await ctx.openByEmail(3, 'anna@example.com');
      assert.equal(await ctx.page.isVisible('#change-form'), false);
      assert.equal(await ctx.page.isVisible('#change-readonly'), true);
      assert.equal(await ctx.page.locator('#relations-table button.small-button').count(), 0);
    });

    test('when the token stops working the page signs out and says why; Admin is gone', async () => {
      const tokens = (await api(ctx.server, 'tokens/list', {})).data as { id: number; name: string }[];
      const reader = tokens.find((t) => t.name === 'reader')!;
      assert.equal((await api(ctx.server, 'tokens/revoke', { id: reader.id })).error, 0);
      await ctx.page.press('#find-email', 'Enter');
      await untilInPage(ctx.page, (w) => w.document.body.dataset.signedIn === 'false');
      assert.match((await ctx.page.textContent('#signin-reason'))!, /session ended: Ties no longer accepts/);
      assert.equal(await ctx.page.isVisible('#signin-reason'), true);
      assert.equal(await ctx.page.isVisible('#views'), false, 'no Admin to click while signed out');
      assert.equal(
        await inPage(ctx.page, (w) => w.sessionStorage.getItem('ties.explorer.token')),
        null,
        'the dead token is forgotten',
      );
    });

    test('no script failed', () => {
      assert.deepEqual(ctx.pageErrors, []);
      assert.ok(DEMO_AUTHOR_ID);
    });
  },
);
