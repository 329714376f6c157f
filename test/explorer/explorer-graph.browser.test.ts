// The graph of a profile with 100 donors: the page scrolling or a scrollbar coming does not move
// the drawing or undo the user's zoom, "Fit to view" and a real resize of the window fit it; a
// profile whose relations lack the type's first numeric property is ranked by one they have; a
// live change keeps the relations "Show more" added and never shows a frame without them.
// Chromium via playwright-core against a real Ties with the demo data and a seeded author.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import {
  demoCall,
  inPage,
  nextFrames,
  type PageWindow,
  seedDonors,
  settled,
  untilInPage,
} from '../support/browser.js';
import { describeInBrowser } from '../support/explorer-suite.js';

const DONATES = 3;
const DONORS = 100;

/** What live-updates.ts shows the tests, and the frames a test watches. */
type FrameWindow = PageWindow & {
  readonly tiesLive?: { readonly state: string; readonly refreshes: number };
  watch?: { min: number; frames: number; stop: boolean };
};

/** The graph's zoom and pan, and where one node is on the page. */
type View = { zoom: number; pan: { x: number; y: number }; node: { x: number; y: number } };

describeInBrowser(
  'Explorer graph: its view, its default ranking and "Show more"',
  { name: 'Explorer graph' },
  (ctx) => {
    let author: string;

    before(async () => {
      // Donations 1..100, and none of them a user_like.
      ({ author } = await seedDonors(ctx.server, {
        relId: DONATES,
        email: 'gloria@example.com',
        name: 'Gloria',
        donors: DONORS,
        donate: (i) => i + 1,
      }));
    });

    const view = () =>
      inPage(
        ctx.page,
        (w, id): View => {
          const cy = w.tiesExplorer!.graph!.cy;
          const p = cy.getElementById(id).renderedPosition();
          const box = cy.container()!.getBoundingClientRect();
          return { zoom: cy.zoom(), pan: { ...cy.pan() }, node: { x: box.left + p.x, y: box.top + p.y } };
        },
        author,
      );
    /** Whether every node is inside the graph's box (what a fit guarantees). */
    const allInView = () =>
      inPage(ctx.page, (w) => {
        const cy = w.tiesExplorer!.graph!.cy;
        const e = cy.extent();
        return cy.nodes().every((n) => {
          const b = n.boundingBox();
          return b.x1 >= e.x1 && b.x2 <= e.x2 && b.y1 >= e.y1 && b.y2 <= e.y2;
        });
      });
    /** How far (model units) the drawing's middle is from the box's: a fit centres it. */
    const offCentre = () =>
      inPage(ctx.page, (w) => {
        const cy = w.tiesExplorer!.graph!.cy;
        const [e, b] = [cy.extent(), cy.elements().boundingBox()];
        return Math.max(Math.abs(e.x1 + e.x2 - b.x1 - b.x2), Math.abs(e.y1 + e.y2 - b.y1 - b.y2)) / 2;
      });
    const graphWidth = () =>
      inPage(ctx.page, (w) => w.document.getElementById('graph')!.getBoundingClientRect().width);
    /** Narrows the panels by `px`, as a vertical scrollbar coming does, or undoes it (0). */
    const scrollbarOf = async (px: number) => {
      await ctx.page.locator('#panels').evaluate((el, p) => {
        el.style.marginRight = p ? `${p}px` : '';
      }, px);
      await nextFrames(ctx.page);
    };

    /** The user zooms in to twice the size with the wheel over the graph's middle (the drawing's
     * outer ring is then out of view); answers the view then. */
    const zoomIn = async (): Promise<View> => {
      const before = (await view()).zoom;
      const box = (await ctx.page.locator('#graph').boundingBox())!;
      await ctx.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      // Cytoscape ignores the wheel for a moment after the page scrolled: turn it until it has zoomed.
      for (let turns = 0; (await view()).zoom < 2 * before; turns++) {
        assert.ok(turns < 100, 'the wheel zooms the graph');
        await ctx.page.mouse.wheel(0, -100);
        await nextFrames(ctx.page);
      }
      return view();
    };

    test('scrolling the page and a scrollbar coming move nothing; a user zoom stays until "Fit to view"', async () => {
      await ctx.signIn();
      await ctx.openByEmail(DONATES, 'gloria@example.com');
      const fitted = await view();
      assert.ok(await allInView(), 'the first drawing is fitted');

      // The page scrolls: the graph stays where it was in its box.
      await inPage(ctx.page, (w) => w.scrollTo(0, 200));
      await nextFrames(ctx.page);
      await inPage(ctx.page, (w) => w.scrollTo(0, 0));
      await nextFrames(ctx.page);
      assert.deepEqual(await view(), fitted, 'scrolling moved nothing');

      // A scrollbar's width taken from the page narrows the graph's box by a few px: no refit.
      const wide = await graphWidth();
      await scrollbarOf(15);
      assert.ok((await graphWidth()) < wide, 'the box did get narrower');
      assert.deepEqual(await view(), fitted, 'a scrollbar coming moved nothing');
      await scrollbarOf(0);
      assert.deepEqual(await view(), fitted, 'nor did it going');

      // The user zooms in with the wheel over the graph: their view survives a scrollbar.
      const zoomed = await zoomIn();
      await scrollbarOf(15);
      assert.deepEqual(await view(), zoomed, 'the user zoom stays through a scrollbar coming');
      await scrollbarOf(0);
      assert.deepEqual(await view(), zoomed);

      await ctx.page.click('#graph-fit');
      assert.equal((await view()).zoom, fitted.zoom, '"Fit to view" fits the drawing again');
      assert.ok(await allInView());
      assert.ok((await offCentre()) < 1);
    });

    test('a real resize of the window fits the drawing to the new box', async () => {
      const before = await view();
      await ctx.page.setViewportSize({ width: 1000, height: 800 });
      try {
        await untilInPage(
          ctx.page,
          (w, b) => {
            const cy = w.tiesExplorer!.graph!.cy;
            return cy.zoom() !== b.zoom || cy.pan().x !== b.pan.x || cy.pan().y !== b.pan.y;
          },
          before,
        );
        assert.ok(await allInView(), 'every profile is in the narrower box');
        const offset = await offCentre();
        assert.ok(offset < 1, `centred (${offset} off)`);
      } finally {
        await ctx.page.setViewportSize({ width: 1280, height: 800 });
      }
      await settled(ctx.page);
    });

    const status = () => ctx.page.textContent('#graph-status');
    /** The donate values of the relations drawn into the author, strongest first. */
    const drawnDonations = () =>
      inPage(
        ctx.page,
        (w, id) =>
          w
            .tiesExplorer!.graph!.cy.edges(`[target = "${id}"]`)
            .map((e) => (e.data('props') as Record<string, number>).donate!)
            .sort((x, y) => y - x),
        author,
      );

    /** A new search in the type shown (choosing the type again would start its ranking afresh). */
    const search = async (email: string, id: string) => {
      await ctx.page.fill('#find-email', email);
      await ctx.page.press('#find-email', 'Enter');
      await untilInPage(ctx.page, (w, focal) => w.tiesExplorer?.focal?.id === focal, id);
      await settled(ctx.page);
    };

    test('the first numeric property the profile has values of ranks it unless the user chose one', async () => {
      // Gloria's donors gave no user_like (the type's first ranked property): ranked by donate.
      await ctx.openByEmail(DONATES, 'gloria@example.com');
      assert.match((await status())!, /^Gloria: 40 of 100 incoming \(strongest by donate\)/);
      assert.equal(await ctx.page.inputValue('#width-property'), 'donate', '"Strongest by" says so');
      assert.deepEqual(
        await drawnDonations(),
        Array.from({ length: 40 }, (_, i) => 100 - i),
      );

      // Anna's relations have user_like: a new search starts from the type's first again.
      await search('anna@example.com', DEMO_AUTHOR_ID);
      assert.equal(await ctx.page.inputValue('#width-property'), 'user_like');

      // Chosen by the user, a property ranks every profile, values or not.
      await ctx.page.selectOption('#width-property', 'user_like');
      await settled(ctx.page);
      await search('gloria@example.com', author);
      assert.match((await status())!, /^Gloria: 40 of 100 incoming \(strongest by user_like\)/);
      assert.equal(await ctx.page.inputValue('#width-property'), 'user_like');
      await ctx.page.selectOption('#width-property', 'donate');
      await untilInPage(ctx.page, (w) =>
        /strongest by donate/.test(w.document.getElementById('graph-status')!.textContent!),
      );
      await settled(ctx.page);
    });

    test('a live change keeps what "Show more" added and the user zoom, and the old drawing stays until the new one is ready', async () => {
      await ctx.page.click('#graph-more');
      await untilInPage(ctx.page, (w) =>
        /80 of 100 incoming/.test(w.document.getElementById('graph-status')!.textContent!),
      );
      await settled(ctx.page);
      await untilInPage(ctx.page, (w: FrameWindow) => w.tiesLive?.state === 'live');
      const refreshes = await inPage(ctx.page, (w: FrameWindow) => w.tiesLive!.refreshes);
      // The user zooms in: a change from elsewhere does not undo it, even to show a new profile.
      const zoomed = await zoomIn();

      // Every frame from now on: the fewest relations the graph had. (Source text: a function
      // compiled by tsx would carry its __name helper into the page.)
      await ctx.page.evaluate(`{
        const watch = { min: Infinity, frames: 0, stop: false };
        window.watch = watch;
        const tick = () => {
          watch.min = Math.min(watch.min, window.tiesExplorer.graph.cy.edges().length);
          watch.frames++;
          if (!watch.stop) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      }`);
      // Another client: a new donor, the strongest of all.
      const type = (await demoCall(ctx.server, 'relations/types/get', { rel_id: DONATES })).data;
      const donor = (await demoCall(ctx.server, 'profiles/add', { db_id: type.db_b, data: {} }))
        .profile_id as string;
      await demoCall(ctx.server, 'relations/attach', {
        rel_id: DONATES,
        profile_a: { profile_id: author },
        profile_b: { profile_id: donor },
        weights: { donate: 1000 },
      });
      await untilInPage(ctx.page, (w: FrameWindow, n) => w.tiesLive!.refreshes > n, refreshes);
      await settled(ctx.page);
      const watch = await inPage(ctx.page, (w: FrameWindow) => {
        w.watch!.stop = true;
        return { min: w.watch!.min, frames: w.watch!.frames };
      });

      assert.match((await status())!, /^Gloria: 80 of 101 incoming \(strongest by donate\)/);
      assert.equal(await ctx.page.textContent('#graph-more'), 'Show 21 more');
      const donations = await drawnDonations();
      assert.deepEqual(donations, [1000, ...Array.from({ length: 79 }, (_, i) => 100 - i)]);
      assert.ok(watch.frames > 0, 'frames were watched');
      assert.ok(watch.min >= 80, `no frame without the relations drawn (fewest: ${watch.min})`);
      assert.deepEqual(await view(), zoomed, 'the user zoom stays');
      assert.deepEqual(ctx.pageErrors, []);
    });
  },
);
