// The Explorer end to end in a real browser: Debian's Chromium driven by playwright-core against a
// real Ties with the demo workspace. Skipped with a reason when Chromium is missing, unless
// TIES_TEST_BROWSER_REQUIRED=1 (CI), where a missing browser fails.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { DEMO_AUTHOR_ID, DEMO_READER_ID } from '../../src/demo.js';
import {
  BROWSER_REQUIRED,
  type Browser,
  chromiumMissing,
  clickNode,
  type DemoServer,
  ensureExplorerBuilt,
  inPage,
  launchBrowser,
  settled,
  startDemoServer,
  untilInPage,
} from '../support/browser.js';

const OLGA = '669e6968ebf4ac52b623a997';
const BORIS = '5c910f6bc484d023b1309bee';
const missing = chromiumMissing();

/** The graph's node and edge counts, as Cytoscape itself reports them in the page. */
const counts = (page: Page) =>
  inPage(page, (w) => {
    const g = w.tiesExplorer?.graph;
    return g ? { nodes: g.cy.nodes().length, edges: g.cy.edges().length } : { nodes: 0, edges: 0 };
  });

if (missing && BROWSER_REQUIRED) {
  test('the Explorer browser tests need Chromium (TIES_TEST_BROWSER_REQUIRED=1)', () => assert.fail(missing));
} else if (missing) {
  test(`Explorer in a real browser — skipped: ${missing}`, { skip: missing }, () => {});
} else {
  describe('Explorer in Chromium', { concurrency: 1 }, () => {
    let server: DemoServer;
    let browser: Browser;
    let page: Page;
    const foreignRequests: string[] = [];
    const scripts: string[] = [];
    const pageErrors: string[] = [];

    before(async () => {
      ensureExplorerBuilt();
      [server, browser] = await Promise.all([startDemoServer(), launchBrowser()]);
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      page.setDefaultTimeout(10_000);
      page.on('request', (r) => {
        if (!r.url().startsWith(server.url)) foreignRequests.push(r.url());
        else if (r.resourceType() === 'script') scripts.push(r.url().slice(server.url.length));
      });
      page.on('pageerror', (e) => pageErrors.push(e.message));
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    /** Sends the change form with the keyboard (Enter in the last field filled). */
    async function change(op: string, b: string, weights: Record<string, string>): Promise<void> {
      await page.check(`#op-${op}`);
      await page.selectOption('#change-a-matching', 'profile_id');
      await page.fill('#change-a-profile_id', DEMO_AUTHOR_ID);
      await page.selectOption('#change-b-matching', 'email');
      await page.fill('#change-b-email', b);
      let last = '#change-b-email';
      if (op !== 'detach')
        for (const el of await page.$$('#change-weights input[type="text"]')) await el.fill('');
      for (const [name, value] of Object.entries(weights)) {
        last = `#change-w-${name}`;
        await page.fill(last, value);
      }
      await inPage(page, (w) => {
        delete w.document.getElementById('change-status')!.dataset.kind;
      });
      await page.press(last, 'Enter');
      // Nothing is sent yet: the form shows "current → new" and waits for the confirmation.
      await page.waitForSelector('#change-preview');
      await page.keyboard.press('Enter');
      // The form reports ok only once the views show the change, or error once it is at its field.
      await untilInPage(page, (w) => {
        const kind = w.document.getElementById('change-status')?.dataset.kind;
        return kind === 'ok' || kind === 'error';
      });
      await settled(page);
    }

    test('/ is the Explorer, served with a strict content security policy', async () => {
      const response = await page.goto(server.url);
      assert.equal(response?.status(), 200);
      assert.match(response!.headers()['content-security-policy']!, /script-src 'self'/);
      assert.equal(await page.title(), 'Ties Explorer');
      await untilInPage(page, (w) => w.document.body.dataset.ready === 'true');
    });

    test('the page is one bundle (built with the typed client ties/client) beside Cytoscape', async () => {
      // The Explorer calls the API through src/client, bundled by esbuild: no module of its own is
      // fetched one by one, and there is no hand-written API client to drift from the call table.
      assert.deepEqual(scripts.sort(), ['explorer/explorer-main.js', 'vendor/cytoscape.min.js']);
      const bundle = await (await fetch(`${server.url}explorer/explorer-main.js`)).text();
      assert.match(bundle, /api\/v1\.1\//, 'the client builds the call paths');
      assert.doesNotMatch(bundle, /^import /m, 'nothing left to import at run time');
    });

    test('a wrong token is shown at the token field', async () => {
      await page.fill('#token', 'not-a-token');
      await page.press('#token', 'Enter');
      const error = page.locator('#signin-form .field-error');
      assert.equal(await error.textContent(), 'token: unknown or revoked');
      assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
      assert.equal(await inPage(page, (w) => w.document.activeElement?.id), 'token');
    });

    test('sign in, find a profile by email: its relations as a graph and a table', async () => {
      await page.fill('#token', server.token);
      await page.press('#token', 'Enter');
      await page.waitForSelector('#find-type option[value="3"]', { state: 'attached' });
      const storage = await inPage(page, (w) => ({
        session: w.sessionStorage.getItem('ties.explorer.token'),
        local: w.localStorage.length,
      }));
      assert.deepEqual(
        storage,
        { session: server.token, local: 0 },
        'the token lives in sessionStorage only',
      );

      await page.selectOption('#find-type', '3');
      await page.selectOption('#find-matching', 'email');
      await page.fill('#find-email', 'ANNA@example.com');
      await page.press('#find-email', 'Enter');
      await untilInPage(page, (w) => (w.tiesExplorer?.graph?.cy.nodes().length ?? 0) > 0);
      await settled(page);
      assert.deepEqual(await counts(page), { nodes: 4, edges: 3 }, 'Anna and her three donors');
      assert.equal(await inPage(page, (w) => w.tiesExplorer?.focal?.id), DEMO_AUTHOR_ID);
      assert.equal(await page.locator('#relations-table tbody tr').count(), 3);
      assert.equal(await page.textContent(`tr[data-profile="${OLGA}"] td[data-prop="donate"]`), '120');
      assert.equal(await page.textContent(`tr[data-profile="${OLGA}"] button.link`), 'Olga');
    });

    test('get_counter as a chart: top bars per property and the sums', async () => {
      const donate = page.locator('.counter-prop[data-prop="donate"]');
      assert.match((await donate.locator('figcaption').textContent())!, /on 3 relations · sum 660/);
      assert.deepEqual(await donate.locator('.bar-label').allTextContents(), ['Maria', 'Olga', 'Petr']);
      assert.deepEqual(await donate.locator('.bar-value').allTextContents(), ['500', '120', '40']);
      // Sums of different magnitudes are not bars on one scale: each is listed with its mean.
      const sums = page.locator('.counter-prop.sums');
      assert.equal(await sums.locator('.bar').count(), 0);
      assert.equal(await sums.locator('li[data-prop="donate"]').textContent(), 'donate: 660 · mean 220 on 3');
    });

    test('strengthen a relation: the new value shows in the table, the chart and the graph', async () => {
      await change('strengthen', 'olga@example.com', { donate: '10' });
      assert.equal(await page.getAttribute('#change-status', 'data-kind'), 'ok');
      assert.equal(await page.textContent('#change-status'), 'Strengthened: Olga → Anna Author');
      assert.equal(await page.textContent(`tr[data-profile="${OLGA}"] td[data-prop="donate"]`), '130');
      assert.match((await page.textContent('.counter-prop[data-prop="donate"] figcaption'))!, /sum 670/);
      const edge = await inPage(
        page,
        (w, id) => w.tiesExplorer!.graph!.cy.getElementById(id).data('props') as Record<string, unknown>,
        `${OLGA}->${DEMO_AUTHOR_ID}`,
      );
      assert.equal(edge.donate, 130);
    });

    test('server errors appear at the field they name', async () => {
      await change('strengthen', 'ivan@example.com', { donate: '1.5' });
      const weightError = page.locator('[data-error-for="weights.donate"]');
      assert.equal(await weightError.textContent(), 'weights.donate: expected an integer');
      assert.equal(await page.getAttribute('#change-w-donate', 'aria-invalid'), 'true');
      assert.equal(await inPage(page, (w) => w.document.activeElement?.id), 'change-w-donate');

      await change('strengthen', 'nobody@example.com', { donate: '1' });
      const sideError = page.locator('fieldset[data-param="profile_b"] > .field-error');
      assert.equal(await sideError.textContent(), 'profile_b: no profile matches');
      assert.equal(
        await page.locator('[data-error-for="weights.donate"]').count(),
        0,
        'old errors are cleared',
      );

      await change('attach', 'olga@example.com', { donate: '1' });
      assert.match(
        (await page.textContent('#change-form > .field-error'))!,
        /^relation: .* already has a relation/,
      );
      assert.equal(
        await page.textContent(`#relations-table tr[data-profile="${OLGA}"] td[data-prop="donate"]`),
        '130',
        'a refused call changes nothing',
      );
    });

    test('attach a new donor, then click it in the graph: its own relations are drawn', async () => {
      await change('attach', 'ivan@example.com', { donate: '5', user_like: '1' });
      assert.deepEqual(await counts(page), { nodes: 5, edges: 4 });
      await clickNode(page, DEMO_READER_ID);
      // Ivan initiated two relations of type 3: to Anna (drawn) and to Boris (new).
      assert.deepEqual(await counts(page), { nodes: 6, edges: 5 });
      assert.ok(
        await inPage(page, (w, id) => w.tiesExplorer!.graph!.cy.getElementById(id).nonempty(), BORIS),
      );
      const classes = await inPage(
        page,
        (w, [from, to]) => w.tiesExplorer!.graph!.cy.getElementById(`${from}->${to}`).classes(),
        [DEMO_READER_ID, BORIS] as const,
      );
      assert.ok(classes.includes('outgoing'), 'an edge the selected profile initiated is marked outgoing');
      assert.equal(await page.isChecked('#direction-outgoing'), true, 'the table follows: Ivan is B');
      assert.equal(await page.locator('#relations-table tbody tr').count(), 2);
    });

    test('the table pages with limit and offset, in profile id order', async () => {
      // Two more donors to Anna, through the API: six relations, two pages of five.
      for (const email of ['vera@example.com', 'yuri@example.com']) {
        const call = async (name: string, params: object) => {
          const res = await fetch(`${server.url}api/v1.1/${name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
            body: JSON.stringify(params),
          });
          assert.equal(((await res.json()) as { error: number }).error, 0, name);
        };
        await call('profiles/add', { db_id: 1, data: { email } });
        await call('relations/strengthen', {
          rel_id: 3,
          profile_a: { profile_id: DEMO_AUTHOR_ID },
          profile_b: { email },
          weights: { donate: 1 },
        });
      }
      await clickNode(page, DEMO_AUTHOR_ID);
      await page.selectOption('#page-size', '5');
      const status = (text: string) =>
        untilInPage(page, (w, t) => w.document.getElementById('table-status')?.textContent === t, text);
      const rowIds = () =>
        page
          .locator('#relations-table tbody tr')
          .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-profile')!));
      await status('Rows 1–5 of 6');
      const first = await rowIds();
      assert.deepEqual(first, [...first].sort(), 'rows come ordered by profile_id_b');
      await page.click('#page-next');
      await status('Rows 6–6 of 6');
      const second = await rowIds();
      assert.equal(second.length, 1);
      assert.ok(second[0]! > first.at(-1)!, 'the next page continues after the last row of the first');
      assert.equal(await page.isDisabled('#page-next'), true);
      await page.click('#page-prev');
      await status('Rows 1–5 of 6');
    });

    test('detach removes the relation from the table and the graph', async () => {
      await change('detach', 'yuri@example.com', {});
      assert.match((await page.textContent('#change-status'))!, /^Detached: .+ → Anna Author$/);
      await untilInPage(
        page,
        (w) => w.document.getElementById('table-status')?.textContent === 'Rows 1–5 of 5',
      );
      const edges = await inPage(page, (w) =>
        w.tiesExplorer!.graph!.cy.edges().map((e) => e.source().data('label') as string),
      );
      assert.ok(!edges.includes('yuri@example.com'), `no edge from Yuri left: ${edges.join(', ')}`);
      assert.ok(edges.includes('vera@example.com'), 'the refresh drew the other new donor');
    });

    test('a type within one database: a profile is loaded in both directions (found by phone)', async () => {
      const gets: string[] = [];
      const onRequest = (r: { url(): string; postData(): string | null }) => {
        if (r.url().endsWith('/api/v1.1/relations/get')) gets.push(r.postData() ?? '');
      };
      page.on('request', onRequest);
      await page.selectOption('#find-type', '1'); // referred: Readers → Readers
      await page.selectOption('#find-matching', 'phone');
      await page.fill('#find-phone', '+7 (900) 000 00 01');
      await page.press('#find-phone', 'Enter');
      await untilInPage(page, (w, id) => w.tiesExplorer?.focal?.id === id, DEMO_READER_ID);
      await settled(page);
      page.off('request', onRequest);
      // Ivan referred Olga and Petr (he is B of both); nobody referred him.
      assert.deepEqual(await counts(page), { nodes: 3, edges: 2 });
      const sides = gets.map((body) => (JSON.parse(body) as { side?: string }).side ?? 'a');
      assert.ok(sides.includes('a') && sides.includes('b'), `both directions asked: ${sides.join(', ')}`);
      assert.equal(
        await page.locator('#counter .counter-total').textContent(),
        '0 incoming relations of type referred to Ivan Reader.',
      );
      await page.selectOption('#find-type', '3');
      await page.selectOption('#find-matching', 'email');
    });

    test('the admin view lists databases, fields and relation types', async () => {
      await page.click('#views button[data-view="admin"]');
      await page.waitForSelector('#admin table');
      const text = (await page.textContent('#admin'))!;
      for (const expected of [
        'Readers',
        'Authors',
        'CRM_ID: string',
        'genres: tags',
        'donates',
        'donate: int · top 5 · sum',
        'Newsletter',
        'demo',
      ])
        assert.ok(text.includes(expected), `admin view lacks ${expected}`);
      await page.click('#views button[data-view="relations"]');
    });

    test('keyboard: focus is visible, and a phone-sized screen needs no sideways scrolling', async () => {
      await page.focus('#find-email');
      await page.keyboard.press('Tab');
      const outline = await inPage(page, (w) => w.getComputedStyle(w.document.activeElement!).outlineStyle);
      assert.notEqual(outline, 'none');
      await page.setViewportSize({ width: 390, height: 844 });
      // The graph follows its box a moment later (ResizeObserver); then the page must fit.
      await untilInPage(page, (w) => w.document.documentElement.scrollWidth <= w.innerWidth, null, {
        timeout: 2000,
      }).catch(() => {});
      const layout = await inPage(page, (w) => ({
        overflow: w.document.documentElement.scrollWidth - w.innerWidth,
        graph: w.document.getElementById('graph')!.getBoundingClientRect().width,
        // What sticks out, to make a failure easy to fix.
        wide: [...w.document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > w.innerWidth + 1)
          .slice(0, 5)
          .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`),
      }));
      assert.ok(
        layout.overflow <= 0,
        `the page is ${layout.overflow}px wider than the screen: ${layout.wide.join(', ')}`,
      );
      assert.ok(layout.graph > 300, 'the graph takes the width of the screen');
      await page.setViewportSize({ width: 1280, height: 800 });
    });

    test('nothing was fetched from anywhere but Ties, and no script failed', () => {
      assert.deepEqual(foreignRequests, []);
      assert.deepEqual(pageErrors, []);
    });
  });
}
