// Accessibility (issue #17 item 10): axe-core, the engine behind most accessibility checkers, finds
// ZERO violations on every view — sign-in, a profile open, the inspector showing a relation, the
// admin view — on a desktop (1280×800) and a phone (390×844); on the phone the table's Change…
// column can be reached (the table scrolls, by keyboard too, and says so).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import { inPage, settled, untilInPage } from '../support/browser.js';
import { describeInBrowser } from '../support/explorer-suite.js';

const OLGA = '669e6968ebf4ac52b623a997';
/**
 * axe-core's browser build (a devDependency, so `npm ci` always has it). A checkout whose
 * node_modules predates it skips these tests with a reason, except in CI where they must run.
 */
function axeSource(): string | undefined {
  try {
    return readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  } catch {
    return undefined;
  }
}
const AXE_SOURCE = axeSource();
const axeMissing =
  AXE_SOURCE === undefined && process.env.CI !== 'true'
    ? 'axe-core is not installed (npm install)'
    : undefined;
const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;

interface Violation {
  readonly id: string;
  readonly help: string;
  readonly targets: string[];
}

/** axe-core's violations on the page as it is (its source evaluated, as the page's policy has no inline scripts). */
async function violations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE!);
  return (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
      id: v.id, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) })))`,
  )) as Violation[];
}

describeInBrowser(
  'Explorer: zero axe violations on every view, desktop and phone',
  { name: 'Explorer accessibility', skip: axeMissing },
  (ctx) => {
    for (const size of SIZES) {
      const at = `${size.width}×${size.height}`;

      test(`${at}: sign-in`, async () => {
        await ctx.page.setViewportSize(size);
        await inPage(ctx.page, (w) => w.sessionStorage.clear()).catch(() => undefined);
        await ctx.page.goto(ctx.server.url);
        await untilInPage(ctx.page, (w) => w.document.body.dataset.ready === 'true');
        assert.deepEqual(await violations(ctx.page), []);
      });

      test(`${at}: a profile open (graph, table, aggregates, change form, inspector)`, async () => {
        await ctx.page.fill('#token', ctx.server.token);
        await ctx.page.press('#token', 'Enter');
        await untilInPage(ctx.page, (w) => w.document.body.dataset.signedIn === 'true');
        await ctx.page.selectOption('#find-type', '3');
        await ctx.page.selectOption('#find-matching', 'email');
        await ctx.page.fill('#find-email', 'anna@example.com');
        await ctx.page.press('#find-email', 'Enter');
        await untilInPage(ctx.page, (w, id) => w.tiesExplorer?.focal?.id === id, DEMO_AUTHOR_ID);
        await settled(ctx.page);
        assert.deepEqual(await violations(ctx.page), []);
      });

      test(`${at}: the inspector showing a relation, and the change form previewing a detach`, async () => {
        await ctx.page.focus('#graph');
        await ctx.page.keyboard.press('ArrowRight');
        await untilInPage(ctx.page, (w) =>
          /^Relation /.test(w.document.getElementById('inspector-title')!.textContent!),
        );
        await ctx.page.click('#inspector-detach');
        await ctx.page.waitForSelector('#change-preview');
        assert.deepEqual(await violations(ctx.page), []);
        await ctx.page.click('#change-back');
      });

      test(`${at}: the table's Change… column can be reached, by keyboard too`, async () => {
        const scroller = ctx.page.locator('#table-root .table-scroll');
        assert.equal(await scroller.getAttribute('tabindex'), '0', 'a scrollable region takes focus');
        assert.ok(await scroller.getAttribute('aria-label'), 'and says what it is');
        const change = ctx.page.locator(`#relations-table tr[data-profile="${OLGA}"] button.small-button`);
        await change.scrollIntoViewIfNeeded();
        assert.equal(await change.isVisible(), true);
        const box = (await change.boundingBox())!;
        assert.ok(
          box.x >= 0 && box.x + box.width <= size.width,
          `Change… is on screen at ${at}: ${JSON.stringify(box)}`,
        );
      });

      test(`${at}: the admin view (headings in order)`, async () => {
        await ctx.page.click('#views button[data-view="admin"]');
        await ctx.page.waitForSelector('#admin h2');
        await settled(ctx.page);
        const levels = await inPage(ctx.page, (w) =>
          [
            ...w.document.querySelectorAll('#view-admin h1, #view-admin h2, #view-admin h3, #view-admin h4'),
          ].map((h) => Number(h.tagName.slice(1))),
        );
        for (let i = 1; i < levels.length; i++)
          assert.ok(levels[i]! <= levels[i - 1]! + 1, `heading levels skip: ${levels.join(' ')}`);
        assert.deepEqual(await violations(ctx.page), []);
        await ctx.page.click('#views button[data-view="relations"]');
      });
    }

    test('no script failed', () => {
      assert.deepEqual(ctx.pageErrors, []);
    });
  },
);
