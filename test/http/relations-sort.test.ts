// relations/get's sort, offset and filters (Ties extension, docs/decisions.md) over HTTP, in JSON
// and XML on every engine: rows by a property both ways with ties by id, offset paging with
// next_offset, filtered_count, nothing new for a call that names none of them, and each bad
// parameter a 400 that names it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  addProfiles,
  byId,
  createWorkspace,
  FORMATS,
  list,
  ok,
  refused,
  type Workspace,
} from './helpers.js';

for (const engine of testEngines()) {
  describe(`relations/get sort and filters — ${engine.name}`, () => {
    let h: Harness;
    let w: Workspace;
    let hub: string;
    let bs: string[];
    /** count of the relation from bs[i]; bs[5] has none. */
    const countOf = (i: number) => (i === 5 ? undefined : [3, 9, 3, 1, 7, 0, 9, 2][i]);

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
      hub = await addProfile(h, w.dbA);
      bs = await addProfiles(h, w.dbB, 8);
      for (const [i, b] of bs.entries()) {
        const count = countOf(i);
        const weights = count === undefined ? { note: `n${i}` } : { count, amount: i / 2, note: `n${i}` };
        await ok(h, 'relations/attach', {
          rel_id: w.relId,
          profile_a: byId(hub),
          profile_b: byId(b),
          weights,
        });
      }
    });
    after(() => h.close());

    /** bs indexes by count descending, ties by id; the one without count last. */
    const descending = () =>
      [...bs.keys()].sort((x, y) => {
        const [cx, cy] = [countOf(x), countOf(y)];
        if (cx === undefined) return 1;
        if (cy === undefined) return -1;
        return cy - cx || (bs[x]! < bs[y]! ? -1 : 1);
      });

    for (const format of FORMATS) {
      test(`${format}: sort desc pages by offset with next_offset, ties by id, rows without the property last`, async () => {
        const seen: string[] = [];
        let offset: number | undefined = 0;
        let pages = 0;
        while (offset !== undefined) {
          const body = await ok(
            h,
            'relations/get',
            { rel_id: w.relId, profile_id: hub, sort: 'count', order: 'desc', limit: 3, offset },
            { format },
          );
          pages++;
          const rows = list(body.data);
          seen.push(...rows.map((r) => r.profile_id_b));
          assert.equal(String(body.total_count), '8');
          assert.equal(body.next_from, undefined, 'a sorted list pages by offset only');
          assert.equal(body.filtered_count, undefined, 'no filter, no count');
          offset = body.next_offset === undefined ? undefined : Number(body.next_offset);
          if (offset !== undefined) assert.equal(offset, seen.length);
        }
        assert.equal(pages, 3);
        assert.deepEqual(
          seen,
          descending().map((i) => bs[i]),
        );
      });

      test(`${format}: ascending, an id prefix and bounds; filtered_count counts every page`, async () => {
        const body = await ok(
          h,
          'relations/get',
          { rel_id: w.relId, profile_id: hub, sort: 'count', min: 2, max: 7, limit: 2 },
          { format },
        );
        const want = [...bs.keys()]
          .filter((i) => (countOf(i) ?? -1) >= 2 && (countOf(i) ?? 99) <= 7)
          .sort((x, y) => countOf(x)! - countOf(y)! || (bs[x]! < bs[y]! ? -1 : 1));
        assert.equal(Number(body.filtered_count), want.length);
        assert.deepEqual(
          list(body.data).map((r) => r.profile_id_b),
          want.slice(0, 2).map((i) => bs[i]),
        );
        assert.equal(Number(body.next_offset), 2);

        const one = bs[4]!;
        const prefixed = await ok(
          h,
          'relations/get',
          { rel_id: w.relId, profile_id: hub, id_prefix: one.slice(0, 20).toUpperCase() },
          { format },
        );
        assert.deepEqual(
          list(prefixed.data).map((r) => r.profile_id_b),
          [one],
        );
        assert.equal(Number(prefixed.filtered_count), 1);
        assert.equal(prefixed.next_from, undefined);
      });

      test(`${format}: a call naming none of them answers as before (id order, next_from)`, async () => {
        const body = await ok(h, 'relations/get', { rel_id: w.relId, profile_id: hub, limit: 3 }, { format });
        assert.deepEqual(
          list(body.data).map((r) => r.profile_id_b),
          bs.slice(0, 3),
        );
        assert.equal(body.next_from, bs[2]);
        assert.equal(body.next_offset, undefined);
        assert.equal(body.filtered_count, undefined);
        const offset = await ok(
          h,
          'relations/get',
          { rel_id: w.relId, profile_id: hub, limit: 3, offset: 6 },
          { format },
        );
        assert.deepEqual(
          list(offset.data).map((r) => r.profile_id_b),
          bs.slice(6),
        );
        assert.equal(offset.next_offset, undefined);
      });
    }

    test('side b sorts the relations a profile initiated', async () => {
      const a2 = await addProfile(h, w.dbA);
      await ok(h, 'relations/attach', {
        rel_id: w.relId,
        profile_a: byId(a2),
        profile_b: byId(bs[0]!),
        weights: { count: 50 },
      });
      const body = await ok(h, 'relations/get', {
        rel_id: w.relId,
        profile_id: bs[0],
        side: 'b',
        sort: 'count',
        order: 'desc',
        limit: 10,
      });
      assert.deepEqual(
        list(body.data).map((r) => [r.profile_id_a, r.props.count.value]),
        [
          [a2, 50],
          [hub, 3],
        ],
      );
    });

    test('bad parameters are 400s naming them', async () => {
      const get = { rel_id: w.relId, profile_id: hub };
      await refused(h, 'relations/get', { ...get, sort: 'shoe_size' }, 400, /sort: .*count, amount/);
      await refused(h, 'relations/get', { ...get, order: 'desc' }, 400, 'order: only with sort');
      await refused(h, 'relations/get', { ...get, sort: 'count', order: 'up' }, 400, 'order');
      await refused(h, 'relations/get', { ...get, sort: 'count', from: bs[0] }, 400, 'from: not with sort');
      await refused(h, 'relations/get', { ...get, min: 1 }, 400, 'min: only with sort');
      await refused(h, 'relations/get', { ...get, sort: 'note', max: 1 }, 400, 'max: only with sort');
      await refused(h, 'relations/get', { ...get, sort: 'count', min: 5, max: 1 }, 400, 'max: at least min');
      await refused(h, 'relations/get', { ...get, id_prefix: 'xyz' }, 400, 'id_prefix');
      await refused(h, 'relations/get', { ...get, offset: -1 }, 400, 'offset');
      await refused(h, 'relations/get', { ...get, offset: 1.5 }, 400, 'offset');
      await refused(h, 'relations/get', { ...get, sort: 'count', min: 'lots' }, 400, 'min');
      await refused(h, 'relations/get', { ...get, sort: 'count', min: 'lots' }, 400, 'min', {
        format: 'xml',
      });
    });
  });
}
