// Two `ties serve` processes on one SQLite file stay coherent (issue #12, item 4): a relation type
// changed or deleted through one is written with its current definition by the other (each write
// batch rereads the catalogue when another connection committed, PRAGMA data_version).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { httpCaller, startTiesProcess } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-two-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ADMIN = 'two-processes-admin-token-0123456789';

test('a type changed or deleted through one server is obeyed by the other', {
  timeout: 120_000,
}, async () => {
  const db = join(dir, 'shared.db');
  const first = await startTiesProcess(db, { TIES_ADMIN_TOKEN: ADMIN });
  let second: Awaited<ReturnType<typeof startTiesProcess>> | undefined;
  try {
    const one = httpCaller(first.url, ADMIN);
    const must = async (call: typeof one, name: string, params: Record<string, unknown>) => {
      const answer = await call(name, params);
      assert.equal(answer.error, 0, `${name}: ${answer.error_text}`);
      return answer;
    };
    const dbId = (await must(one, 'databases/create', { name: 'people' })).data.id;
    const type = async (name: string) =>
      (
        await must(one, 'relations/types/create', {
          name,
          db_a: dbId,
          db_b: dbId,
          properties: [{ name: 'hits', type: 'int' }],
        })
      ).data.rel_id as number;
    const relId = await type('likes');
    const doomed = await type('doomed');
    const profile = async () =>
      (await must(one, 'profiles/add', { db_id: dbId, data: {} })).profile_id as string;
    const [a, b1, b2] = [await profile(), await profile(), await profile()];

    // The second server loads the catalogue as it is now.
    second = await startTiesProcess(db, { TIES_ADMIN_TOKEN: ADMIN });
    const two = httpCaller(second.url, ADMIN);

    await must(one, 'relations/types/update', {
      rel_id: relId,
      properties: [{ name: 'hits', type: 'int', top: 3, sum: true }],
    });
    await must(one, 'relations/types/delete', { rel_id: doomed });

    const pair = (rel: number, b: string) => ({
      rel_id: rel,
      profile_a: { profile_id: a },
      profile_b: { profile_id: b },
    });
    await must(two, 'relations/attach', { ...pair(relId, b1), weights: { hits: 5 } });
    await must(two, 'relations/attach', { ...pair(relId, b2), weights: { hits: 7 } });
    const counter = await must(one, 'relations/get_counter', { rel_id: relId, profile_id: a });
    assert.equal(counter.data.total, 2);
    const hits = counter.data.props?.hits ?? counter.data.hits ?? counter.data.properties?.hits;
    assert.ok(hits, JSON.stringify(counter.data));
    assert.equal(Number(hits.sum), 12, `sum kept by the second server: ${JSON.stringify(counter.data)}`);

    const refused = await two('relations/attach', { ...pair(doomed, b1), weights: { hits: 1 } });
    assert.equal(refused.error, 404, `attach under a deleted type: ${JSON.stringify(refused)}`);
  } finally {
    await second?.stop('SIGTERM');
    await first.stop('SIGTERM');
  }
});
