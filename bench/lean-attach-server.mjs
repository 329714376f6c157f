// The "same semantics, lean" hot writes of issue #11, for the side-by-side experiments in
// docs/benchmarks.md: a Fastify server (the noop's options) that does exactly the storage work of
// Ties' attach or strengthen on a copy of a Ties store file (the v2 layout), with nothing else: no
// validation beyond the body's shape, no per-call savepoint, no core, no catalogue beyond the one
// type it reads. Group commit once per event-loop turn (BEGIN IMMEDIATE … COMMIT, WAL,
// synchronous=FULL), answer after COMMIT; the token hash looked up once and remembered.
// - attach: both profile lookups, the relation under A and its entry under B, A's total and
//   per-property counts and int sums and B's count merged per batch (no change-log event: this
//   experiment predates the feed).
// - strengthen (of an existing relation): both profile lookups, the relation's weights read, the
//   additions made, the relation written back, its change-log event (before and after, as Ties
//   writes it with the feed on, its default), and per batch A's int sums and — when A keeps top rows
//   (its total row's `tops`) — each changed top entry deleted and inserted at its new value.
// Usage: node lean-attach-server.mjs FILE
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const db = new Database(process.argv[2]);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 10000');
const RELATION = `rel_id = ? AND a = unhex(?) AND kind = 1 AND prop = '' AND value = 0 AND b = unhex(?)`;
const token = db.prepare('SELECT id FROM tokens WHERE hash = ?').pluck();
const find = db.prepare('SELECT id FROM profiles WHERE id = ? AND db_id = ?').pluck();
const type = db.prepare('SELECT db_a, db_b, properties FROM relation_types WHERE rel_id = ?');
const insert =
  db.prepare(`INSERT INTO relations_a (rel_id, a, kind, prop, value, b, weights, created_ms, updated_ms)
  VALUES (?, unhex(?), 1, '', 0, unhex(?), ?, ?, ?) ON CONFLICT DO NOTHING`);
const insertB = db.prepare('INSERT INTO relations_b (rel_id, b, a) VALUES (?, unhex(?), unhex(?))');
const relGet = db.prepare(`SELECT weights FROM relations_a WHERE ${RELATION}`).pluck();
const relSet = db.prepare(`UPDATE relations_a SET weights = ?, updated_ms = ? WHERE ${RELATION}`);
const logInsert =
  db.prepare(`INSERT INTO change_log (at, call, rel_id, profile_a, db_a, profile_b, db_b, before, after)
  VALUES (?, 'relations/strengthen', ?, ?, ?, ?, ?, ?, ?)`);
const stat = db.prepare(`INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, sum, sum_c)
  VALUES (?, unhex(?), 0, ?, 0, x'', ?, ?, 0.0) ON CONFLICT (rel_id, a, kind, prop, value, b)
  DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum`);
const total = db.prepare(`INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, tops)
  VALUES (?, unhex(?), 0, '', 0, x'', ?, 0) ON CONFLICT (rel_id, a, kind, prop, value, b)
  DO UPDATE SET count = count + excluded.count`);
const tops = db
  .prepare(
    `SELECT tops FROM relations_a WHERE rel_id = ? AND a = unhex(?) AND kind = 0 AND prop = '' AND value = 0 AND b = x''`,
  )
  .pluck();
const topDelete = db.prepare(
  'DELETE FROM relations_a WHERE rel_id = ? AND a = unhex(?) AND kind = 2 AND prop = ? AND value = ? AND b = unhex(?)',
);
const topInsert = db.prepare(
  'INSERT INTO relations_a (rel_id, a, kind, prop, value, b) VALUES (?, unhex(?), 2, ?, ?, unhex(?))',
);
const countB = db.prepare(`INSERT INTO relations_b (rel_id, b, a, count) VALUES (?, unhex(?), x'', ?)
  ON CONFLICT (rel_id, b, a) DO UPDATE SET count = count + excluded.count`);
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const tokens = new Map();
/** Relation types as strengthen needs them (databases, properties), read once. */
const types = new Map();
function typeOf(relId) {
  if (!types.has(relId)) {
    const t = type.get(relId);
    types.set(relId, t && { db_a: t.db_a, db_b: t.db_b, properties: JSON.parse(t.properties) });
  }
  return types.get(relId);
}

/** A's aggregate changes in one batch: relation count, per-property counts and sums, top moves. */
function aggregateOf(as, relId, a) {
  const key = `${relId} ${a}`;
  let agg = as.get(key);
  if (!agg) {
    agg = { relId, a, count: 0, props: new Map(), tops: new Map() };
    as.set(key, agg);
  }
  return agg;
}

function addProp(agg, name, count, sum) {
  const p = agg.props.get(name) ?? { count: 0, sum: sum === null ? null : 0n };
  p.count += count;
  if (sum !== null) p.sum += sum;
  agg.props.set(name, p);
}

function attach(call, as, bs) {
  const { relId, a, b, weights } = call;
  const t = type.get(relId);
  if (!t || !find.get(a, t.db_a) || !find.get(b, t.db_b))
    return '{"error":404,"error_text":"profile not found"}';
  const now = Date.now();
  if (insert.run(relId, a, b, JSON.stringify(weights), now, now).changes === 0)
    return '{"error":409,"error_text":"relation exists"}';
  insertB.run(relId, b, a);
  const agg = aggregateOf(as, relId, a);
  agg.count++;
  for (const [name, value] of Object.entries(weights))
    addProp(agg, name, 1, typeof value === 'number' ? BigInt(value) : null);
  bs.set(`${relId} ${b}`, (bs.get(`${relId} ${b}`) ?? 0) + 1);
  return `{"error":0,"error_text":"","profile_a":"${a}","profile_b":"${b}","relation_id":${relId}}`;
}

function strengthen(call, as) {
  const { relId, a, b, weights } = call;
  const t = typeOf(relId);
  if (!t || !find.get(a, t.db_a) || !find.get(b, t.db_b))
    return '{"error":404,"error_text":"profile not found"}';
  const oldText = relGet.get(relId, a, b);
  // The benchmark strengthens an existing relation; creating one is attach's work, measured there.
  if (oldText === undefined) return '{"error":404,"error_text":"relation not found"}';
  const before = JSON.parse(oldText);
  const after = { ...before };
  for (const [name, add] of Object.entries(weights)) {
    const n = (before[name] ?? 0) + add;
    if (!Number.isSafeInteger(n)) return `{"error":400,"error_text":"overflow of ${name}"}`;
    after[name] = n;
  }
  const afterText = JSON.stringify(after);
  const now = Date.now();
  relSet.run(afterText, now, relId, a, b);
  logInsert.run(new Date(now).toISOString(), relId, a, t.db_a, b, t.db_b, oldText, afterText);
  const agg = aggregateOf(as, relId, a);
  for (const p of t.properties) {
    const old = before[p.name];
    const value = after[p.name];
    if (old === value) continue;
    if (p.sum) addProp(agg, p.name, 0, BigInt(value) - BigInt(old));
    if (p.top > 0) {
      // One top entry per (property, B): the batch's first old value out, its last value in.
      const key = `${p.name} ${b}`;
      const move = agg.tops.get(key);
      if (move) move.to = value;
      else agg.tops.set(key, { prop: p.name, b, from: old, to: value });
    }
  }
  return `{"error":0,"error_text":"","profile_a":"${a}","profile_b":"${b}","relation_id":${relId}}`;
}

let queue = [];
let scheduled = false;
function drain() {
  scheduled = false;
  const batch = queue;
  queue = [];
  const as = new Map();
  const bs = new Map();
  begin.run();
  for (const call of batch) call.answer = call.strengthen ? strengthen(call, as) : attach(call, as, bs);
  for (const agg of [...as.values()].sort((x, y) => (x.a < y.a ? -1 : 1))) {
    for (const [name, p] of [...agg.props].sort()) {
      if (p.count !== 0 || (p.sum !== null && p.sum !== 0n)) stat.run(agg.relId, agg.a, name, p.count, p.sum);
    }
    if (agg.count !== 0) total.run(agg.relId, agg.a, agg.count);
    if (agg.tops.size > 0 && tops.get(agg.relId, agg.a) === 1) {
      for (const m of agg.tops.values()) {
        if (m.from === m.to) continue;
        topDelete.run(agg.relId, agg.a, m.prop, BigInt(m.from), m.b);
        topInsert.run(agg.relId, agg.a, m.prop, BigInt(m.to), m.b);
      }
    }
  }
  for (const [key, n] of [...bs].sort()) {
    const [relId, b] = key.split(' ');
    countB.run(Number(relId), b, n);
  }
  commit.run();
  for (const call of batch)
    call.reply.header('content-type', 'application/json; charset=utf-8').send(call.answer);
}

const app = Fastify({
  logger: false,
  bodyLimit: 1_048_576,
  routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
});
function route(request, reply, isStrengthen) {
  const bearer = (request.headers.authorization ?? '').replace(/^Bearer /, '');
  const hash = createHash('sha256').update(bearer).digest('hex');
  if (!tokens.has(hash)) tokens.set(hash, token.get(hash));
  if (!tokens.get(hash)) return reply.code(401).send('{"error":401}');
  const body = request.body;
  queue.push({
    strengthen: isStrengthen,
    relId: body.rel_id,
    a: body.profile_a.profile_id,
    b: body.profile_b.profile_id,
    weights: body.weights,
    reply,
  });
  if (!scheduled) {
    scheduled = true;
    setImmediate(drain);
  }
  return reply;
}
app.post('/api/v1.1/relations/attach', (request, reply) => route(request, reply, false));
app.post('/api/v1.1/relations/strengthen', (request, reply) => route(request, reply, true));
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`lean listening on ${address}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
