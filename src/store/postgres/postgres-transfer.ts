// The transfer port (../transfer/transfer-port.ts) on PostgreSQL: reads through cursors inside
// a repeatable-read transaction (one snapshot for a whole copy's source), writes each chunk with
// COPY in one transaction, and rebuilds aggregates with the schema's own ties_rebuild.
import type pg from 'pg';
import type { ChangeEvent } from '../../core/change-feed.js';
import { matchKeyPairs, profileMatchKeys } from '../../core/fields.js';
import type { Database, RelationType } from '../../core/model.js';
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
import { CopyIn, line } from './postgres-copy-in.js';
import * as feed from './postgres-feed-transfer.js';
import { openPostgresStore, type PostgresStore } from './postgres-store.js';
import { NO_CLIENT_TIMEOUT, unguardedQuery } from './unguarded-query.js';

const map = catalogMappers<unknown>((value) => value);

/** A URL as it may be shown: without its password. */
export function safeUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * Opens a PostgreSQL store for a copy (migrating its schema when needed). `snapshot`: every read
 * sees the state of the moment it was opened (the source of a copy or an export).
 */
export async function openPostgresTransfer(
  url: string,
  options: { snapshot: boolean },
): Promise<TransferWriter> {
  const store = await openPostgresStore({ url, onMigrationProgress: () => undefined });
  try {
    const client = unguarded(await store.pool.connect());
    // Copies and rebuilds of millions of rows outlast the server's per-call statement timeout.
    await client.query('SET statement_timeout = 0');
    if (options.snapshot) {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query('SELECT 1 FROM databases LIMIT 1');
    }
    return new PostgresTransfer(store, client, safeUrl(url), options.snapshot);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The transfer's one connection: its queries as pg's, the client-side read timeout lifted. */
export interface TransferClient {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: readonly unknown[],
  ): Promise<pg.QueryResult<R>>;
  copy(copy: CopyIn): Promise<void>;
  release(): void;
}

/**
 * The pool's connections carry a client-side read timeout that `SET statement_timeout = 0` does not
 * lift: a rebuild of a large type's aggregates, or a cursor's first FETCH over a sort of millions of
 * rows, ran into it as "Query read timeout". Every query and COPY here runs without it, as
 * migrations do (unguarded-query.ts).
 */
export function unguarded(client: pg.PoolClient): TransferClient {
  return {
    query: <R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]) =>
      unguardedQuery<R>(client, text, values),
    copy: (copy) => {
      copy.query_timeout = NO_CLIENT_TIMEOUT;
      return client.query(copy).finished;
    },
    release: () => client.release(),
  };
}

class PostgresTransfer implements TransferWriter, feed.PgTransferSql {
  readonly engine = 'postgres' as const;
  private cursors = 0;

  constructor(
    private readonly store: PostgresStore,
    private readonly client: TransferClient,
    readonly where: string,
    private readonly snapshot: boolean,
  ) {}

  async rows<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(text, values)).rows;
  }
  async value(text: string, values: unknown[] = []): Promise<number> {
    const [row] = await this.rows<{ v: string | number | null }>(text, values);
    return Number(row?.v ?? 0);
  }

  /** Streams a query's rows in chunks through a cursor, inside the snapshot or a transaction of its own. */
  async *cursor<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    chunk: number,
  ): AsyncIterable<R[]> {
    const name = `ties_copy_${++this.cursors}`;
    if (!this.snapshot) await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      await this.client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, values);
      for (;;) {
        const { rows } = await this.client.query<R>(`FETCH FORWARD ${Math.trunc(chunk)} FROM ${name}`);
        if (rows.length > 0) yield rows;
        if (rows.length < chunk) break;
      }
      await this.client.query(`CLOSE ${name}`);
    } finally {
      if (!this.snapshot) await this.client.query('COMMIT');
    }
  }

  async catalogue(): Promise<CatalogueRows> {
    const last = (table: string, column: string) =>
      this.value(
        `SELECT greatest(pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass),
                         (SELECT max(${column}) FROM ${table})) AS v`,
        [table, column],
      );
    return {
      databases: (await this.rows('SELECT * FROM databases ORDER BY id')).map((r) =>
        map.toDatabase(r as never),
      ),
      resources: (await this.rows('SELECT * FROM resources ORDER BY id')).map((r) =>
        map.toResource(r as never),
      ),
      relationTypes: (await this.rows('SELECT * FROM relation_types ORDER BY rel_id')).map((r) =>
        map.toRelationType(r as never),
      ),
      tokens: (await this.rows('SELECT * FROM tokens ORDER BY id')).map((r) => map.toTokenRecord(r as never)),
      lastRelId: await last('relation_types', 'rel_id'),
      lastTokenId: await last('tokens', 'id'),
    };
  }

  async counts(): Promise<StoreCounts> {
    const count = (table: string) => this.value(`SELECT count(*) AS v FROM ${table}`);
    const relations: Record<number, number> = {};
    for (const row of await this.rows<{ rel_id: number; n: string }>(
      'SELECT rel_id, count(*) AS n FROM relations GROUP BY rel_id',
    ))
      relations[row.rel_id] = Number(row.n);
    return {
      databases: await count('databases'),
      resources: await count('resources'),
      relationTypes: await count('relation_types'),
      tokens: await count('tokens'),
      profiles: await count('profiles'),
      subscriptions: await count('subscriptions'),
      relations,
      ...(await feed.feedCounts(this)),
    };
  }

  async *profiles(after: string, chunk: number): AsyncIterable<ProfileRecord[]> {
    // Subscriptions ride along as one jsonb array per profile, in the order the store answers them.
    const text = `SELECT p.id, p.db_id, p.fields, p.created_at, p.updated_at,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('resourceId', s.resource_id, 'channel', s.channel,
                  'contact', s.contact, 'contactKey', s.contact_key, 'status', s.status,
                  'priority', s.priority)
                ORDER BY s.resource_id, s.channel, s.contact_key), '[]')
           FROM subscriptions s WHERE s.profile_id = p.id) AS subs
      FROM profiles p WHERE p.id > $1 ORDER BY p.id`;
    for await (const rows of this.cursor<Record<string, unknown>>(text, [after], chunk)) {
      yield rows.map((r) => ({
        id: r.id as string,
        dbId: r.db_id as number,
        fields: r.fields as ProfileRecord['fields'],
        subscriptions: r.subs as StoredSubscription[],
        createdAt: r.created_at as string,
        updatedAt: r.updated_at as string,
      }));
    }
  }

  async *relations(relId: number, after: RelationKey | null, chunk: number): AsyncIterable<RelationRecord[]> {
    const text = `SELECT a, b, weights::text AS w, created_at, updated_at FROM relations
      WHERE rel_id = $1 AND (a, rel_id, b) > ($2, $1, $3) ORDER BY a, rel_id, b`;
    for await (const rows of this.cursor<Record<string, string>>(
      text,
      [relId, after?.a ?? '', after?.b ?? ''],
      chunk,
    )) {
      yield rows.map((r) => ({
        a: r.a!,
        b: r.b!,
        weights: JSON.parse(r.w!),
        createdAt: r.created_at!,
        updatedAt: r.updated_at!,
      }));
    }
  }

  async *aggregates(type: RelationType, chunk: number): AsyncIterable<AggregateRecord[]> {
    const props = new Map(type.properties.map((p) => [p.name, p]));
    // Hot aggregate rows are split over slots (migration 002): the figure is their sum. A float
    // sum lives in slot 0 alone, so adding fsum and fsum_c over slots changes nothing there.
    // Side 't' marks a profile that keeps top rows (migration 009): layout, not an aggregate.
    const text = `SELECT side, profile_id, prop, sum(count) AS count, sum(isum)::text AS isum,
        sum(fsum) AS fsum, sum(fsum_c) AS fsum_c
      FROM relation_stats WHERE rel_id = $1 AND side IN ('a', 'b')
      GROUP BY side, profile_id, prop HAVING sum(count) <> 0
      ORDER BY side, profile_id, prop`;
    for await (const rows of this.cursor<Record<string, string | number>>(text, [type.relId], chunk)) {
      yield rows.map((r) => {
        const def = props.get(r.prop as string);
        const numeric = def?.type === 'int' || def?.type === 'float';
        const sum =
          def?.sum && numeric
            ? def.type === 'int'
              ? Number(r.isum)
              : Number(r.fsum) + Number(r.fsum_c)
            : null;
        return {
          side: r.side as 'a' | 'b',
          profileId: r.profile_id as string,
          prop: r.prop as string,
          count: Number(r.count),
          sum,
        };
      });
    }
  }

  feed(): Promise<FeedRows> {
    return feed.readFeed(this);
  }

  changes(after: number, chunk: number): AsyncIterable<ChangeEvent[]> {
    return feed.readChanges(this, after, chunk);
  }

  async close(): Promise<void> {
    try {
      if (this.snapshot) await this.client.query('COMMIT');
    } finally {
      this.client.release();
      await this.store.close();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  async transaction(work: () => Promise<void>): Promise<void> {
    await this.client.query('BEGIN');
    try {
      await work();
      await this.client.query('COMMIT');
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  copyRows(table: string, columns: string, rows: readonly (string | number | null)[][]): Promise<void> {
    return this.copy(table, columns, rows.map(line));
  }

  private async copy(table: string, columns: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    // Big messages rather than one per row: COPY's cost here is the number of socket writes.
    const chunks: string[] = [];
    for (let i = 0; i < lines.length; i += 2_000) chunks.push(lines.slice(i, i + 2_000).join(''));
    await this.client.copy(new CopyIn(`COPY ${table} (${columns}) FROM STDIN`, chunks));
  }

  async isEmpty(): Promise<boolean> {
    for (const table of ['databases', 'resources', 'relation_types', 'tokens', 'profiles']) {
      if ((await this.rows(`SELECT 1 FROM ${table} LIMIT 1`)).length > 0) return false;
    }
    return true;
  }

  async clear(): Promise<void> {
    await this.transaction(async () => {
      await this.client.query(
        `TRUNCATE databases, resources, relation_types, tokens, profiles, subscriptions, match_keys,
                  relations, relations_by_b, relation_stats, relation_tops RESTART IDENTITY`,
      );
      await feed.clearFeed(this);
      await this.client.query('SELECT ties_catalog_changed()');
    });
  }

  async writeCatalogue(rows: CatalogueRows): Promise<void> {
    const json = JSON.stringify;
    await this.transaction(async () => {
      await this.copy(
        'databases',
        'id, name, description, custom_fields, created_at',
        rows.databases.map((d) => line([d.id, d.name, d.description, json(d.customFields), d.createdAt])),
      );
      await this.copy(
        'resources',
        'id, name, channels, db_ids, url, trk_domain, created_at',
        rows.resources.map((r) =>
          line([r.id, r.name, json(r.channels), json(r.dbIds), r.url, r.trkDomain, r.createdAt]),
        ),
      );
      await this.copy(
        'relation_types',
        'rel_id, name, db_a, db_b, properties, created_at',
        rows.relationTypes.map((t) => line([t.relId, t.name, t.dbA, t.dbB, json(t.properties), t.createdAt])),
      );
      await this.copy(
        'tokens',
        'id, name, rights, hash, created_at, last_used_at',
        rows.tokens.map((t) => line([t.id, t.name, json(t.rights), t.hash, t.createdAt, t.lastUsedAt])),
      );
      // The sequences go past every id the source handed out (deleted types and tokens included).
      for (const [table, column, last] of [
        ['databases', 'id', 0],
        ['resources', 'id', 0],
        ['relation_types', 'rel_id', rows.lastRelId],
        ['tokens', 'id', rows.lastTokenId],
      ] as const) {
        await this.client.query(
          `SELECT setval(pg_get_serial_sequence($1, $2), v, v > 0)
             FROM (SELECT greatest($3::bigint, (SELECT max(${column}) FROM ${table}), 0) AS v) x
            WHERE v > 0`,
          [table, column, last],
        );
      }
      await this.client.query('SELECT ties_catalog_changed()');
    });
  }

  async writeProfiles(
    rows: readonly ProfileRecord[],
    databases: ReadonlyMap<number, Database>,
  ): Promise<void> {
    const profiles: string[] = [];
    const subs: string[] = [];
    const keys: string[] = [];
    for (const p of rows) {
      const database = databases.get(p.dbId);
      if (!database) throw new Error(`profile ${p.id} is in database ${p.dbId}, which the catalogue lacks`);
      const pairs = matchKeyPairs(profileMatchKeys(p.fields, database));
      profiles.push(
        line([p.id, p.dbId, JSON.stringify(p.fields), JSON.stringify(pairs), p.createdAt, p.updatedAt]),
      );
      // match_keys: the profile's own keys (resource 0) and its subscriptions' contacts (email, sms, push).
      const seen = new Set<string>();
      const key = (kind: string, k: string, resource: number) => {
        const id = JSON.stringify([kind, k, resource]);
        if (seen.has(id)) return;
        seen.add(id);
        keys.push(line([k, p.dbId, kind, resource, p.id]));
      };
      for (const [kind, k] of pairs) key(kind, k, 0);
      for (const s of p.subscriptions) {
        subs.push(line([p.id, s.resourceId, s.channel, s.contactKey, s.contact, s.status, s.priority]));
        key(s.channel === 'email' ? 'se' : s.channel === 'sms' ? 'ss' : 'sp', s.contactKey, s.resourceId);
      }
    }
    await this.transaction(async () => {
      await this.copy('profiles', 'id, db_id, fields, keys, created_at, updated_at', profiles);
      await this.copy(
        'subscriptions',
        'profile_id, resource_id, channel, contact_key, contact, status, priority',
        subs,
      );
      await this.copy('match_keys', 'key, db_id, kind, resource_id, profile_id', keys);
    });
  }

  async writeRelations(relId: number, rows: readonly RelationRecord[]): Promise<void> {
    await this.transaction(async () => {
      await this.copy(
        'relations',
        'a, rel_id, b, weights, created_at, updated_at',
        rows.map((r) => line([r.a, relId, r.b, JSON.stringify(r.weights), r.createdAt, r.updatedAt])),
      );
      await this.copy(
        'relations_by_b',
        'b, rel_id, a',
        rows.map((r) => line([r.b, relId, r.a])),
      );
    });
  }

  async lastProfileId(): Promise<string | null> {
    const [row] = await this.rows<{ id: string | null }>('SELECT max(id) AS id FROM profiles');
    return row?.id ?? null;
  }

  async lastRelation(relId: number): Promise<RelationKey | null> {
    const [row] = await this.rows<{ a: string; b: string }>(
      'SELECT a, b FROM relations WHERE rel_id = $1 ORDER BY a DESC, rel_id DESC, b DESC LIMIT 1',
      [relId],
    );
    return row ? { a: row.a, b: row.b } : null;
  }

  writeChanges(rows: readonly ChangeEvent[]): Promise<void> {
    return feed.writeChanges(this, rows);
  }

  lastChangeSeq(): Promise<number> {
    return feed.lastChangeSeq(this);
  }

  writeFeed(rows: FeedRows): Promise<void> {
    return feed.writeFeed(this, rows);
  }

  async rebuildAggregates(type: RelationType): Promise<void> {
    await this.transaction(async () => {
      const rel = [type.relId];
      await this.client.query('DELETE FROM relation_stats WHERE rel_id = $1', rel);
      await this.client.query('DELETE FROM relation_tops WHERE rel_id = $1', rel);
      await this.client.query(
        `INSERT INTO relation_stats (profile_id, rel_id, side, prop, count)
         SELECT a, rel_id, 'a', '', count(*) FROM relations WHERE rel_id = $1 GROUP BY a, rel_id`,
        rel,
      );
      await this.client.query(
        `INSERT INTO relation_stats (profile_id, rel_id, side, prop, count)
         SELECT b, rel_id, 'b', '', count(*) FROM relations_by_b WHERE rel_id = $1 GROUP BY b, rel_id`,
        rel,
      );
      for (const property of type.properties) {
        await this.client.query('SELECT ties_rebuild($1, $2::jsonb)', [type.relId, JSON.stringify(property)]);
      }
    });
  }
}
