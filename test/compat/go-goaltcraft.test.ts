// Wire shape of a Go client library for Altcraft's API v1.1:
// github.com/edenisn/goaltcraft at commit 032e8511 ("Changes in request logic and minor fixes").
//
// What it puts on the wire (described, not copied): its base URL already ends with "/api/v1.1/"
// and it appends "/" and the call's path, so the path has a doubled slash
// ("/api/v1.1//databases/list"). The body is its parameters encoded by Go's JSON encoder, which
// ends the document with a newline; the token travels in the body; the only header it sets is
// Content-Type: application/json (no Accept). Its databases/list sends token, from_id and limit,
// and it decodes the answer whatever the HTTP status into a struct of data[] with id, name,
// ui_tags and Groups[] of {id, name} — Go matches JSON keys to struct fields without regard to
// case, and fails the whole decoding if Groups holds anything but objects of that shape.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness.js';

/** The request the Go client sends for GetDatabasesList(fromId, limit). */
function goDatabasesList(h: Harness, fromId: number, limit: number) {
  const body = `${JSON.stringify({ token: ADMIN_TOKEN, from_id: fromId, limit })}\n`;
  return h.send('/api/v1.1//databases/list', body, {
    'content-type': 'application/json',
    'user-agent': 'Go-http-client/1.1',
    'accept-encoding': 'gzip',
  });
}

/** What Go's decoder would make of one database, or a failure where Go's would fail. */
function decodeGoDatabase(raw: Record<string, unknown>) {
  const field = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name)?.[1];
  const groups = field('groups');
  assert.ok(Array.isArray(groups), 'Groups decodes into a slice');
  for (const g of groups) {
    assert.equal(typeof g, 'object', 'each group decodes into a struct {Id int; Name string}');
    const entries = Object.entries(g as object);
    const id = entries.find(([k]) => k.toLowerCase() === 'id')?.[1];
    const name = entries.find(([k]) => k.toLowerCase() === 'name')?.[1];
    assert.ok(Number.isInteger(id) && typeof name === 'string');
  }
  const id = field('id');
  const uiTags = field('ui_tags');
  assert.ok(Number.isInteger(id));
  assert.ok(Array.isArray(uiTags));
  return { id: id as number, name: field('name') as string };
}

for (const engine of testEngines()) {
  describe(`${engine.name}: edenisn/goaltcraft@032e8511`, () => {
    let h: Harness;
    const ids: number[] = [];
    before(async () => {
      h = await startHarness({ engine });
      for (const name of ['First', 'Second', 'Third']) {
        const created = await h.call('databases/create', { name });
        ids.push(created.body.data.id);
      }
    });
    after(() => h.close());

    test('databases/list from id 1 answers database 1 first, in a shape Go decodes', async () => {
      const answer = await goDatabasesList(h, 1, 2);
      assert.equal(answer.status, 200);
      assert.match(answer.contentType, /^application\/json/);
      assert.equal(answer.body.error, 0);
      const page = (answer.body.data as Record<string, unknown>[]).map(decodeGoDatabase);
      assert.deepEqual(
        page.map((d) => d.id),
        [ids[0], ids[1]],
      );
      assert.equal(page[0]!.name, 'First');
    });

    test('paging with the next_from_id it is given reaches every database once', async () => {
      const seen: number[] = [];
      let from = 1;
      for (let pages = 0; pages < 10; pages++) {
        const answer = await goDatabasesList(h, from, 1);
        const page = (answer.body.data as Record<string, unknown>[]).map(decodeGoDatabase);
        if (page.length === 0) break;
        seen.push(...page.map((d) => d.id));
        from = answer.body.next_from_id;
      }
      assert.deepEqual(seen, ids);
    });

    test('a refusal still decodes: the envelope is JSON whatever the status', async () => {
      const answer = await h.send('/api/v1.1//databases/list', `${JSON.stringify({ token: 'wrong' })}\n`, {
        'content-type': 'application/json',
      });
      assert.equal(answer.status, 401);
      assert.equal(answer.body.error, 401);
      assert.equal(typeof answer.body.error_text, 'string');
    });
  });
}
