// The PostgreSQL schema dropped while a server runs (issue #12, item 7): calls answer 503 (never
// 500), /health answers 503 because it checks the schema, and the store re-runs its migrations
// under the advisory lock and recovers by itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { PG_SKIPPED, PG_URL } from '../support/pg-engine.js';

const engine = testEngines().find((e) => e.name === 'postgres');
let h: Harness;

before(async () => {
  if (engine) h = await startHarness({ engine });
});
after(() => h?.close());

test('schema dropped: 503 and unhealthy, then recovered without a restart', {
  skip: engine ? false : PG_SKIPPED,
  timeout: 60_000,
}, async () => {
  assert.equal((await h.call('databases/create', { name: 'before' })).status, 200);
  assert.equal((await h.app.inject({ url: '/health' })).statusCode, 200);
  const schema = (h.ties.store as unknown as { schema: string }).schema;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await admin.end();
  }
  const unhealthy = await h.app.inject({ url: '/health' });
  assert.equal(unhealthy.statusCode, 503, `/health checks the schema: ${unhealthy.body}`);
  assert.match(unhealthy.body, /schema is missing/);

  // It recovers by itself: no call may answer 500 meanwhile; every one is 503 until it answers 0.
  const statuses = new Set<number>();
  let recovered = false;
  for (let i = 0; i < 200 && !recovered; i++) {
    const health = await h.app.inject({ url: '/health' });
    const answer = await h.call('databases/create', { name: `after-${i}` });
    statuses.add(answer.status);
    if (answer.status === 200 && health.statusCode === 200) recovered = true;
    else await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(recovered, `recovered; answers seen: ${[...statuses].join(', ')}`);
  assert.deepEqual(
    [...statuses].filter((s) => s !== 200 && s !== 503),
    [],
    'only 503 until recovered',
  );
});
