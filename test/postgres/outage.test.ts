// PostgreSQL going away under load, on a private cluster this test starts itself (never the
// machine's shared server): calls in flight and after answer 503 envelopes (never a 500, never a
// hang), /health answers 503, and once PostgreSQL is back Ties recovers by itself.
import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createTies, type Ties } from '../../src/core/ties.js';
import { buildApp } from '../../src/http/app.js';
import { decodeXml } from '../../src/http/codecs/xml-codec.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { TEST_APP_CONFIG, toXml } from '../support/harness.js';
import { createPgCluster, type PgCluster, pgClusterUnavailable } from '../support/pg-cluster.js';
import { PG_REQUIRED, PG_URL } from '../support/pg-engine.js';

const ADMIN = 'outage-test-admin-token-0123456789';
const LEAK = /\bat [\w.<>]+ \(|\bat file:|\.ts:\d+|node:internal|Error:|\bstack\b|ECONNREFUSED/;
const silent = { warn() {}, error() {} };

interface Answer {
  readonly error: number;
  readonly status: number;
  readonly text: string;
  readonly body: Record<string, any>;
  readonly retryAfter: string | undefined;
  readonly ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const unavailable = pgClusterUnavailable();

// Without TIES_TEST_PG_URL, postgres-store.test.ts reports the PostgreSQL part skipped (once).
if (!PG_URL) {
  // Nothing to run.
} else if (unavailable && !PG_REQUIRED) {
  test('PostgreSQL outage', { skip: `no private PostgreSQL cluster: ${unavailable}` }, () => undefined);
} else {
  describe('PostgreSQL outage (private cluster)', () => {
    let cluster: PgCluster;
    let ties: Ties;
    let app: FastifyInstance;
    let relId: number;
    let a: string;
    const bs: string[] = [];

    const call = async (name: string, params: Record<string, unknown>, format: 'json' | 'xml' = 'json') => {
      const started = Date.now();
      const payload =
        format === 'xml' ? toXml({ token: ADMIN, ...params }) : JSON.stringify({ token: ADMIN, ...params });
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1.1/${name}`,
        payload,
        headers: { 'content-type': `application/${format}` },
      });
      assert.doesNotMatch(res.body, LEAK, `${name} leaked internals: ${res.body}`);
      const body = (
        format === 'xml' ? decodeXml(res.body, { maxDepth: 64 }) : JSON.parse(res.body)
      ) as Record<string, any>;
      const error = Number(body.error);
      assert.equal(res.statusCode, error === 0 ? 200 : error, `HTTP status mirrors error: ${res.body}`);
      const retryAfter = res.headers['retry-after'] as string | undefined;
      return {
        error,
        status: res.statusCode,
        text: String(body.error_text),
        body,
        retryAfter,
        ms: Date.now() - started,
      };
    };

    before(async () => {
      cluster = await createPgCluster();
      await cluster.start();
      const store = await openPostgresStore({
        url: cluster.url,
        poolMax: 4,
        connectTimeoutMs: 1_000,
        statementTimeoutMs: 3_000,
        logger: silent,
      });
      ties = createTies({ store });
      await ties.access.ensureAdminToken(ADMIN);
      app = await buildApp({ ties, config: TEST_APP_CONFIG });
      await app.ready();
      const db = (await call('databases/create', { name: 'people' })).body.data.id as number;
      relId = (
        await call('relations/types/create', {
          name: 'likes',
          db_a: db,
          db_b: db,
          properties: [{ name: 'hits', type: 'int', sum: true }],
        })
      ).body.data.rel_id as number;
      a = (await call('profiles/add', { db_id: db, data: { email: 'a@example.com' } })).body.profile_id;
      for (let i = 0; i < 4; i++) {
        bs.push(
          (await call('profiles/add', { db_id: db, data: { email: `b${i}@example.com` } })).body.profile_id,
        );
      }
    });

    after(async () => {
      await app?.close();
      await ties?.close();
      await cluster?.destroy();
    });

    it('answers 503 while PostgreSQL is down, /health 503, and recovers without a restart of Ties', async () => {
      const answers: Answer[] = [];
      let running = true;
      let attempts = 0;
      const loop = async (i: number) => {
        while (running) {
          attempts++;
          const b = bs[i % bs.length]!;
          answers.push(
            await call(
              'relations/strengthen',
              {
                rel_id: relId,
                profile_a: { profile_id: a },
                profile_b: { profile_id: b },
                weights: { hits: 1 },
              },
              i % 2 ? 'xml' : 'json',
            ),
          );
          await sleep(5);
        }
      };
      const loops = Array.from({ length: 6 }, (_, i) => loop(i));
      await until(() => answers.filter((x) => x.error === 0).length >= 30, 'calls to succeed');

      await cluster.stop('immediate');
      const downFrom = answers.length;
      await until(() => answers.slice(downFrom).filter((x) => x.error === 503).length >= 30, '503 answers');
      const health = await app.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 503, health.body);
      assert.equal(JSON.parse(health.body).status, 'unavailable');
      const get = await call('relations/get', { rel_id: relId, profile_id: a }, 'xml');
      assert.equal(get.error, 503);
      assert.match(get.text, /store unavailable/);
      running = false;
      await Promise.all(loops);

      for (const answer of answers) {
        assert.ok(
          answer.error === 0 || answer.error === 503,
          `unexpected answer ${answer.error}: ${answer.text}`,
        );
        if (answer.error === 503) assert.equal(answer.retryAfter, '1');
        assert.ok(answer.ms < 10_000, `a call took ${answer.ms} ms: it must fail fast, not hang`);
      }

      await cluster.start();
      await until(
        async () => (await app.inject({ method: 'GET', url: '/health' })).statusCode === 200,
        '/health 200',
      );
      const again = await call('relations/strengthen', {
        rel_id: relId,
        profile_a: { profile_id: a },
        profile_b: { profile_id: bs[0] },
        weights: { hits: 1 },
      });
      assert.equal(again.error, 0, again.text);
      // Every acknowledged increment survived; a call cut off mid-commit may have landed too.
      const acknowledged = answers.filter((x) => x.error === 0).length + 1;
      const counter = await call('relations/get_counter', { rel_id: relId, profile_id: a });
      assert.equal(counter.error, 0, counter.text);
      const sum = counter.body.data.props.hits.sum as number;
      assert.ok(
        sum >= acknowledged && sum <= attempts + 1,
        `sum ${sum}, acknowledged ${acknowledged}, sent ${attempts + 1}`,
      );
    });
  });
}
