// The inspector (issue #17 item 6): clicking a profile shows its fields, clicking a relation its
// properties, with the actions that apply and that the token's rights allow (Change…, Detach… with
// the form's confirmation and Undo, Open as focal), all reachable from the keyboard; and after Enter
// on a name in the table the keyboard continues at the inspector, not the page body (item 10).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_AUTHOR_ID } from '../../src/demo.js';
import { inPage, settled, untilInPage } from '../support/browser.js';
import { describeInBrowser } from '../support/explorer-suite.js';

const OLGA = '669e6968ebf4ac52b623a997';

describeInBrowser('Explorer: the inspector', { name: 'Explorer inspector' }, (ctx) => {
  const focusedId = () => inPage(ctx.page, (w) => w.document.activeElement?.id ?? '');

  /**
   * Clicks the middle of the relation B → A where Cytoscape drew it, and waits for the inspector
   * to show it. Tried again if the graph was still settling (a scrollbar appearing refits it, or
   * a live refresh redraws it, between the measurement and the click on a loaded machine).
   */
  async function clickEdge(b: string, a: string, title: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // The page's own write comes back on the live change stream and redraws the pair a moment
      // later: the edge may be away for that moment.
      await untilInPage(
        ctx.page,
        (w, id) => w.tiesExplorer!.graph!.cy.getElementById(id).nonempty(),
        `${b}->${a}`,
      );
      await inPage(ctx.page, (w) => w.document.getElementById('graph')!.scrollIntoView({ block: 'center' }));
      const point = await inPage(
        ctx.page,
        (w, id) => {
          const cy = w.tiesExplorer!.graph!.cy;
          const p = cy.getElementById(id).renderedMidpoint();
          const box = cy.container()!.getBoundingClientRect();
          return { x: box.left + p.x, y: box.top + p.y };
        },
        `${b}->${a}`,
      );
      await ctx.page.mouse.click(point.x, point.y);
      try {
        await untilInPage(
          ctx.page,
          (w, t) => w.document.getElementById('inspector-title')!.textContent === t,
          title,
          {
            timeout: 2000,
          },
        );
        return;
      } catch (err) {
        if (attempt === 3) throw err;
      }
    }
  }

  test('the opened profile is shown with its fields; the focal one offers no "Open"', async () => {
    await ctx.signIn(ctx.server.token);
    await ctx.openByEmail(3, 'anna@example.com');
    await untilInPage(ctx.page, (w) =>
      w.document.getElementById('inspector-fields')?.textContent?.includes('anna@'),
    );
    assert.equal(await ctx.page.textContent('#inspector-title'), 'Profile Anna Author');
    const shown = await ctx.fields('inspector-fields');
    assert.equal(shown.id, DEMO_AUTHOR_ID);
    assert.equal(shown.email, 'anna@example.com');
    assert.equal(shown.genres, 'poetry');
    assert.equal(shown.CRM_ID, 'A-1');
    assert.equal(await ctx.page.locator('#inspector-open').count(), 0);
  });

  test('clicking a relation shows its properties with Change…, Detach… and Open B', async () => {
    await clickEdge(OLGA, DEMO_AUTHOR_ID, 'Relation Olga → Anna Author');
    const props = await ctx.fields('inspector-props');
    assert.equal(props['user_like (int)'], '5');
    assert.equal(props['donate (int)'], '120');
    assert.equal(props['is_online (bool)'], 'false');
    assert.equal(props.type, 'donates (rel_id 3)');
    assert.equal(await ctx.page.isVisible('#inspector-change'), true);
    assert.equal(await ctx.page.isVisible('#inspector-detach'), true);
    assert.equal(await ctx.page.textContent('#inspector-open-b'), 'Open B: Olga');
    assert.equal(await ctx.page.locator('#inspector-open-a').count(), 0, 'A is the focal profile already');

    await ctx.page.click('#inspector-change');
    assert.equal(await ctx.page.isChecked('#op-edit'), true);
    assert.equal(await ctx.page.inputValue('#change-a-profile_id'), DEMO_AUTHOR_ID);
    assert.equal(await ctx.page.inputValue('#change-b-profile_id'), OLGA);
    assert.equal(await ctx.page.inputValue('#change-w-donate'), '120');
    assert.equal(await focusedId(), 'change-w-user_like', 'the keyboard is at the first value');
  });

  test('from the keyboard: the graph takes focus, arrows step through relations, Enter reaches the actions', async () => {
    await ctx.page.focus('#graph');
    await ctx.page.keyboard.press('Home');
    await untilInPage(
      ctx.page,
      (w) => w.document.getElementById('inspector-title')!.textContent === 'Profile Anna Author',
    );
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await ctx.page.keyboard.press('ArrowRight');
      seen.add((await ctx.page.textContent('#inspector-title'))!);
      assert.match((await ctx.page.textContent('#inspector-status'))!, /^Relation \d of 3\.$/);
    }
    assert.equal(seen.size, 3, 'three different relations, one per arrow');
    assert.ok([...seen].every((t) => / → Anna Author$/.test(t)));
    await ctx.page.keyboard.press('Enter');
    assert.equal(await focusedId(), 'inspector-title');
    await ctx.page.keyboard.press('Tab');
    assert.equal(await focusedId(), 'inspector-change');
  });

  test('Detach… asks in the change form; after it the inspector says the relation is gone; Undo restores it', async () => {
    await clickEdge(OLGA, DEMO_AUTHOR_ID, 'Relation Olga → Anna Author');
    await ctx.page.click('#inspector-detach');
    await ctx.page.waitForSelector('#change-preview');
    assert.equal(await ctx.page.isChecked('#op-detach'), true);
    assert.equal(await ctx.page.textContent('#change-submit'), 'Confirm detach');
    assert.equal(await focusedId(), 'change-submit');
    await ctx.page.keyboard.press('Enter');
    await ctx.page.waitForSelector('#change-undo');
    await settled(ctx.page);
    assert.equal(await ctx.page.textContent('#inspector-title'), 'Inspector');
    assert.match((await ctx.page.textContent('#inspector-status'))!, /gone \(detached\)/);
    assert.equal(
      await inPage(
        ctx.page,
        (w, id) => w.tiesExplorer!.graph!.cy.getElementById(id).empty(),
        `${OLGA}->${DEMO_AUTHOR_ID}`,
      ),
      true,
    );

    await ctx.page.click('#change-undo');
    await untilInPage(ctx.page, (w) =>
      /^Undone/.test(w.document.getElementById('change-status')!.textContent!),
    );
    await settled(ctx.page);
    await clickEdge(OLGA, DEMO_AUTHOR_ID, 'Relation Olga → Anna Author');
    assert.equal((await ctx.fields('inspector-props'))['donate (int)'], '120', 'Undo re-attached the values');
  });

  test('Open B makes it the focal profile; the keyboard lands on the inspector showing it', async () => {
    await ctx.page.click('#inspector-open-b');
    await untilInPage(ctx.page, (w, id) => w.tiesExplorer?.focal?.id === id, OLGA);
    await settled(ctx.page);
    assert.equal(await ctx.page.textContent('#inspector-title'), 'Profile Olga');
    assert.equal(await focusedId(), 'inspector-title');
  });

  test('Enter on a name in the table: the keyboard continues at the inspector, not the page body', async () => {
    await ctx.openByEmail(3, 'anna@example.com');
    await ctx.page.focus(`#relations-table tr[data-profile="${OLGA}"] button.link`);
    await ctx.page.keyboard.press('Enter');
    await untilInPage(ctx.page, (w, id) => w.tiesExplorer?.focal?.id === id, OLGA);
    await settled(ctx.page);
    assert.equal(await focusedId(), 'inspector-title');
    assert.equal(await ctx.page.textContent('#inspector-title'), 'Profile Olga');
  });

  test('a read-only token: the relation shows no Change… or Detach…, and says why', async () => {
    const response = await fetch(`${ctx.server.url}api/v1.1/tokens/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.server.token}` },
      body: JSON.stringify({ name: 'reader', rights: ['read'] }),
    });
    const readOnly = ((await response.json()) as { data: { token: string } }).data.token;
    await inPage(ctx.page, (w) => w.sessionStorage.clear());
    await ctx.signIn(readOnly);
    await ctx.openByEmail(3, 'anna@example.com');
    await clickEdge(OLGA, DEMO_AUTHOR_ID, 'Relation Olga → Anna Author');
    assert.equal(await ctx.page.locator('#inspector-change, #inspector-detach').count(), 0);
    assert.match((await ctx.page.textContent('#inspector-body'))!, /Changing needs the write right/);
    assert.equal(await ctx.page.isVisible('#inspector-open-b'), true);
  });

  test('no script failed', () => {
    assert.deepEqual(ctx.pageErrors, []);
  });
});
