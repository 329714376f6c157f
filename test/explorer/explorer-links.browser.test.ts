// Deep links (issue #17 item 9): the selected relation type and profile (with its database) live in
// the address; a reload shows the same view, Back and Forward move between selections, and a
// malformed or stale link shows the page without failing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import { inPage, settled, untilInPage } from '../support/browser.js';
import { describeInBrowser } from '../support/explorer-suite.js';

const OLGA = '669e6968ebf4ac52b623a997';

describeInBrowser(
  'Explorer: deep links, reload, Back and Forward',
  { name: 'Explorer deep links' },
  (ctx) => {
    const focal = () => inPage(ctx.page, (w) => w.tiesExplorer?.focal?.id);
    const hash = () => ctx.page.evaluate('location.hash') as Promise<string>;
    const readerDb = async () => {
      const response = await fetch(`${ctx.server.url}api/v1.1/profiles/get`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.server.token}` },
        body: JSON.stringify({ db_id: 1, matching: 'email', email: 'olga@example.com' }),
      });
      return ((await response.json()) as { error: number }).error === 0 ? 1 : 2;
    };
    async function untilFocal(id: string | undefined): Promise<void> {
      await untilInPage(ctx.page, (w, want) => (w.tiesExplorer?.focal?.id ?? null) === want, id ?? null);
      await settled(ctx.page);
    }

    test('the selection is written to the address as it changes', async () => {
      await ctx.page.goto(ctx.server.url);
      await untilInPage(ctx.page, (w) => w.document.body.dataset.ready === 'true');
      await ctx.page.fill('#token', ctx.server.token);
      await ctx.page.press('#token', 'Enter');
      await untilInPage(ctx.page, (w) => w.document.body.dataset.signedIn === 'true');
      await ctx.page.selectOption('#find-type', '3');
      assert.equal(await hash(), '#rel_id=3');
      await ctx.page.selectOption('#find-matching', 'email');
      await ctx.page.fill('#find-email', 'anna@example.com');
      await ctx.page.press('#find-email', 'Enter');
      await untilFocal(DEMO_AUTHOR_ID);
      assert.match(await hash(), new RegExp(`^#rel_id=3&db_id=\\d+&profile_id=${DEMO_AUTHOR_ID}$`));
      await ctx.page.click(`#relations-table tr[data-profile="${OLGA}"] button.link`);
      await untilFocal(OLGA);
      assert.equal(await hash(), `#rel_id=3&db_id=${await readerDb()}&profile_id=${OLGA}`);
    });

    test('Reload shows the same type and profile', async () => {
      await ctx.page.reload();
      await untilInPage(ctx.page, (w) => w.document.body.dataset.signedIn === 'true');
      await untilFocal(OLGA);
      assert.equal(await ctx.page.inputValue('#find-type'), '3');
      assert.equal(await ctx.page.textContent('#inspector-title'), 'Profile Olga');
      assert.equal((await ctx.page.locator('#relations-table tbody tr[data-profile]').count()) > 0, true);
    });

    test('Back returns to the previous profile, and Forward again', async () => {
      await ctx.page.goBack();
      await untilFocal(DEMO_AUTHOR_ID);
      assert.match((await ctx.page.textContent('#table-title'))!, /Anna Author/);
      await ctx.page.goBack();
      await untilFocal(undefined);
      assert.equal(await hash(), '#rel_id=3');
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), 0);
      await ctx.page.goForward();
      await untilFocal(DEMO_AUTHOR_ID);
      await ctx.page.goForward();
      await untilFocal(OLGA);
    });

    test('a malformed link shows the page without a profile and without an error', async () => {
      await ctx.page.goto(`${ctx.server.url}#rel_id=abc&db_id=1&profile_id=${'x'.repeat(80)}`);
      await untilInPage(ctx.page, (w) => w.document.body.dataset.signedIn === 'true');
      await settled(ctx.page);
      assert.equal(await focal(), undefined);
      assert.match(await hash(), /^#rel_id=\d+$/, 'the address says what is shown');
    });

    test('no script failed', () => {
      assert.deepEqual(ctx.pageErrors, []);
    });
  },
);
