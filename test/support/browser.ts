// Browser end-to-end support: Debian's Chromium driven by playwright-core (never a downloaded
// browser), a Ties server with the demo workspace on a free port, and a fresh Explorer build.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type cytoscape from 'cytoscape';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createTies } from '../../src/core/ties.js';
import { loadDemo, rotateDemoToken } from '../../src/demo.js';
import { buildApp } from '../../src/http/app.js';
import { EXPLORER_DIR } from '../../src/http/explorer-routes.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TEST_APP_CONFIG } from './harness.js';

export const CHROMIUM_PATH = process.env.TIES_TEST_CHROMIUM || '/usr/bin/chromium';
/** CI sets it: a missing Chromium then fails the tests instead of skipping them. */
export const BROWSER_REQUIRED = process.env.TIES_TEST_BROWSER_REQUIRED === '1';

// Without these, Chromium on a closed network keeps trying to reach Google's services and floods
// the log with refusals; --no-sandbox because the tests may run as root in a container.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why the browser tests cannot run here, or undefined when Chromium is there. */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return `Chromium not found at ${CHROMIUM_PATH} (set TIES_TEST_CHROMIUM, or apt-get install chromium)`;
  }
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** One Chromium with a fresh profile directory, removed again on close. */
export async function launchBrowser(): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'ties-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface DemoServer {
  readonly url: string;
  readonly token: string;
  close(): Promise<void>;
}

/** Ties as `ties serve --demo` runs it, in process, on an in-memory SQLite store and a free port. */
export async function startDemoServer(): Promise<DemoServer> {
  const store = await openSqliteStore({ path: ':memory:' });
  const ties = createTies({ store });
  await loadDemo(ties);
  const token = await rotateDemoToken(ties);
  const app = await buildApp({ ties, config: TEST_APP_CONFIG });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    token,
    async close() {
      await app.close();
      await ties.close();
    },
  };
}

function newest(dir: string): number {
  return Math.max(...readdirSync(dir).map((name) => statSync(join(dir, name)).mtimeMs));
}

/** What the Explorer's bundle is built from: its own sources, and the client and call table it bundles. */
const EXPLORER_SOURCES = ['src/explorer', 'src/client', 'src/api'];

/** When dist/explorer was built, or 0 when it is missing. */
function builtAt(): number {
  try {
    return Math.min(
      ...['index.html', 'explorer-main.js'].map((f) => statSync(join(EXPLORER_DIR, f)).mtimeMs),
    );
  } catch {
    return 0;
  }
}

/**
 * Builds dist/explorer when it is missing or older than its sources (tests run without a build).
 * Test files run in parallel processes: one builds while the others wait on a lock file and then
 * find the build fresh — two builds at once would delete each other's files under a served page.
 */
export function ensureExplorerBuilt(): void {
  const fresh = () => builtAt() >= Math.max(...EXPLORER_SOURCES.map(newest));
  if (fresh()) return;
  mkdirSync(dirname(EXPLORER_DIR), { recursive: true });
  const lock = `${EXPLORER_DIR}.build-lock`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // A lock left by a killed process is taken over after a minute.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`explorer build: ${lock} is still held`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (fresh()) return;
    const result = spawnSync(process.execPath, ['scripts/build-explorer.mjs'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`explorer build failed:\n${result.stdout}${result.stderr}`);
  } finally {
    rmSync(lock, { force: true });
  }
}

// --- code that runs in the page ------------------------------------------------------------------
// The Node-side tsconfig has no DOM lib (so that server code cannot use browser globals by
// mistake); code run in the page is typed by this description of the little it touches instead.

interface PageElement {
  readonly id: string;
  readonly className: string;
  readonly tagName: string;
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
  scrollIntoView(options: { block: 'start' | 'center' | 'end' }): void;
  getBoundingClientRect(): {
    readonly left: number;
    readonly top: number;
    readonly right: number;
    readonly width: number;
  };
}

/** The page's globals, as far as the tests and the screenshot script use them. */
export interface PageWindow {
  readonly tiesExplorer?: {
    readonly busy: number;
    readonly focal?: { readonly id: string };
    readonly graph?: { readonly cy: cytoscape.Core };
  };
  readonly document: {
    readonly body: PageElement;
    readonly activeElement: PageElement | null;
    readonly documentElement: { readonly scrollWidth: number };
    getElementById(id: string): PageElement | null;
    querySelectorAll(selector: string): Iterable<PageElement>;
  };
  readonly innerWidth: number;
  readonly sessionStorage: { getItem(key: string): string | null; clear(): void };
  readonly localStorage: { readonly length: number };
  getComputedStyle(el: PageElement): { readonly outlineStyle: string };
  scrollTo(x: number, y: number): void;
  requestAnimationFrame(callback: () => void): number;
}

/** `fn` and its JSON argument as an expression Playwright evaluates in the page. */
function expression<A>(fn: (w: PageWindow, arg: A) => unknown, arg: A): string {
  return `(${fn.toString()})(globalThis, ${JSON.stringify(arg ?? null)})`;
}

/** Runs `fn` in the page with its globals and answers its (JSON-serialisable) result. */
export function inPage<R, A = null>(page: Page, fn: (w: PageWindow, arg: A) => R, arg?: A): Promise<R> {
  return page.evaluate(expression(fn, arg as A)) as Promise<R>;
}

/**
 * Waits until `fn` holds in the page. Polled from here: Playwright's waitForFunction would compile
 * the expression inside the page, which the Explorer's content security policy (no eval) forbids.
 */
export async function untilInPage<A = null>(
  page: Page,
  fn: (w: PageWindow, arg: A) => unknown,
  arg?: A,
  options: { timeout?: number } = {},
): Promise<void> {
  const timeout = options.timeout ?? 10_000;
  const deadline = Date.now() + timeout;
  const source = expression(fn, arg as A);
  while (!(await page.evaluate(source))) {
    if (Date.now() > deadline)
      throw new Error(`untilInPage: still false after ${timeout} ms: ${fn.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until the Explorer has no load in flight (opening a profile, refreshing, fetching names). */
export const settled = (page: Page) => untilInPage(page, (w) => w.tiesExplorer?.busy === 0);

/**
 * Waits for two animation frames in the page: by then the browser has run a frame's steps (a
 * scroll's `scroll` event, ResizeObserver callbacks) for whatever the test just changed.
 */
export const nextFrames = (page: Page) =>
  inPage(
    page,
    (w) => new Promise<void>((done) => w.requestAnimationFrame(() => w.requestAnimationFrame(done))),
  );

/**
 * Clicks a profile's node on the canvas where Cytoscape drew it, and waits for its relations. One
 * read of the point and one click: the graph does not move when the page scrolls or a scrollbar
 * comes (graph-viewport.ts), and a test that saw it move should fail. After scrolling the graph into
 * view the click waits for the next frames: Cytoscape caches where its box is on the page and
 * forgets it on the `scroll` event, which the browser sends at the next frame, so a click made
 * before that is placed by the box's old position (a person cannot click that fast).
 */
export async function clickNode(page: Page, id: string): Promise<void> {
  // Centred, not just "if needed": a graph half off the screen may hide the very node.
  await inPage(page, (w) => w.document.getElementById('graph')!.scrollIntoView({ block: 'center' }));
  await nextFrames(page);
  const point = await inPage(
    page,
    (w, nodeId) => {
      const cy = w.tiesExplorer!.graph!.cy;
      const p = cy.getElementById(nodeId).renderedPosition();
      const box = cy.container()!.getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y };
    },
    id,
  );
  await page.mouse.click(point.x, point.y);
  await untilInPage(page, (w, nodeId) => w.tiesExplorer?.focal?.id === nodeId, id);
  await settled(page);
}

// --- steps many Explorer tests share --------------------------------------------------------------

/** Opens the page and signs in with the token (the demo's by default). */
export async function signIn(page: Page, server: DemoServer, token = server.token): Promise<void> {
  await page.goto(server.url);
  await untilInPage(page, (w) => w.document.body.dataset.ready === 'true');
  await page.fill('#token', token);
  await page.press('#token', 'Enter');
  await untilInPage(page, (w) => w.document.body.dataset.signedIn === 'true');
}

/** Chooses the relation type, finds a profile by email and waits for its views to settle. */
export async function openByEmail(page: Page, relId: number, email: string): Promise<void> {
  await page.selectOption('#find-type', String(relId));
  await page.selectOption('#find-matching', 'email');
  await page.fill('#find-email', email);
  await page.press('#find-email', 'Enter');
  await untilInPage(page, (w) => (w.tiesExplorer?.graph?.cy.nodes().length ?? 0) > 0);
  await settled(page);
}

/** A call to the demo server with its token, as another client makes it; fails unless it succeeds. */
export async function demoCall(
  server: DemoServer,
  call: string,
  params: object,
): Promise<Record<string, any>> {
  const response = await fetch(`${server.url}api/v1.1/${call}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: JSON.stringify(params),
  });
  const body = (await response.json()) as Record<string, any>;
  if (body.error !== 0) throw new Error(`${call}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * An author (in the donates type's db_a) with `donors` new readers donating to it, added and
 * attached in batches; `donate(i)` is the i-th reader's donation (no other value: no user_like).
 * Answers the author's id and the readers' ids in order.
 */
export async function seedDonors(
  server: DemoServer,
  seed: { relId: number; email: string; name: string; donors: number; donate: (i: number) => number },
): Promise<{ author: string; readers: string[] }> {
  const type = (await demoCall(server, 'relations/types/get', { rel_id: seed.relId })).data;
  const author = (
    await demoCall(server, 'profiles/add', {
      db_id: type.db_a,
      data: { email: seed.email, _fname: seed.name },
    })
  ).profile_id as string;
  const readers: string[] = [];
  for (let start = 0; start < seed.donors; start += 10_000) {
    const data = Array.from({ length: Math.min(10_000, seed.donors - start) }, (_, i) => ({
      _fname: `Reader ${start + i}`,
    }));
    const added = await demoCall(server, 'profiles/add_batch', { db_id: type.db_b, data });
    readers.push(...(added.result as { profile_id: string }[]).map((r) => r.profile_id));
  }
  for (let i = 0; i < readers.length; i += 1000) {
    await demoCall(server, 'relations/attach_batch', {
      rel_id: seed.relId,
      items: readers.slice(i, i + 1000).map((id, k) => ({
        profile_a: { profile_id: author },
        profile_b: { profile_id: id },
        weights: { donate: seed.donate(i + k) },
      })),
    });
  }
  return { author, readers };
}
