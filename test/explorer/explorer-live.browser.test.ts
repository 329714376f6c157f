// The Explorer's live updates (issue #16): with a profile open, changes another client makes to its
// relations (attach, strengthen, detach) appear in the table and the graph without a reload, through
// the change stream; a change elsewhere refreshes nothing; the indicator says the page is live.
// Chromium via playwright-core against a real Ties with the demo data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Route } from 'playwright-core';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import { demoCall, inPage, type PageWindow, settled, untilInPage } from '../support/browser.js';
import { describeInBrowser } from '../support/explorer-suite.js';

/** What live-updates.ts shows the tests. */
type LiveWindow = PageWindow & {
  readonly tiesLive?: {
    readonly state: string;
    readonly received: number;
    readonly relevant: number;
    readonly refreshes: number;
    readonly skipped: number;
  };
};

describeInBrowser(
  'Explorer: live updates from the change stream',
  { name: 'Explorer live updates' },
  (ctx) => {
    const live = () => inPage(ctx.page, (w: LiveWindow) => ({ ...w.tiesLive! }));
    const row = (id: string) => ctx.page.locator(`#relations-table tr[data-profile="${id}"]`);
    const inGraph = (id: string) =>
      inPage(
        ctx.page,
        (w, nodeId) => w.tiesExplorer?.graph?.cy.getElementById(nodeId).nonempty() ?? false,
        id,
      );

    test('another client attaches, strengthens and detaches: the open table and graph follow without a reload', async () => {
      await ctx.signIn();
      await ctx.openByEmail(3, 'anna@example.com');
      await untilInPage(ctx.page, (w: LiveWindow) => w.tiesLive?.state === 'live');
      assert.match((await ctx.page.textContent('#live-status'))!, /Live/);
      assert.equal(await ctx.page.getAttribute('#live-status', 'role'), 'status');
      assert.equal(await row(DEMO_AUTHOR_ID).count(), 0);
      const rowsBefore = await ctx.page.locator('#relations-table tbody tr[data-profile]').count();

      const types = (await demoCall(ctx.server, 'relations/types/list', {})).data as {
        rel_id: number;
        db_a: number;
        db_b: number;
      }[];
      const donates = types.find((t) => t.rel_id === 3)!;
      const other = types.find((t) => t.rel_id !== 3)!;
      const reader = async (db: number) =>
        (await demoCall(ctx.server, 'profiles/add', { db_id: db, data: {} })).profile_id as string;
      const [x, y, newcomer] = [
        await reader(other.db_a),
        await reader(other.db_b),
        await reader(donates.db_b),
      ];

      // A change of another type between profiles the page does not show: received, not refreshed.
      await demoCall(ctx.server, 'relations/attach', {
        rel_id: other.rel_id,
        profile_a: { profile_id: x },
        profile_b: { profile_id: y },
        weights: {},
      });
      await untilInPage(ctx.page, (w: LiveWindow) => (w.tiesLive?.received ?? 0) >= 1);
      assert.deepEqual(
        (({ received, relevant }) => ({ received, relevant }))(await live()),
        { received: 1, relevant: 0 },
        'an unrelated change touches nothing on the page',
      );

      // Another client attaches to Anna: the table and the graph show it without a reload.
      const pair = {
        rel_id: 3,
        profile_a: { profile_id: DEMO_AUTHOR_ID },
        profile_b: { profile_id: newcomer },
      };
      await demoCall(ctx.server, 'relations/attach', { ...pair, weights: { donate: 7 } });
      await row(newcomer).waitFor();
      await settled(ctx.page);
      assert.equal(await ctx.cell(newcomer, 'donate'), '7');
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), rowsBefore + 1);
      assert.equal(await inGraph(newcomer), true);
      const after = await live();
      assert.deepEqual({ received: after.received, relevant: after.relevant }, { received: 2, relevant: 1 });

      // Strengthened elsewhere: the cell follows.
      await demoCall(ctx.server, 'relations/strengthen', { ...pair, weights: { donate: 5 } });
      await untilInPage(
        ctx.page,
        (w, id) =>
          [
            ...w.document.querySelectorAll(
              `#relations-table tr[data-profile="${id}"] td[data-prop="donate"]`,
            ),
          ][0]?.textContent === '12',
        newcomer,
      );

      // Detached elsewhere: the row and the node go.
      await demoCall(ctx.server, 'relations/detach', pair);
      await untilInPage(
        ctx.page,
        (w, id) => [...w.document.querySelectorAll(`#relations-table tr[data-profile="${id}"]`)].length === 0,
        newcomer,
      );
      await settled(ctx.page);
      assert.equal(await inGraph(newcomer), false);
      assert.equal(await ctx.page.locator('#relations-table tbody tr[data-profile]').count(), rowsBefore);
      assert.deepEqual(ctx.pageErrors, []);
    });

    test("the page's own write comes back on the stream and is not read again: the form refreshed it", async () => {
      const OLGA = '669e6968ebf4ac52b623a997';
      const before = await live();
      await ctx.page.click(`#relations-table tr[data-profile="${OLGA}"] button.small-button`);
      await ctx.page.check('#op-strengthen');
      await ctx.page.fill('#change-w-donate', '1');
      await ctx.page.press('#change-w-donate', 'Enter');
      await ctx.page.waitForSelector('#change-preview');
      await ctx.page.click('#change-submit');
      await untilInPage(ctx.page, (w) => w.document.getElementById('change-status')?.dataset.kind === 'ok');
      await untilInPage(ctx.page, (w: LiveWindow, n) => (w.tiesLive?.skipped ?? 0) > n, before.skipped);
      await settled(ctx.page);
      const after = await live();
      assert.equal(after.received, before.received + 1);
      assert.equal(after.refreshes, before.refreshes, 'no second refresh of what the form refreshed');
      assert.equal(await ctx.cell(OLGA, 'donate'), '121');
    });

    test('signing out closes the stream and hides the indicator', async () => {
      await ctx.page.click('#signout');
      await untilInPage(ctx.page, (w) => w.document.body.dataset.signedIn === 'false');
      assert.equal(await ctx.page.isHidden('#live-status'), true);
    });

    test('the indicator says when the stream is cut (reconnecting, then live again) and when the feed is off', async () => {
      const stream = '**/api/v1.1/relations/changes/stream**';
      await ctx.page.route(stream, (route) => route.abort());
      await ctx.signIn();
      await untilInPage(ctx.page, (w: LiveWindow) => w.tiesLive?.state === 'reconnecting');
      assert.match((await ctx.page.textContent('#live-status'))!, /reconnecting/);
      await ctx.page.unroute(stream);
      await untilInPage(ctx.page, (w: LiveWindow) => w.tiesLive?.state === 'live', null, { timeout: 30_000 });

      // A server with TIES_FEED=off: the stream and relations/changes answer 409 FEED_DISABLED.
      const off = (route: Route) =>
        route.fulfill({
          status: 409,
          contentType: 'application/json',
          body: JSON.stringify({
            error: 409,
            error_text:
              'relations/changes: the change feed is off on this server (TIES_FEED=off); turn it on to use the feed',
          }),
        });
      await ctx.page.route('**/api/v1.1/relations/changes**', off);
      await ctx.page.reload();
      await untilInPage(ctx.page, (w: LiveWindow) => w.tiesLive?.state === 'off');
      assert.match((await ctx.page.textContent('#live-status'))!, /TIES_FEED=off/);
      await ctx.page.unroute('**/api/v1.1/relations/changes**');
      assert.deepEqual(ctx.pageErrors, []);
    });
  },
);
