// The "same semantics, lean" attach of issue #11 on PostgreSQL, for bench/pg-lean-attach.ts: a
// Fastify server (the noop's options) that does exactly the storage work of Ties' attach on a copy
// of a Ties store (schema version 9), with nothing else: no validation beyond the body's shape, no
// core, no token check, the one relation type it is given. Each call is one prepared statement of
// one plpgsql function (lean_attach, created here) on a pool of 10 connections (Ties' default),
// answered after COMMIT. The function writes the rows Ties' ties_attach writes and takes the same
// locks in the same order, written straight out instead of through ties_account / ties_tops_kept /
// ties_deltas / ties_apply / ties_log:
//   the type's shared advisory lock and row; each profile's shared advisory lock and lookup by id
//   (checked against the type's database); the relation (ON CONFLICT DO NOTHING) and its entry by B;
//   A's shared top-row lock and one read of A's mark and total (a build past 64 relations is left
//   out: the side-by-side keeps every A below it); A's total, B's total and A's row per property
//   (count, int sum) in this connection's slot, one INSERT … ON CONFLICT; the feed's shared lock
//   and the change-log event.
// With LAYOUT `one-row` (an experiment on the layout, not Ties'): A's total and its three property
// aggregates in one row of a table of its own (lean_stats, keyed by profile, type, side and slot),
// B's total in one row of it: two aggregate rows per attach instead of five, the rest as above.
// Two floors, each doing strictly less than Ties' attach must (so a rate they cannot beat, Ties cannot):
//   `min`     one prepared SQL statement, no plpgsql and no locks: both profiles checked, the
//             relation and its entry by B, A's total and B's total in this connection's slot; no
//             property aggregates, no top-row read, no change log.
//   `insert`  one single-row INSERT into the raw side's own table (bench_raw), no lookups: the
//             cost of an HTTP server in front of exactly the raw baseline's statement.
// Usage: node pg-lean-attach-server.mjs POSTGRES_URL REL_ID [rows|one-row|min|insert]
import Fastify from 'fastify';
import pg from 'pg';

const [url, relIdText, layout = 'rows'] = process.argv.slice(2);
const relId = Number(relIdText);
// As Ties' pool: 10 connections, closed after 30 s idle.
const pool = new pg.Pool({
  connectionString: url,
  max: 10,
  idleTimeoutMillis: 30_000,
  application_name: 'ties-lean',
});

const LEAN_ATTACH = `
CREATE OR REPLACE FUNCTION lean_attach(p_rel integer, p_a text, p_b text, p_w jsonb, p_now text)
RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
  v_db_a integer;
  v_db_b integer;
  v_slot smallint := (pg_backend_pid() % 16)::smallint;
  v_kept boolean;
  v_total bigint;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(ties_ns('type'), p_rel);
  SELECT db_a, db_b INTO v_db_a, v_db_b FROM relation_types WHERE rel_id = p_rel;
  PERFORM pg_advisory_xact_lock_shared(ties_ns('profile'), hashtext(p_a));
  PERFORM 1 FROM profiles WHERE id = p_a AND db_id = v_db_a;
  IF NOT FOUND THEN RETURN 'pair'; END IF;
  PERFORM pg_advisory_xact_lock_shared(ties_ns('profile'), hashtext(p_b));
  PERFORM 1 FROM profiles WHERE id = p_b AND db_id = v_db_b;
  IF NOT FOUND THEN RETURN 'pair'; END IF;
  INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
  VALUES (p_a, p_rel, p_b, p_w, p_now, p_now) ON CONFLICT DO NOTHING;
  IF NOT FOUND THEN RETURN 'duplicate'; END IF;
  INSERT INTO relations_by_b (b, rel_id, a) VALUES (p_b, p_rel, p_a);
  PERFORM pg_advisory_xact_lock_shared(ties_ns('tops'), ties_top_lock_key(p_rel, p_a));
  SELECT coalesce(bool_or(side = 't'), false), coalesce(sum(count) FILTER (WHERE side = 'a'), 0)
    INTO v_kept, v_total
    FROM relation_stats WHERE profile_id = p_a AND rel_id = p_rel AND side IN ('a', 't') AND prop = '';
  __STATS__
  PERFORM pg_advisory_xact_lock_shared(ties_ns('feed'), 0);
  INSERT INTO change_log (seq, at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
  VALUES (nextval('change_seq'), p_now, 'relations/attach', p_rel, p_a, v_db_a, p_b, v_db_b, NULL, p_w);
  RETURN 'ok';
END
$f$`;
const ROWS = `INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, slot, count, isum)
  VALUES (p_a, p_rel, 'a', '', v_slot, 1, 0),
         (p_a, p_rel, 'a', 'user_like', v_slot, 1, (p_w->>'user_like')::numeric),
         (p_a, p_rel, 'a', 'donate', v_slot, 1, (p_w->>'donate')::numeric),
         (p_a, p_rel, 'a', 'is_online', v_slot, 1, 0),
         (p_b, p_rel, 'b', '', v_slot, 1, 0)
  ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET
    count = s.count + EXCLUDED.count, isum = s.isum + EXCLUDED.isum;`;
const ONE_ROW = `INSERT INTO lean_stats AS s (profile_id, rel_id, side, slot, count, c1, s1, c2, s2, c3)
  VALUES (p_a, p_rel, 'a', v_slot, 1, 1, (p_w->>'user_like')::numeric, 1, (p_w->>'donate')::numeric, 1),
         (p_b, p_rel, 'b', v_slot, 1, 0, 0, 0, 0, 0)
  ON CONFLICT (profile_id, rel_id, side, slot) DO UPDATE SET
    count = s.count + 1, c1 = s.c1 + EXCLUDED.c1, s1 = s.s1 + EXCLUDED.s1, c2 = s.c2 + EXCLUDED.c2,
    s2 = s.s2 + EXCLUDED.s2, c3 = s.c3 + EXCLUDED.c3;`;
if (layout === 'one-row')
  await pool.query(`CREATE TABLE IF NOT EXISTS lean_stats (profile_id text COLLATE "C" NOT NULL, rel_id integer NOT NULL,
    side text COLLATE "C" NOT NULL, slot smallint NOT NULL, count bigint NOT NULL, c1 bigint NOT NULL, s1 numeric NOT NULL,
    c2 bigint NOT NULL, s2 numeric NOT NULL, c3 bigint NOT NULL, PRIMARY KEY (profile_id, rel_id, side, slot))`);
const MIN = `WITH t AS (SELECT db_a, db_b FROM relation_types WHERE rel_id = $1),
r AS (
  INSERT INTO relations (a, rel_id, b, weights, created_at, updated_at)
  SELECT $2, $1, $3, $4, $5, $5 FROM t
   WHERE EXISTS (SELECT 1 FROM profiles WHERE id = $2 AND db_id = t.db_a)
     AND EXISTS (SELECT 1 FROM profiles WHERE id = $3 AND db_id = t.db_b)
  ON CONFLICT DO NOTHING RETURNING 1),
y AS (INSERT INTO relations_by_b (b, rel_id, a) SELECT $3, $1, $2 FROM r),
s AS (
  INSERT INTO relation_stats AS s (profile_id, rel_id, side, prop, slot, count, isum)
  SELECT v.p, $1, v.side, '', (pg_backend_pid() % 16)::smallint, 1, 0
    FROM r, (VALUES ($2::text, 'a'), ($3::text, 'b')) v (p, side)
  ON CONFLICT (profile_id, rel_id, side, prop, slot) DO UPDATE SET count = s.count + 1)
SELECT CASE WHEN EXISTS (SELECT 1 FROM r) THEN 'ok' ELSE 'duplicate' END AS status`;
const INSERT = 'INSERT INTO bench_raw (a, rel_id, b, weights) VALUES ($2, $1, $3, $4)';
if (layout === 'insert')
  await pool.query(
    'CREATE TABLE IF NOT EXISTS bench_raw (a TEXT NOT NULL, rel_id INTEGER NOT NULL, b TEXT NOT NULL, weights JSONB NOT NULL, PRIMARY KEY (a, rel_id, b))',
  );
else if (layout !== 'min')
  await pool.query(LEAN_ATTACH.replace('__STATS__', layout === 'one-row' ? ONE_ROW : ROWS));
const statement =
  layout === 'min'
    ? { name: 'lean_min', text: MIN }
    : layout === 'insert'
      ? { name: 'lean_insert', text: INSERT }
      : { name: 'lean_attach', text: 'SELECT lean_attach($1, $2, $3, $4, $5) AS status' };

const app = Fastify({
  logger: false,
  bodyLimit: 1_048_576,
  routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
});
app.post('/api/v1.1/relations/attach', async (request, reply) => {
  const body = request.body;
  const a = body?.profile_a?.profile_id;
  const b = body?.profile_b?.profile_id;
  if (typeof a !== 'string' || typeof b !== 'string' || body.rel_id !== relId)
    return reply.code(400).send('{}');
  const w = JSON.stringify(body.weights ?? {});
  const { rows } = await pool.query({
    ...statement,
    values: layout === 'insert' ? [relId, a, b, w] : [relId, a, b, w, new Date().toISOString()],
  });
  reply.header('content-type', 'application/json; charset=utf-8');
  if (layout !== 'insert' && rows[0].status !== 'ok')
    return reply.code(409).send(`{"error":1,"error_text":"${rows[0].status}"}`);
  return reply.send(
    `{"error":0,"error_text":"","profile_a":"${a}","profile_b":"${b}","relation_id":${relId}}`,
  );
});

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`lean attach listening on ${address}\n`);
const stop = () =>
  app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
process.once('SIGTERM', stop);
