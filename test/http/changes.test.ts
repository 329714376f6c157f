// relations/changes over HTTP, in JSON and XML, on every engine: the events of the calls made
// through the API in order with their weights before and after, paging with next_after, filters,
// long-polling (wait_ms), an expired cursor (410) and refused parameters (400 naming them).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  addProfile,
  adminCall,
  as,
  byId,
  createWorkspace,
  FORMATS,
  list,
  ok,
  refused,
  type Workspace,
} from './helpers.js';

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    /** The feed's newest position now. */
    const head = async () => {
      let cursor = 0;
      for (;;) {
        const body = await ok(h, 'relations/changes', { after: cursor, limit: 1000 });
        if (list(body.data).length === 0) return Number(body.next_after);
        cursor = Number(body.next_after);
      }
    };
    const pair = (a: string, b: string) => ({ rel_id: w.relId, profile_a: byId(a), profile_b: byId(b) });

    for (const format of FORMATS) {
      const o = { format };
      describe(format, () => {
        test('answers the events of relation calls in commit order, with weights before and after', async () => {
          const start = await head();
          const a = await addProfile(h, w.dbA);
          const [b1, b2] = [await addProfile(h, w.dbB), await addProfile(h, w.dbB)];
          await adminCall(h, 'relations/attach', { ...pair(a, b1), weights: { count: 2, note: 'hi' } });
          await adminCall(h, 'relations/strengthen', { ...pair(a, b1), weights: { count: 3 } });
          await adminCall(h, 'relations/edit', { ...pair(a, b2), weights: { active: true } });
          await adminCall(h, 'relations/detach', pair(a, b1));
          await adminCall(h, 'relations/strengthen_batch', {
            rel_id: w.relId,
            items: [{ profile_a: byId(a), profile_b: byId(b2), weights: { count: 1 } }],
          });
          const body = await ok(h, 'relations/changes', { after: start }, o);
          const events = list(body.data);
          const ev = (call: string, b: string, before: unknown, after: unknown) => ({
            call,
            rel_id: w.relId,
            profile_a: a,
            db_a: w.dbA,
            profile_b: b,
            db_b: w.dbB,
            before,
            after,
          });
          assert.deepEqual(
            events.map(({ seq: _s, at: _t, ...rest }) => rest),
            [
              ev('relations/attach', b1, null, { count: 2, note: 'hi' }),
              ev('relations/strengthen', b1, { count: 2, note: 'hi' }, { count: 5, note: 'hi' }),
              ev('relations/edit', b2, null, { active: true }),
              ev('relations/detach', b1, { count: 5, note: 'hi' }, null),
              ev('relations/strengthen_batch', b2, { active: true }, { active: true, count: 1 }),
            ].map((e) => as(format, e)),
          );
          const seqs = events.map((e) => Number(e.seq));
          assert.deepEqual(
            seqs,
            [...seqs].sort((x, y) => x - y),
          );
          assert.equal(Number(body.next_after), seqs[seqs.length - 1]);
          assert.match(String(events[0].at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          // Paging: two at a time, each answer continuing from the last.
          const first = await ok(h, 'relations/changes', { after: start, limit: 2 }, o);
          assert.deepEqual(
            list(first.data).map((e) => Number(e.seq)),
            seqs.slice(0, 2),
          );
          const second = await ok(h, 'relations/changes', { after: first.next_after, limit: 2 }, o);
          assert.deepEqual(
            list(second.data).map((e) => Number(e.seq)),
            seqs.slice(2, 4),
          );
          // Filters: by profile and by relation type.
          const byProfile = await ok(h, 'relations/changes', { after: start, profile_id: b2 }, o);
          assert.deepEqual(
            list(byProfile.data).map((e) => Number(e.seq)),
            [seqs[2], seqs[4]],
          );
          const other = await ok(h, 'relations/changes', { after: start, rel_id: w.sameRel }, o);
          assert.deepEqual(list(other.data), []);
          assert.equal(
            Number(other.next_after),
            seqs[seqs.length - 1],
            'the cursor moves on past non-matching events',
          );
        });

        test('after=latest starts at the head: no history, next_after = head_seq, then only new changes', async () => {
          const a = await addProfile(h, w.dbA);
          const b1 = await addProfile(h, w.dbB);
          await adminCall(h, 'relations/attach', { ...pair(a, b1), weights: { count: 1 } });
          const head = await h.ties.feed.head();
          const now = await ok(h, 'relations/changes', { after: 'latest' }, o);
          assert.deepEqual(list(now.data), []);
          assert.equal(String(now.next_after), String(head));
          assert.equal(String(now.head_seq), String(head));
          // Long-polling from the head answers changes made after the call only. The call takes the
          // head when it arrives: changes are made until it answers, so one lands after that.
          const waiting = ok(h, 'relations/changes', { after: 'latest', wait_ms: 20_000 }, o);
          let answered = false;
          void waiting.then(() => {
            answered = true;
          });
          const made: string[] = [];
          while (!answered) {
            const b = await addProfile(h, w.dbB);
            await adminCall(h, 'relations/attach', { ...pair(a, b), weights: { count: 2 } });
            made.push(b);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          const next = await waiting;
          const events = list(next.data);
          assert.ok(events.length > 0);
          for (const e of events) {
            assert.equal(e.call, 'relations/attach');
            assert.ok(made.includes(e.profile_b), 'only changes made after the call');
          }
          assert.ok(Number(events[0].seq) > head);
          assert.ok(Number(next.head_seq) >= Number(next.next_after));
          const last = Number(next.next_after);
          // head_seq is the whole log's head, also on a filtered page and one that is behind.
          const behind = await ok(h, 'relations/changes', { after: 0, limit: 1, rel_id: w.relId }, o);
          assert.equal(String(behind.head_seq), String(await h.ties.feed.head()));
          assert.ok(Number(behind.head_seq) >= last);
        });

        test('long-polls: wait_ms answers as soon as an event commits', async () => {
          const start = await head();
          const a = await addProfile(h, w.dbA);
          const b = await addProfile(h, w.dbB);
          const waiting = ok(h, 'relations/changes', { after: start, wait_ms: 20_000 }, o);
          await new Promise((resolve) => setTimeout(resolve, 50));
          await adminCall(h, 'relations/attach', { ...pair(a, b), weights: { count: 1 } });
          const body = await waiting;
          assert.deepEqual(
            list(body.data).map((e) => [e.call, e.profile_a, e.profile_b]),
            [['relations/attach', a, b]],
          );
          // Nothing new: answers empty after the wait, the cursor where it was.
          const idle = await ok(h, 'relations/changes', { after: body.next_after, wait_ms: 20 }, o);
          assert.deepEqual(list(idle.data), []);
          assert.equal(String(idle.next_after), String(body.next_after));
        });

        test('refuses bad parameters with 400 naming them', async () => {
          await refused(h, 'relations/changes', { after: -1 }, 400, 'after', o);
          await refused(h, 'relations/changes', { after: 'soon' }, 400, /^after: .*latest/, o);
          await refused(h, 'relations/changes', { limit: 0 }, 400, 'limit', o);
          await refused(h, 'relations/changes', { limit: 1001 }, 400, 'limit', o);
          await refused(h, 'relations/changes', { wait_ms: 30_001 }, 400, 'wait_ms', o);
          await refused(h, 'relations/changes', { profile_id: 'nope' }, 400, 'profile_id', o);
          await refused(h, 'relations/changes', { rel_id: 0 }, 400, 'rel_id', o);
        });
      });
    }

    test('a cursor older than the retained log answers 410 CURSOR_EXPIRED; after=0 reads from the oldest kept', async () => {
      const a = await addProfile(h, w.dbA);
      const b = await addProfile(h, w.dbB);
      await adminCall(h, 'relations/attach', { ...pair(a, b), weights: {} });
      await adminCall(h, 'relations/detach', pair(a, b));
      const newest = await head();
      // Keep only the newest event.
      while ((await h.ties.store.pruneChanges({ olderThan: null, keepLast: 1, maxRows: 1000 })) > 0);
      for (const format of FORMATS) {
        await refused(h, 'relations/changes', { after: 1 }, 410, 'pruned', { format });
      }
      const fromOldest = await ok(h, 'relations/changes', { after: 0 });
      assert.deepEqual(
        list(fromOldest.data).map((e) => e.seq),
        [newest],
      );
      assert.equal(fromOldest.oldest_seq, newest);
    });
  });

  describe(`${engine.name}, change feed off (TIES_FEED=off)`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({
        engine,
        feed: { enabled: false, retention: { maxAgeMs: null, maxCount: null } },
      });
    });
    after(() => h.close());

    for (const format of FORMATS) {
      test(`${format}: relations/changes answers 409 FEED_DISABLED naming the setting, not an empty feed`, async () => {
        for (const params of [{}, { after: 'latest', wait_ms: 20_000 }, { after: 5 }]) {
          await refused(h, 'relations/changes', params, 409, /^relations\/changes: .*TIES_FEED=off/, {
            format,
          });
        }
      });
    }
  });
}
