// GET /metrics: Prometheus text with calls by name and error code, their latency, the store's group
// commits and process metrics; never a token, never a raw path as a label.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isCommitObservable } from '../../src/core/store-stats.js';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness } from '../support/harness.js';
import { addProfile, byId, createWorkspace, ok, refused, type Workspace } from './helpers.js';

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;
    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    const scrape = async () => {
      const res = await h.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      return res.body;
    };
    /** The value of one sample line, e.g. ties_calls_total{call="x",error="0"}. */
    const sample = (text: string, series: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    test('counts calls by name and error code, with latency histograms; no token in any label', async () => {
      const before = await scrape();
      const attached = (e: string, text: string) =>
        sample(text, `ties_calls_total{call="relations/attach",error="${e}"}`) ?? 0;
      const a = await addProfile(h, w.dbA);
      const b = await addProfile(h, w.dbB);
      const pair = { rel_id: w.relId, profile_a: byId(a), profile_b: byId(b), weights: { count: 1 } };
      await ok(h, 'relations/attach', pair);
      await refused(h, 'relations/attach', pair, 409);
      const secret = 'ties_NotARealTokenButSecretAnyway0123456789abcdefg';
      await refused(h, 'relations/attach', pair, 401, undefined, { token: secret });
      await refused(h, 'relations/get', { rel_id: w.relId, profile_id: a }, 401, undefined, {
        token: null,
        query: `?token=${secret}`,
      });
      await h.send(`/api/v1.1/no/such/call?token=${secret}`, '{}', { 'content-type': 'application/json' });

      const text = await scrape();
      assert.equal(attached('0', text) - attached('0', before), 1);
      assert.equal(attached('409', text) - attached('409', before), 1);
      assert.equal(attached('401', text) - attached('401', before), 1);
      assert.equal(sample(text, 'ties_calls_total{call="relations/get",error="401"}'), 1);
      assert.ok((sample(text, 'ties_calls_total{call="unknown",error="404"}') ?? 0) >= 1);
      assert.ok(
        (sample(text, 'ties_call_duration_seconds_count{call="relations/attach",error="0"}') ?? 0) >= 1,
      );
      assert.match(
        text,
        /ties_call_duration_seconds_bucket\{le="0\.005",call="relations\/attach",error="0"\}/,
      );
      assert.doesNotMatch(text, /no\/such\/call/, 'unknown paths are one label, not one series each');
      for (const token of [secret, h.admin]) assert.equal(text.includes(token), false, 'no token in metrics');
      // Process metrics come from prom-client's defaults, in this app's own registry.
      assert.match(text, /^process_cpu_user_seconds_total \d/m);
      assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
      assert.equal(sample(text, 'ties_store_up'), 1);
    });

    test('group commits: batch sizes and commit time, from the store', async (t) => {
      if (!isCommitObservable(h.ties.store)) {
        t.skip('this store does not report its commits');
        return;
      }
      const a = await addProfile(h, w.dbA);
      const bs = await Promise.all(Array.from({ length: 20 }, () => addProfile(h, w.dbB)));
      const before = sample(await scrape(), 'ties_store_batch_ops_count') ?? 0;
      await ok(h, 'relations/attach_batch', {
        rel_id: w.relId,
        items: bs.map((b) => ({ profile_a: byId(a), profile_b: byId(b), weights: {} })),
      });
      const text = await scrape();
      assert.ok((sample(text, 'ties_store_batch_ops_count') ?? 0) > before);
      assert.ok((sample(text, 'ties_store_batch_ops_bucket{le="20"}') ?? 0) >= 1);
      assert.ok((sample(text, 'ties_store_commit_seconds_count') ?? 0) > before);
      assert.equal(sample(text, 'ties_store_failed_batches_total'), 0);
      assert.equal(sample(text, 'ties_store_queued_writes'), 0);
    });
  });
}
