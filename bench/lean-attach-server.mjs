// The "same semantics, lean" attach of issue #11, for the side-by-side experiment in
// docs/benchmarks.md: a Fastify server (the noop's options) that does exactly the storage work of
// Ties' attach on a copy of a Ties store file (schema version 2) — token hash lookup, both profile
// lookups, the relation under A and its entry under B, A's total and per-property counts and int
// sums and B's count merged per batch, group commit once per event-loop turn (BEGIN IMMEDIATE …
// COMMIT, WAL, synchronous=FULL), answer after COMMIT — with nothing else: no validation beyond
// the body's shape, no per-call savepoint, no core, no catalogue. Usage: node lean-attach-server.mjs FILE
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const db = new Database(process.argv[2]);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 10000');
const token = db.prepare('SELECT id FROM tokens WHERE hash = ?').pluck();
const find = db.prepare('SELECT id FROM profiles WHERE id = ? AND db_id = ?').pluck();
const type = db.prepare('SELECT db_a, db_b FROM relation_types WHERE rel_id = ?');
const insert =
  db.prepare(`INSERT INTO relations_a (rel_id, a, kind, prop, value, b, weights, created_ms, updated_ms)
  VALUES (?, unhex(?), 1, '', 0, unhex(?), ?, ?, ?) ON CONFLICT DO NOTHING`);
const insertB = db.prepare('INSERT INTO relations_b (rel_id, b, a) VALUES (?, unhex(?), unhex(?))');
const stat = db.prepare(`INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, sum, sum_c)
  VALUES (?, unhex(?), 0, ?, 0, x'', ?, ?, 0.0) ON CONFLICT (rel_id, a, kind, prop, value, b)
  DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum`);
const total = db.prepare(`INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, tops)
  VALUES (?, unhex(?), 0, '', 0, x'', ?, 0) ON CONFLICT (rel_id, a, kind, prop, value, b)
  DO UPDATE SET count = count + excluded.count`);
const countB = db.prepare(`INSERT INTO relations_b (rel_id, b, a, count) VALUES (?, unhex(?), x'', ?)
  ON CONFLICT (rel_id, b, a) DO UPDATE SET count = count + excluded.count`);
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const tokens = new Map();

let queue = [];
let scheduled = false;
function drain() {
  scheduled = false;
  const batch = queue;
  queue = [];
  const as = new Map();
  const bs = new Map();
  begin.run();
  for (const call of batch) {
    const { relId, a, b, weights } = call;
    const t = type.get(relId);
    if (!t || !find.get(a, t.db_a) || !find.get(b, t.db_b)) {
      call.answer = '{"error":404,"error_text":"profile not found"}';
      continue;
    }
    const now = Date.now();
    if (insert.run(relId, a, b, JSON.stringify(weights), now, now).changes === 0) {
      call.answer = '{"error":409,"error_text":"relation exists"}';
      continue;
    }
    insertB.run(relId, b, a);
    const key = `${relId} ${a}`;
    const agg = as.get(key) ?? { relId, a, count: 0, props: new Map() };
    agg.count++;
    for (const [name, value] of Object.entries(weights)) {
      const p = agg.props.get(name) ?? { count: 0, sum: typeof value === 'number' ? 0n : null };
      p.count++;
      if (p.sum !== null) p.sum += BigInt(value);
      agg.props.set(name, p);
    }
    as.set(key, agg);
    bs.set(`${relId} ${b}`, (bs.get(`${relId} ${b}`) ?? 0) + 1);
    call.answer = `{"error":0,"error_text":"","profile_a":"${a}","profile_b":"${b}","relation_id":${relId}}`;
  }
  for (const agg of [...as.values()].sort((x, y) => (x.a < y.a ? -1 : 1))) {
    for (const [name, p] of [...agg.props].sort()) stat.run(agg.relId, agg.a, name, p.count, p.sum);
    total.run(agg.relId, agg.a, agg.count);
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
app.post('/api/v1.1/relations/attach', (request, reply) => {
  const bearer = (request.headers.authorization ?? '').replace(/^Bearer /, '');
  const hash = createHash('sha256').update(bearer).digest('hex');
  if (!tokens.has(hash)) tokens.set(hash, token.get(hash));
  if (!tokens.get(hash)) return reply.code(401).send('{"error":401}');
  const body = request.body;
  queue.push({
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
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`lean listening on ${address}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
