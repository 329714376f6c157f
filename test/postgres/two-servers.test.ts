// Two `ties serve` processes on one PostgreSQL schema (and, with TIES_TEST_CITUS_URL, on one
// schema of a Citus coordinator, distributed by the racing migrations), started at the same moment
// (so their migrations race): strengthen calls spread over both lose no increment, and attaches of the same
// pairs through both create each relation once (the others answer 409).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { CITUS_URL } from '../support/citus-engine.js';
import { spawnTies, waitForOutput } from '../support/cli.js';
import { dropSchema, freshSchemaName, PG_URL } from '../support/pg-engine.js';

const ADMIN = 'two-servers-admin-token-0123456789';

// Without TIES_TEST_PG_URL, postgres-store.test.ts reports the PostgreSQL part skipped (once).
const TARGETS: [string, string | undefined][] = [
  ['PostgreSQL', PG_URL],
  ['Citus', CITUS_URL],
];
for (const [label, url] of TARGETS) {
  if (!url) continue;
  describe(`two servers on one ${label} schema`, () => {
    const schema = freshSchemaName();
    const children: ChildProcess[] = [];
    const bases: string[] = [];

    const call = async (base: string, name: string, params: Record<string, unknown>) => {
      const res = await fetch(`${base}/api/v1.1/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: ADMIN, ...params }),
      });
      const body = (await res.json()) as Record<string, any>;
      assert.equal(res.status, body.error === 0 ? 200 : body.error);
      return body;
    };

    before(async () => {
      for (let i = 0; i < 2; i++) {
        children.push(
          spawnTies(['serve', '--port', '0', '--db', `${url}?schema=${schema}`, '--log-level', 'warn'], {
            TIES_ADMIN_TOKEN: ADMIN,
            TIES_PG_POOL_MAX: '4',
          }),
        );
      }
      const outputs = await Promise.all(
        children.map((child) => waitForOutput(child, /listening on (\S+)/, 60_000)),
      );
      for (const out of outputs) bases.push(/listening on (\S+)/.exec(out)![1]!);
    });

    after(async () => {
      await Promise.all(
        children.map(async (child) => {
          if (child.exitCode !== null) return;
          child.kill('SIGTERM');
          await once(child, 'close');
        }),
      );
      await dropSchema(schema, url);
    });

    it('loses no increment and creates each relation once across both servers', async () => {
      const [one, two] = bases as [string, string];
      const db = (await call(one, 'databases/create', { name: 'people' })).data.id;
      const relId = (
        await call(two, 'relations/types/create', {
          name: 'likes',
          db_a: db,
          db_b: db,
          properties: [
            { name: 'hits', type: 'int', top: 3, sum: true },
            { name: 'score', type: 'float', sum: true },
          ],
        })
      ).data.rel_id;
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        ids.push(
          (await call(bases[i % 2]!, 'profiles/add', { db_id: db, data: { email: `p${i}@example.com` } }))
            .profile_id,
        );
      }
      const [hub, ...others] = ids as [string, ...string[]];

      // 240 strengthen calls, 40 at a time, alternating servers, all on relations to the hub.
      const strengthen = (i: number) =>
        call(bases[i % 2]!, 'relations/strengthen', {
          rel_id: relId,
          profile_a: { profile_id: hub },
          profile_b: { email: `p${1 + (i % others.length)}@example.com` },
          weights: { hits: 1, score: 0.25 },
        });
      for (let start = 0; start < 240; start += 40) {
        const answers = await Promise.all(Array.from({ length: 40 }, (_, k) => strengthen(start + k)));
        for (const answer of answers) assert.equal(answer.error, 0, answer.error_text);
      }
      const counter = await call(two, 'relations/get_counter', { rel_id: relId, profile_id: hub });
      assert.equal(counter.data.total, others.length);
      assert.equal(counter.data.props.hits.sum, 240);
      assert.equal(counter.data.props.score.sum, 60);
      const rows = await call(one, 'relations/get', { rel_id: relId, profile_id: hub });
      assert.deepEqual(
        rows.data.map((r: any) => r.props.hits.value),
        others.map(() => 240 / others.length),
      );

      // Each pair attached 4 times at once, twice through each server: one 0, three 409.
      const attempts = others.flatMap((a) =>
        [0, 1, 2, 3].map((k) =>
          call(bases[k % 2]!, 'relations/attach', {
            rel_id: relId,
            profile_a: { profile_id: a },
            profile_b: { profile_id: hub },
            weights: { hits: k },
          }).then((answer) => ({ a, error: answer.error as number })),
        ),
      );
      const outcomes = await Promise.all(attempts);
      for (const a of others) {
        const errors = outcomes
          .filter((o) => o.a === a)
          .map((o) => o.error)
          .sort();
        assert.deepEqual(errors, [0, 409, 409, 409], `pair ${a}`);
      }
      const reverse = await call(one, 'relations/get', { rel_id: relId, profile_id: hub, side: 'b' });
      assert.equal(reverse.total_count, others.length);
    });
  });
}
