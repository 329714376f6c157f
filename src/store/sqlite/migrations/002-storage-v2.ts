// Schema version 2 of the SQLite store: relations filed by profile A in one table with A's
// aggregates and top entries, and by profile B in a second one with B's count; ids as 12-byte
// blobs, times as integer milliseconds. The data step moves a 0.1.0 store's relations, aggregates
// and top entries over, in chunks that report progress, inside the migration's one transaction.
import type BetterSqlite3 from 'better-sqlite3';
import type { ReportProgress } from '../../migration-runner.js';
import { KIND, TOP_ROWS, type TopRowsThreshold } from '../sqlite-layout.js';

/**
 * relations_a holds, per relation type and profile A, in this key order: A's aggregates (kind 0:
 * the total, prop '', with `tops`; one row per property with `count`, `sum` and `sum_c`), A's
 * relations (kind 1, by B: `weights`, `created_ms`, `updated_ms`), and, for an A with many
 * relations, A's top entries (kind 2: prop, value descending, B). relations_b lists each B's
 * relations by A, after B's count (the row with a = x''). Unused key columns hold '' / 0 / x''.
 */
export const STORAGE_V2_SCHEMA = `
CREATE TABLE relations_a (
  rel_id INTEGER NOT NULL,
  a BLOB NOT NULL,
  kind INTEGER NOT NULL,
  prop TEXT NOT NULL,
  value NOT NULL,
  b BLOB NOT NULL,
  weights TEXT,
  created_ms INTEGER,
  updated_ms INTEGER,
  count INTEGER,
  sum,
  sum_c REAL,
  tops INTEGER,
  PRIMARY KEY (rel_id, a, kind, prop, value DESC, b)
) WITHOUT ROWID;

CREATE TABLE relations_b (
  rel_id INTEGER NOT NULL,
  b BLOB NOT NULL,
  a BLOB NOT NULL,
  count INTEGER,
  PRIMARY KEY (rel_id, b, a)
) WITHOUT ROWID;
`;

/** Rows moved per statement: small enough to report progress every second or so on this machine. */
const CHUNK = 100_000;

/** ISO-8601 text (0.1.0's relation times) as integer milliseconds since the epoch. */
const MS = (column: string) => `CAST(round(unixepoch(${column}, 'subsec') * 1000) AS INTEGER)`;

/**
 * Moves a 0.1.0 store's relations into the version 2 tables and drops the old ones. `threshold`
 * decides which profiles get top rows (tests lower it to cover both cases on small data).
 */
export function migrateToStorageV2(
  db: BetterSqlite3.Database,
  progress: ReportProgress,
  threshold: TopRowsThreshold = TOP_ROWS,
): void {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const relations = count('SELECT count(*) FROM relations');
  const stats = count('SELECT count(*) FROM relation_stats');
  const total = 2 * relations + stats;
  let done = 0;
  progress(done, total);

  // Relations by A, then the entries by B, each walked in its index's order in chunks: the end key
  // of a chunk is found first, then the chunk is copied with one INSERT … SELECT.
  const byKey = (table: string, keys: readonly [string, string, string], insert: string) => {
    const [k1, k2, k3] = keys;
    const order = `${k1}, ${k2}, ${k3}`;
    const end = db.prepare(
      `SELECT ${order} FROM ${table} WHERE (${order}) > (?, ?, ?) ORDER BY ${order} LIMIT 1 OFFSET ${CHUNK - 1}`,
    );
    const copyTo = db.prepare(`${insert} WHERE (${order}) > (?, ?, ?) AND (${order}) <= (?, ?, ?)`);
    const copyRest = db.prepare(`${insert} WHERE (${order}) > (?, ?, ?)`);
    let after: unknown[] = [-1, '', ''];
    for (;;) {
      const last = end.raw(true).get(...after) as unknown[] | undefined;
      if (!last) {
        done += copyRest.run(...after).changes;
        progress(done, total);
        return;
      }
      done += copyTo.run(...after, ...last).changes;
      progress(done, total);
      after = last;
    }
  };
  byKey(
    'relations',
    ['rel_id', 'a', 'b'],
    `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, weights, created_ms, updated_ms)
     SELECT rel_id, unhex(a), ${KIND.relation}, '', 0, unhex(b), weights, ${MS('created_at')}, ${MS('updated_at')}
     FROM relations`,
  );
  byKey(
    'relations INDEXED BY relations_by_b',
    ['rel_id', 'b', 'a'],
    'INSERT INTO relations_b (rel_id, b, a) SELECT rel_id, unhex(b), unhex(a) FROM relations INDEXED BY relations_by_b',
  );

  // Aggregates: A's rows (its total row says whether it keeps top rows), B's counts.
  db.prepare(
    `INSERT INTO relations_a (rel_id, a, kind, prop, value, b, count, sum, sum_c, tops)
     SELECT rel_id, unhex(profile_id), ${KIND.aggregate}, prop, 0, x'', count, sum, sum_c,
            CASE WHEN prop = '' THEN count > ? END
     FROM relation_stats WHERE side = 'a'`,
  ).run(threshold.from);
  db.exec(
    `INSERT INTO relations_b (rel_id, b, a, count)
     SELECT rel_id, unhex(profile_id), x'', count FROM relation_stats WHERE side = 'b' AND prop = ''`,
  );
  done += stats;
  progress(done, total);
  db.exec(
    `INSERT INTO relations_a (rel_id, a, kind, prop, value, b)
     SELECT t.rel_id, unhex(t.a), ${KIND.top}, t.prop, t.value, unhex(t.b)
     FROM relation_tops t JOIN relation_stats s
       ON s.rel_id = t.rel_id AND s.profile_id = t.a AND s.side = 'a' AND s.prop = ''
     WHERE s.count > ${Math.trunc(threshold.from)}`,
  );
  db.exec('DROP TABLE relations; DROP TABLE relation_stats; DROP TABLE relation_tops;');
}
