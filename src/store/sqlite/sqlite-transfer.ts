// The transfer port (../transfer/transfer-port.ts) on a SQLite file: reads in one read
// transaction (a snapshot, whatever a running server writes meanwhile), writes in one transaction
// per chunk straight into the schema version 2 tables, and rebuilds aggregates with the ledger's
// own rebuild. Ids are 12-byte blobs in the relation tables (sqlite-layout.ts).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ChangeEvent } from '../../core/change-feed.js';
import { matchKeyPairs, profileMatchKeys } from '../../core/fields.js';
import type { Channel, Database, PropertyDef, RelationType, SubscriptionStatus } from '../../core/model.js';
import type { StoredSubscription } from '../../core/store.js';
import { catalogMappers } from '../catalog-rows.js';
import type {
  AggregateRecord,
  CatalogueRows,
  FeedRows,
  ProfileRecord,
  RelationKey,
  RelationRecord,
  StoreCounts,
  TransferWriter,
} from '../transfer/transfer-port.js';
import { AggregateLedger, keepsSum } from './sqlite-aggregate-ledger.js';
import { openConnection } from './sqlite-connection.js';
import * as feed from './sqlite-feed-transfer.js';
import { KIND, TOP_ROWS } from './sqlite-layout.js';
import { type Db, Statements } from './sqlite-statements.js';

const map = catalogMappers<string>((text) => JSON.parse(text));
const blob = (hex: string): Buffer => Buffer.from(hex, 'hex');
const REL = `kind = ${KIND.relation} AND prop = '' AND value = 0`;

interface SubRow {
  profile_id: string;
  resource_id: number;
  channel: Channel;
  contact: string;
  contact_key: string;
  status: SubscriptionStatus;
  priority: number;
}

/**
 * Opens a SQLite store for a copy. `snapshot`: read-only, every read in one read transaction
 * (the source); otherwise writable and migrated (the target, or a store to export from).
 */
export function openSqliteTransfer(
  path: string,
  options: { readonly snapshot: boolean; readonly cacheMb?: number | undefined },
): TransferWriter {
  let db: Db;
  if (!options.snapshot && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  try {
    db = openConnection({ path, readonly: options.snapshot, cacheMb: options.cacheMb });
  } catch (err) {
    if (options.snapshot && /needs migrating/.test((err as Error).message)) {
      throw new Error(
        `${path} was made by an older Ties: open it once with \`ties serve\` (it migrates), then copy`,
      );
    }
    throw err;
  }
  if (options.snapshot) {
    // The first read starts the snapshot; it lasts until close.
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM databases').get();
  }
  return new SqliteTransfer(db, path);
}

class SqliteTransfer implements TransferWriter {
  readonly engine = 'sqlite' as const;

  constructor(
    private readonly db: Db,
    readonly where: string,
  ) {}

  private all<R>(sql: string, ...params: unknown[]): R[] {
    return this.db.prepare<unknown[], R>(sql).all(...params);
  }
  private value(sql: string, ...params: unknown[]): number {
    return (
      (this.db
        .prepare(sql)
        .pluck()
        .get(...params) as number | null) ?? 0
    );
  }

  async catalogue(): Promise<CatalogueRows> {
    const seq = (name: string) => this.value('SELECT seq FROM sqlite_sequence WHERE name = ?', name);
    return {
      databases: this.all<never>('SELECT * FROM databases ORDER BY id').map(map.toDatabase),
      resources: this.all<never>('SELECT * FROM resources ORDER BY id').map(map.toResource),
      relationTypes: this.all<never>('SELECT * FROM relation_types ORDER BY rel_id').map(map.toRelationType),
      tokens: this.all<never>('SELECT * FROM tokens ORDER BY id').map(map.toTokenRecord),
      lastRelId: Math.max(seq('relation_types'), this.value('SELECT max(rel_id) FROM relation_types')),
      lastTokenId: Math.max(seq('tokens'), this.value('SELECT max(id) FROM tokens')),
    };
  }

  async counts(): Promise<StoreCounts> {
    const relations: Record<number, number> = {};
    for (const row of this.all<{ rel_id: number; n: number }>(
      `SELECT rel_id, count(*) AS n FROM relations_a WHERE kind = ${KIND.relation} GROUP BY rel_id`,
    ))
      relations[row.rel_id] = row.n;
    return {
      databases: this.value('SELECT count(*) FROM databases'),
      resources: this.value('SELECT count(*) FROM resources'),
      relationTypes: this.value('SELECT count(*) FROM relation_types'),
      tokens: this.value('SELECT count(*) FROM tokens'),
      profiles: this.value('SELECT count(*) FROM profiles'),
      subscriptions: this.value('SELECT count(*) FROM subscriptions'),
      relations,
      ...feed.feedCounts(this.db),
    };
  }

  async *profiles(after: string, chunk: number): AsyncIterable<ProfileRecord[]> {
    const page = this.db.prepare<[string, number], Record<string, string | number>>(
      'SELECT id, db_id, fields, created_at, updated_at FROM profiles WHERE id > ? ORDER BY id LIMIT ?',
    );
    const subs = this.db.prepare<[string, string], SubRow>(
      `SELECT profile_id, resource_id, channel, contact, contact_key, status, priority FROM subscriptions
       WHERE profile_id > ? AND profile_id <= ? ORDER BY profile_id, resource_id, channel, contact_key`,
    );
    let last = after;
    for (;;) {
      const rows = page.all(last, chunk);
      if (rows.length === 0) return;
      const byProfile = groupSubscriptions(subs.all(last, rows.at(-1)!.id as string));
      yield rows.map((r) => ({
        id: r.id as string,
        dbId: r.db_id as number,
        fields: JSON.parse(r.fields as string),
        subscriptions: byProfile.get(r.id as string) ?? [],
        createdAt: r.created_at as string,
        updatedAt: r.updated_at as string,
      }));
      last = rows.at(-1)!.id as string;
      if (rows.length < chunk) return;
    }
  }

  async *relations(relId: number, after: RelationKey | null, chunk: number): AsyncIterable<RelationRecord[]> {
    // Rows of A after the last one read, then the next profiles A: two ranges of the primary key.
    const page = this.db.prepare<unknown[], { a: Buffer; b: Buffer; weights: string; c: number; u: number }>(
      `SELECT a, b, weights, created_ms AS c, updated_ms AS u FROM relations_a
       WHERE rel_id = @rel AND ${REL} AND ((a = @a AND b > @b) OR a > @a)
       ORDER BY a, kind, prop, value DESC, b LIMIT @limit`,
    );
    let a = blob(after?.a ?? '');
    let b = blob(after?.b ?? '');
    for (;;) {
      const rows = page.all({ rel: relId, a, b, limit: chunk });
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        a: r.a.toString('hex'),
        b: r.b.toString('hex'),
        weights: JSON.parse(r.weights),
        createdAt: new Date(r.c).toISOString(),
        updatedAt: new Date(r.u).toISOString(),
      }));
      ({ a, b } = rows.at(-1)!);
      if (rows.length < chunk) return;
    }
  }

  async *aggregates(type: RelationType, chunk: number): AsyncIterable<AggregateRecord[]> {
    const props = new Map<string, PropertyDef>(type.properties.map((p) => [p.name, p]));
    const ofA = this.db.prepare<
      unknown[],
      { id: Buffer; prop: string; count: number; sum: number | null; c: number | null }
    >(
      `SELECT a AS id, prop, count, sum, sum_c AS c FROM relations_a
       WHERE rel_id = @rel AND kind = ${KIND.aggregate} AND ((a = @a AND prop > @prop) OR a > @a) AND count <> 0
       ORDER BY a, kind, prop LIMIT @limit`,
    );
    let id: Buffer = Buffer.alloc(0);
    let prop = '';
    for (;;) {
      const rows = ofA.all({ rel: type.relId, a: id, prop, limit: chunk });
      if (rows.length > 0) {
        yield rows.map((r) => {
          const def = props.get(r.prop);
          const sum =
            def && keepsSum(def) && r.sum !== null ? (def.type === 'int' ? r.sum : r.sum + (r.c ?? 0)) : null;
          return { side: 'a', profileId: r.id.toString('hex'), prop: r.prop, count: r.count, sum };
        });
        ({ id, prop } = rows.at(-1)!);
      }
      if (rows.length < chunk) break;
    }
    const ofB = this.db.prepare<unknown[], { id: Buffer; count: number }>(
      `SELECT b AS id, count FROM relations_b WHERE rel_id = ? AND a = x'' AND b > ? AND count <> 0 ORDER BY b LIMIT ?`,
    );
    id = Buffer.alloc(0);
    for (;;) {
      const rows = ofB.all(type.relId, id, chunk);
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        side: 'b',
        profileId: r.id.toString('hex'),
        prop: '',
        count: r.count,
        sum: null,
      }));
      id = rows.at(-1)!.id;
      if (rows.length < chunk) return;
    }
  }

  async feed(): Promise<FeedRows> {
    return feed.readFeed(this.db);
  }

  async *changes(after: number, chunk: number): AsyncIterable<ChangeEvent[]> {
    yield* feed.readChanges(this.db, after, chunk);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.close();
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  async isEmpty(): Promise<boolean> {
    return ['databases', 'resources', 'relation_types', 'tokens', 'profiles'].every(
      (table) => this.db.prepare(`SELECT 1 FROM ${table} LIMIT 1`).get() === undefined,
    );
  }

  async clear(): Promise<void> {
    this.db
      .transaction(() => {
        for (const table of [
          'databases',
          'resources',
          'relation_types',
          'tokens',
          'profiles',
          'profile_keys',
          'subscriptions',
          'relations_a',
          'relations_b',
        ])
          this.db.exec(`DELETE FROM ${table}`);
        this.db.exec(`DELETE FROM sqlite_sequence WHERE name IN ('relation_types', 'tokens')`);
        feed.clearFeed(this.db);
      })
      .immediate();
  }

  async writeCatalogue(rows: CatalogueRows): Promise<void> {
    const json = JSON.stringify;
    const db = this.db;
    db.transaction(() => {
      const database = db.prepare(
        'INSERT INTO databases (id, name, description, custom_fields, created_at) VALUES (?, ?, ?, ?, ?)',
      );
      for (const d of rows.databases)
        database.run(d.id, d.name, d.description, json(d.customFields), d.createdAt);
      const resource = db.prepare(
        'INSERT INTO resources (id, name, channels, db_ids, url, trk_domain, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of rows.resources)
        resource.run(r.id, r.name, json(r.channels), json(r.dbIds), r.url, r.trkDomain, r.createdAt);
      const type = db.prepare(
        'INSERT INTO relation_types (rel_id, name, db_a, db_b, properties, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const t of rows.relationTypes)
        type.run(t.relId, t.name, t.dbA, t.dbB, json(t.properties), t.createdAt);
      const token = db.prepare(
        'INSERT INTO tokens (id, name, rights, hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const t of rows.tokens) token.run(t.id, t.name, json(t.rights), t.hash, t.createdAt, t.lastUsedAt);
      // AUTOINCREMENT keeps the highest id in sqlite_sequence: a deleted type's id stays used.
      const raise = db.prepare('UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?');
      const add = db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
      for (const [name, last] of [
        ['relation_types', rows.lastRelId],
        ['tokens', rows.lastTokenId],
      ] as const) {
        if (last > 0 && raise.run(last, name).changes === 0) add.run(name, last);
      }
    }).immediate();
  }

  async writeProfiles(
    rows: readonly ProfileRecord[],
    databases: ReadonlyMap<number, Database>,
  ): Promise<void> {
    const db = this.db;
    const profile = db.prepare(
      'INSERT INTO profiles (id, db_id, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    const key = db.prepare(
      'INSERT OR IGNORE INTO profile_keys (db_id, kind, key, profile_id) VALUES (?, ?, ?, ?)',
    );
    const sub = db.prepare(
      `INSERT INTO subscriptions (profile_id, resource_id, channel, contact, contact_key, status, db_id, priority)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      for (const p of rows) {
        const database = databases.get(p.dbId);
        if (!database) throw new Error(`profile ${p.id} is in database ${p.dbId}, which the catalogue lacks`);
        profile.run(p.id, p.dbId, JSON.stringify(p.fields), p.createdAt, p.updatedAt);
        for (const [kind, k] of matchKeyPairs(profileMatchKeys(p.fields, database)))
          key.run(p.dbId, kind, k, p.id);
        for (const s of p.subscriptions)
          sub.run(p.id, s.resourceId, s.channel, s.contact, s.contactKey, s.status, p.dbId, s.priority);
      }
    }).immediate();
  }

  async writeRelations(relId: number, rows: readonly RelationRecord[]): Promise<void> {
    const db = this.db;
    const byA = db.prepare(
      `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, weights, created_ms, updated_ms)
       VALUES (?, ?, ${KIND.relation}, '', 0, ?, ?, ?, ?)`,
    );
    const byB = db.prepare('INSERT INTO relations_b (rel_id, b, a) VALUES (?, ?, ?)');
    db.transaction(() => {
      for (const r of rows) {
        const a = blob(r.a);
        const b = blob(r.b);
        byA.run(relId, a, b, JSON.stringify(r.weights), Date.parse(r.createdAt), Date.parse(r.updatedAt));
        byB.run(relId, b, a);
      }
    }).immediate();
  }

  async lastProfileId(): Promise<string | null> {
    return (this.db.prepare('SELECT max(id) FROM profiles').pluck().get() as string | null) ?? null;
  }

  async lastRelation(relId: number): Promise<RelationKey | null> {
    const row = this.db
      .prepare<[number], { a: Buffer; b: Buffer }>(
        `SELECT a, b FROM relations_a WHERE rel_id = ? AND ${REL} ORDER BY a DESC, b DESC LIMIT 1`,
      )
      .get(relId);
    return row ? { a: row.a.toString('hex'), b: row.b.toString('hex') } : null;
  }

  async writeChanges(rows: readonly ChangeEvent[]): Promise<void> {
    feed.writeChanges(this.db, rows);
  }

  async lastChangeSeq(): Promise<number> {
    return feed.lastChangeSeq(this.db);
  }

  async writeFeed(rows: FeedRows): Promise<void> {
    feed.writeFeed(this.db, rows);
  }

  async rebuildAggregates(type: RelationType): Promise<void> {
    const db = this.db;
    const ledger = new AggregateLedger(new Statements(db));
    db.transaction(() => {
      db.prepare(`DELETE FROM relations_a WHERE rel_id = ? AND kind <> ${KIND.relation}`).run(type.relId);
      db.prepare(`DELETE FROM relations_b WHERE rel_id = ? AND a = x''`).run(type.relId);
      // Totals first: A's says whether A keeps top rows, which the property rebuild reads.
      db.prepare(
        `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, tops)
         SELECT rel_id, a, ${KIND.aggregate}, '', 0, x'', count(*), count(*) > ?
         FROM relations_a WHERE rel_id = ? AND ${REL} GROUP BY a`,
      ).run(TOP_ROWS.from, type.relId);
      db.prepare(
        `INSERT INTO relations_b (rel_id, b, a, count)
         SELECT rel_id, b, x'', count(*) FROM relations_b WHERE rel_id = ? AND a <> x'' GROUP BY b`,
      ).run(type.relId);
      for (const property of type.properties) ledger.rebuildProperty(type, property);
    }).immediate();
  }
}

function groupSubscriptions(rows: readonly SubRow[]): Map<string, StoredSubscription[]> {
  const byProfile = new Map<string, StoredSubscription[]>();
  for (const r of rows) {
    const list = byProfile.get(r.profile_id) ?? [];
    if (list.length === 0) byProfile.set(r.profile_id, list);
    list.push({
      resourceId: r.resource_id,
      channel: r.channel,
      contact: r.contact,
      contactKey: r.contact_key,
      status: r.status,
      priority: r.priority,
    });
  }
  return byProfile;
}
