// The frame every Explorer browser test file shares: Chromium gating (a missing Chromium fails the
// tests when TIES_TEST_BROWSER_REQUIRED=1, else skips them with the reason), a fresh Explorer build,
// a demo server and a browser per suite, one page with a default timeout, and the page's errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  BROWSER_REQUIRED,
  type Browser,
  chromiumMissing,
  type DemoServer,
  ensureExplorerBuilt,
  launchBrowser,
  openByEmail,
  signIn,
  startDemoServer,
} from './browser.js';

/** What a suite's tests use; valid from the suite's first `before` hook on. */
export interface ExplorerSuite {
  readonly page: Page;
  readonly server: DemoServer;
  /** Uncaught errors in the page, in order (tests assert it stays empty). */
  readonly pageErrors: string[];
  /** Opens the page and signs in with the token (the demo's by default). */
  signIn(token?: string): Promise<void>;
  /** Chooses the relation type, finds a profile by email and waits for its views to settle. */
  openByEmail(relId: number, email: string): Promise<void>;
  /** The text of one cell of the relations table: the row of profile `id`, the column `prop`. */
  cell(id: string, prop: string): Promise<string | null>;
  /** A `<dl>`'s terms and their values, e.g. the inspector's fields. */
  fields(id: string): Promise<Record<string, string | undefined>>;
}

export interface SuiteOptions {
  /** Names the suite in the "needs Chromium" and "skipped" tests, e.g. 'Explorer inspector'. */
  readonly name: string;
  /** The page's default timeout for waits and actions (10 s unless said). */
  readonly timeout?: number;
  /** Another reason to skip (never overrides the failure a required, missing Chromium causes). */
  readonly skip?: string;
}

/** `describe(title, { concurrency: 1 })` around `body`, run in Chromium against the demo server. */
export function describeInBrowser(
  title: string,
  options: SuiteOptions,
  body: (ctx: ExplorerSuite) => void,
): void {
  const missing = chromiumMissing();
  if (missing && BROWSER_REQUIRED) {
    test(`${options.name} needs Chromium (TIES_TEST_BROWSER_REQUIRED=1)`, () => assert.fail(missing));
    return;
  }
  const why = missing ?? options.skip;
  if (why) {
    test(`${options.name} — skipped: ${why}`, { skip: why }, () => {});
    return;
  }
  describe(title, { concurrency: 1 }, () => {
    let server: DemoServer | undefined;
    let browser: Browser | undefined;
    let page: Page | undefined;
    const pageErrors: string[] = [];
    const ready = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error('describeInBrowser: used before the suite started');
      return value;
    };
    const ctx: ExplorerSuite = {
      get page() {
        return ready(page);
      },
      get server() {
        return ready(server);
      },
      pageErrors,
      signIn: (token) => signIn(ctx.page, ctx.server, token),
      openByEmail: (relId, email) => openByEmail(ctx.page, relId, email),
      cell: (id, prop) =>
        ctx.page.textContent(`#relations-table tr[data-profile="${id}"] td[data-prop="${prop}"]`),
      async fields(id) {
        const terms = await ctx.page.locator(`#${id} dt`).allTextContents();
        const values = await ctx.page.locator(`#${id} dd`).allTextContents();
        return Object.fromEntries(terms.map((t, i) => [t, values[i]]));
      },
    };

    before(async () => {
      ensureExplorerBuilt();
      [server, browser] = await Promise.all([startDemoServer(), launchBrowser()]);
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
      page.setDefaultTimeout(options.timeout ?? 10_000);
      page.on('pageerror', (e) => pageErrors.push(e.message));
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    body(ctx);
  });
}
