// Outage figures of the change feed's outbound side (issue #16; docs/reliability.md):
//   --mode webhook: a webhook receiver (a real node:http server) goes away for --down-seconds
//     while writers keep writing, then comes back; every event must arrive, in order, signed.
//   --mode amqp: RabbitMQ is stopped (rabbitmqctl stop_app) for --down-seconds under load and
//     started again (start_app); every event must reach a durable queue bound to the exchange.
//     When other clients use the broker, it closes only the publisher's connection instead.
// Usage: node --import tsx bench/outbound-outage.ts --mode webhook|amqp [--down-seconds N]
//        [--connections N] [--db PATH|URL]. Prints one JSON line of figures.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as amqp from 'amqplib';
import { verifyWebhookSignature } from '../src/client/webhook-signature.js';
import { DEFAULT_CONFIG } from '../src/config.js';
import { startServer } from '../src/server.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'webhook' },
    'down-seconds': { type: 'string' },
    connections: { type: 'string', default: '4' },
    db: { type: 'string' },
    'amqp-url': { type: 'string', default: 'amqp://guest:guest@127.0.0.1:5672' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'node --import tsx bench/outbound-outage.ts --mode webhook|amqp [--down-seconds N] [--connections N] [--db PATH|URL] [--amqp-url URL]',
  );
  process.exit(0);
}
const mode = values.mode;
if (mode !== 'webhook' && mode !== 'amqp') {
  console.error(`--mode: expected one of webhook, amqp, got "${mode}"`);
  process.exit(2);
}
const downSeconds = Number(values['down-seconds'] ?? (mode === 'webhook' ? 60 : 20));
const connections = Number(values.connections);
const ADMIN = 'outage-bench-admin-token-0123456789';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = mkdtempSync(join(tmpdir(), 'ties-outage-'));
const db = values.db ?? join(dir, 'ties.db');
const exchange = `ties.outage.${randomUUID().slice(0, 8)}`;

const server = await startServer({
  ...DEFAULT_CONFIG,
  db,
  port: 0,
  adminToken: ADMIN,
  logLevel: 'silent',
  outboundRetryMaxMs: 5_000,
  ...(mode === 'amqp' ? { publishUrl: values['amqp-url'], publishExchange: exchange } : {}),
});
const call = async (name: string, params: Record<string, unknown>) => {
  const res = await fetch(`${server.url}/api/v1.1/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: ADMIN, ...params }),
  });
  return (await res.json()) as Record<string, any>;
};
const dbId = (await call('databases/create', { name: 'people' })).data.id;
const relId = (
  await call('relations/types/create', {
    name: 'likes',
    db_a: dbId,
    db_b: dbId,
    properties: [{ name: 'hits', type: 'int', sum: true }],
  })
).data.rel_id;
const ids: string[] = [];
for (let i = 0; i < 50; i++) ids.push((await call('profiles/add', { db_id: dbId, data: {} })).profile_id);

// Receivers: what arrived, by seq, in arrival order.
const arrivals: number[] = [];
let badSignatures = 0;
let stopReceiver = async () => {};
let startReceiver = async () => {};
if (mode === 'webhook') {
  let secret = '';
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (!(await verifyWebhookSignature({ body: raw, header: req.headers['ties-signature'], secret })))
      badSignatures++;
    for (const e of (JSON.parse(raw.toString('utf8')) as { events: { seq: number }[] }).events)
      arrivals.push(e.seq);
    res.writeHead(204).end();
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const port = (http.address() as { port: number }).port;
  secret = (await call('webhooks/create', { url: `http://127.0.0.1:${port}/hook` })).data.secret;
  stopReceiver = async () => {
    http.close();
    http.closeAllConnections();
  };
  startReceiver = async () => {
    http.listen(port, '127.0.0.1');
    await once(http, 'listening');
  };
} else {
  const queueName = `${exchange}.bench`;
  const consume = async () => {
    for (;;) {
      try {
        const connection = await amqp.connect(values['amqp-url']!);
        connection.on('error', () => {});
        const channel = await connection.createChannel();
        await channel.assertExchange(exchange, 'topic', { durable: true });
        await channel.assertQueue(queueName, { durable: true });
        await channel.bindQueue(queueName, exchange, '#');
        await channel.consume(queueName, (msg) => {
          if (!msg) return;
          arrivals.push(Number(msg.properties.messageId));
          channel.ack(msg);
        });
        await once(connection, 'close');
      } catch {
        // The broker is down: try again.
      }
      await sleep(500);
    }
  };
  void consume();
  await sleep(1000);
  const foreign = () =>
    execFileSync('rabbitmqctl', ['list_connections', 'client_properties', '-q', '--no-table-headers'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter((l) => l.trim() && !l.includes('amqplib')).length;
  const restart = foreign() === 0;
  stopReceiver = async () => {
    if (restart) execFileSync('rabbitmqctl', ['stop_app'], { stdio: 'ignore' });
    else
      for (const line of execFileSync(
        'rabbitmqctl',
        ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'],
        {
          encoding: 'utf8',
        },
      ).split('\n'))
        if (line.includes(`ties publisher (${exchange})`))
          execFileSync('rabbitmqctl', ['close_connection', line.split('\t')[0]!, 'outage bench'], {
            stdio: 'ignore',
          });
  };
  startReceiver = async () => {
    if (restart) execFileSync('rabbitmqctl', ['start_app'], { stdio: 'ignore' });
  };
  console.error(
    restart
      ? 'broker: stop_app / start_app'
      : 'broker: other clients connected; closing the publisher connection only',
  );
}

// Load: `connections` writers strengthening random pairs until told to stop.
let writing = true;
let acknowledged = 0;
const writer = async () => {
  while (writing) {
    const a = ids[Math.floor(Math.random() * ids.length)]!;
    let b = ids[Math.floor(Math.random() * ids.length)]!;
    if (a === b) b = ids[(ids.indexOf(a) + 1) % ids.length]!;
    const answer = await call('relations/strengthen', {
      rel_id: relId,
      profile_a: { profile_id: a },
      profile_b: { profile_id: b },
      weights: { hits: 1 },
    });
    if (answer.error === 0) acknowledged++;
  }
};
const load = Array.from({ length: connections }, writer);
const t0 = Date.now();
await sleep(5_000);
const downAt = Date.now();
await stopReceiver();
await sleep(downSeconds * 1000);
await startReceiver();
const upAt = Date.now();
await sleep(5_000);
writing = false;
await Promise.all(load);
const head = (await server.ties.store.listWebhooks()).head;
const seqsWanted = head;
const unique = () => new Set(arrivals).size;
let caughtUpAt = 0;
const deadline = Date.now() + 600_000;
while (Date.now() < deadline) {
  const delivered = new Set(arrivals);
  let all = true;
  for (let s = 1; s <= seqsWanted; s++)
    if (!delivered.has(s)) {
      all = false;
      break;
    }
  if (all) {
    caughtUpAt = Date.now();
    break;
  }
  await sleep(100);
}
// Order: the first arrival of each seq comes after the first arrival of every smaller one.
const firsts: number[] = [];
const seen = new Set<number>();
for (const s of arrivals)
  if (!seen.has(s)) {
    seen.add(s);
    firsts.push(s);
  }
const inOrder = firsts.every((s, i) => i === 0 || s > firsts[i - 1]!);
const figures = {
  mode,
  engine: server.ties.store.engine,
  down_seconds: downSeconds,
  connections,
  writes_acknowledged: acknowledged,
  events_in_log: seqsWanted,
  events_delivered: unique(),
  missing: seqsWanted - [...seen].filter((s) => s <= seqsWanted).length,
  deliveries: arrivals.length,
  redelivered: arrivals.length - unique(),
  in_order: inOrder,
  bad_signatures: mode === 'webhook' ? badSignatures : null,
  caught_up_seconds_after_return: caughtUpAt ? Math.round((caughtUpAt - upAt) / 100) / 10 : null,
  total_seconds: Math.round((Date.now() - t0) / 1000),
  down_from_s: Math.round((downAt - t0) / 1000),
  load: loadavg().map((l) => Math.round(l * 10) / 10),
};
console.log(JSON.stringify(figures));
await server.close();
if (mode === 'amqp') {
  const connection = await amqp.connect(values['amqp-url']!);
  const channel = await connection.createChannel();
  await channel.deleteQueue(`${exchange}.bench`).catch(() => {});
  await channel.deleteExchange(exchange).catch(() => {});
  await connection.close();
}
rmSync(dir, { recursive: true, force: true });
process.exit(figures.missing === 0 && inOrder && (mode === 'amqp' || badSignatures === 0) ? 0 : 1);
