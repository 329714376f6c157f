// Shared pieces of the outbound tests: a real webhook receiver (node:http) that can be told to fail,
// records every request and checks its signature; a running Ties server (in-process, listening)
// on a fresh store of an engine; and a small JSON caller.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../../src/client/webhook-signature.js';
import { type Config, DEFAULT_CONFIG } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { CITUS_URL } from '../support/citus-engine.js';
import { dropSchema, freshSchemaName, PG_URL } from '../support/pg-engine.js';

export const ADMIN = 'outbound-admin-token-0123456789';

export interface WireEvent {
  seq: number;
  at: string;
  call: string;
  rel_id: number;
  profile_a: string;
  db_a: number;
  profile_b: string;
  db_b: number;
  before: unknown;
  after: unknown;
}

export interface ReceivedRequest {
  readonly at: number;
  readonly status: number;
  readonly webhookId: number;
  readonly events: readonly WireEvent[];
  readonly signatureValid: boolean;
}

export interface Receiver {
  readonly url: string;
  /** Every request, in arrival order, with the status answered. */
  readonly requests: ReceivedRequest[];
  /** Answer this status (500 while "down"); 200 by default. */
  status: number;
  /** Most requests of one webhook in flight at once (two senders of one webhook would make it 2). */
  readonly maxInFlight: number;
  /** Events of the 2xx-answered requests, in arrival order. */
  accepted(): WireEvent[];
  close(): Promise<void>;
}

export async function startReceiver(secret: (webhookId: number) => string, delayMs = 0): Promise<Receiver> {
  const inFlight = new Map<number, number>();
  let maxInFlight = 0;
  const requests: ReceivedRequest[] = [];
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const receiver = {
    url: '',
    requests,
    status: 200,
    get maxInFlight() {
      return maxInFlight;
    },
    accepted() {
      return requests.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => r.events);
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer(async (req, res) => {
    const raw = await read(req);
    const body = JSON.parse(raw.toString('utf8')) as { webhook_id: number; events: WireEvent[] };
    const id = body.webhook_id;
    inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
    maxInFlight = Math.max(maxInFlight, inFlight.get(id)!);
    try {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const status = receiver.status;
      requests.push({
        at: Date.now(),
        status,
        webhookId: body.webhook_id,
        events: body.events,
        signatureValid: await verifyWebhookSignature({
          body: raw,
          header: req.headers['ties-signature'],
          secret: secret(id),
        }),
      });
      res.writeHead(status).end();
    } finally {
      inFlight.set(id, inFlight.get(id)! - 1);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  receiver.url = `http://127.0.0.1:${address.port}/hook`;
  return receiver;
}

/** A store location per engine the tests run against, and how to remove it. */
export interface StoreLocation {
  readonly name: string;
  readonly db: string;
  /** Settings the server needs for this location (the SQLite writer thread). */
  readonly config?: Partial<Config>;
  remove(): Promise<void>;
}

export function storeLocations(): StoreLocation[] {
  const out: StoreLocation[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ties-outbound-'));
  out.push({
    name: 'sqlite',
    db: join(dir, 'ties.db'),
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  });
  // The worker-thread writer: cursor claims and updates cross to the writer thread as plain data.
  const workerDir = mkdtempSync(join(tmpdir(), 'ties-outbound-worker-'));
  out.push({
    name: 'sqlite (worker writer)',
    db: join(workerDir, 'ties.db'),
    config: { sqliteWriter: 'worker' },
    remove: async () => rmSync(workerDir, { recursive: true, force: true }),
  });
  for (const [name, url] of [
    ['postgres', PG_URL],
    ['citus', CITUS_URL],
  ] as const) {
    if (!url) continue;
    const schema = freshSchemaName();
    out.push({ name, db: `${url}?schema=${schema}`, remove: () => dropSchema(schema, url) });
  }
  return out;
}

export function startTies(db: string, config: Partial<Config> = {}): Promise<RunningServer> {
  return startServer({
    ...DEFAULT_CONFIG,
    db,
    port: 0,
    adminToken: ADMIN,
    logLevel: 'silent',
    outboundRetryMaxMs: 400,
    ...config,
  });
}

export function caller(base: string) {
  return async (name: string, params: Record<string, unknown>) => {
    const res = await fetch(`${base}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: ADMIN, ...params }),
    });
    const body = (await res.json()) as Record<string, any>;
    assert.equal(body.error, 0, `${name}: ${JSON.stringify(body)}`);
    return body;
  };
}

/** A database, a relation type with an int property, and `n` profiles A and B. */
export async function workspace(call: ReturnType<typeof caller>, n: number) {
  const db = (await call('databases/create', { name: 'people' })).data.id as number;
  const relId = (
    await call('relations/types/create', {
      name: 'likes',
      db_a: db,
      db_b: db,
      properties: [{ name: 'hits', type: 'int', sum: true }],
    })
  ).data.rel_id as number;
  const other = (await call('relations/types/create', { name: 'knows', db_a: db, db_b: db })).data
    .rel_id as number;
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await call('profiles/add', { db_id: db, data: {} })).profile_id as string);
  return { db, relId, other, ids };
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Seqs in first-arrival order (a redelivery repeats seqs already seen; at least once allows it). */
export function firstArrivals(events: readonly WireEvent[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (const e of events) {
    if (seen.has(e.seq)) continue;
    seen.add(e.seq);
    out.push(e.seq);
  }
  return out;
}

export function assertInOrder(seqs: readonly number[]): void {
  for (let i = 1; i < seqs.length; i++)
    assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}`);
}
