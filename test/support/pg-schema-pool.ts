// Reuse of test schemas inside one test process. A fresh store schema costs its migrations and, on
// Citus, a create_*_table per table (shards made on the workers), then a DROP SCHEMA that removes
// them again: about 2.5 s per store on Citus, most of the suite's Citus time. A schema a test is
// done with is instead reset to exactly what its migrations left and handed to the next store this
// process opens. Safe because the reset is checked, not trusted:
//  - every table is truncated, the tables that had rows when the schema was fresh (the migrations'
//    bookkeeping, change_state) get those rows back, every sequence gets its fresh value back;
//  - then every table's rows and every sequence's value, and the schema's structure (tables,
//    columns, defaults, constraints, indexes, triggers, routines, sequences' settings, grants,
//    Citus distribution and shard counts), must equal what they were when the schema was fresh.
// A schema that fails either (a test changed its structure, dropped it, or holds a lock on it) is
// dropped as before. Spares are dropped when the process is about to exit; a process killed before
// that leaves them to the sweep of dead processes' schemas (probeTestDatabase in pg-engine.ts).
import type pg from 'pg';

interface Fresh {
  readonly tables: readonly string[];
  readonly sequences: readonly string[];
  /** Table → its rows (JSON), for the tables that were not empty when fresh. */
  readonly rows: ReadonlyMap<string, string>;
  /** Sequence → [last_value, is_called] when fresh. */
  readonly values: ReadonlyMap<string, readonly [string, boolean]>;
  /** contentOf() and structureOf() when fresh. */
  readonly content: string;
  readonly structure: string;
}

const fresh = new Map<string, Fresh>();
const spares = new Map<string, string[]>();
let dropSpare: ((schema: string, url: string) => Promise<void>) | undefined;

/** A reset schema for `url`, or undefined when none is spare. */
export function takeSpareSchema(url: string): string | undefined {
  return spares.get(url)?.pop();
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function namesOf(db: pg.ClientBase, schema: string, kinds: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT relname AS name FROM pg_class
      WHERE relnamespace = $1::regnamespace AND relkind = ANY ($2::"char"[]) ORDER BY relname`,
    [schema, `{${kinds}}`],
  );
  return rows.map((r) => r.name);
}

/**
 * Every table's rows (JSON, in a stable order) and every sequence's value, in one query (one
 * round trip also on Citus, where each table is a subplan of its own).
 */
async function contentOf(
  db: pg.ClientBase,
  schema: string,
  tables: readonly string[],
  sequences: readonly string[],
): Promise<{ rows: Map<string, string>; values: Map<string, readonly [string, boolean]>; text: string }> {
  const parts = [
    ...tables.map(
      (t) => `(SELECT coalesce(json_agg(r ORDER BY r::text), '[]')::text FROM ${q(schema)}.${q(t)} r)`,
    ),
    ...sequences.map((n) => `(SELECT last_value::text || ' ' || is_called FROM ${q(schema)}.${q(n)})`),
  ];
  const { rows } = await db.query<{ a: string[] }>(`SELECT ARRAY[${parts.join(', ')}]::text[] AS a`);
  const got = rows[0]!.a;
  const content = {
    rows: new Map(tables.map((t, i) => [t, got[i]!])),
    values: new Map(
      sequences.map((n, i) => {
        const [value, called] = got[tables.length + i]!.split(' ');
        return [n, [value!, called === 'true'] as const];
      }),
    ),
    text: got.join('\n'),
  };
  return content;
}

/** The schema's structure as one text: anything a test could change by DDL shows in it. */
const STRUCTURE = `
SELECT string_agg(x, E'\\n' ORDER BY x) AS s FROM (
  SELECT concat_ws(' ', 'rel', relname, relkind, relpersistence, relacl, reloptions, relrowsecurity) AS x
    FROM pg_class WHERE relnamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'col', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE c.relnamespace = $1::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT concat_ws(' ', 'con', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint WHERE connamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'idx', pg_get_indexdef(i.indexrelid))
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'trg', pg_get_triggerdef(t.oid), t.tgenabled)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'fn', oid::regprocedure, md5(coalesce(prosrc, '')), provolatile, prosecdef, proconfig, proacl)
    FROM pg_proc WHERE pronamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'seq', s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin,
                   s.seqmax, s.seqcycle)
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'typ', typname, typtype) FROM pg_type WHERE typnamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'pol', polname, polrelid::regclass) FROM pg_policy p
    JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = $1::regnamespace
  UNION ALL
  SELECT concat_ws(' ', 'nsp', nspacl) FROM pg_namespace WHERE oid = $1::regnamespace
) parts`;

/** Where Citus runs: how each table is distributed and over how many shards. */
const DISTRIBUTION = `
SELECT string_agg(x, E'\\n' ORDER BY x) AS s FROM (
  SELECT concat_ws(' ', 'dist', p.logicalrelid, p.partmethod, p.repmodel,
                   column_to_column_name(p.logicalrelid, p.partkey),
                   (SELECT count(*) FROM pg_dist_shard s WHERE s.logicalrelid = p.logicalrelid)) AS x
    FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
   WHERE c.relnamespace = $1::regnamespace
) parts`;

/** STRUCTURE, and DISTRIBUTION where Citus runs, in one text. */
async function structureOf(db: pg.ClientBase, schema: string): Promise<string> {
  const citus = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
  const sql = citus.rowCount
    ? `SELECT (${STRUCTURE}) || E'\\n' || coalesce((${DISTRIBUTION}), '') AS s`
    : STRUCTURE;
  return (await db.query<{ s: string | null }>(sql, [schema])).rows[0]?.s ?? '';
}

/**
 * Records what a schema its migrations just made holds, so that it can be reset to it later.
 * Call right after the store opened, before anything writes to it.
 */
export async function rememberFreshSchema(db: pg.Pool, schema: string): Promise<void> {
  const client = await db.connect();
  try {
    const tables = await namesOf(client, schema, 'r,p');
    const sequences = await namesOf(client, schema, 'S');
    const content = await contentOf(client, schema, tables, sequences);
    fresh.set(schema, {
      tables,
      sequences,
      rows: new Map([...content.rows].filter(([, json]) => json !== '[]')),
      values: content.values,
      content: content.text,
      structure: await structureOf(client, schema),
    });
  } finally {
    client.release();
  }
}

/**
 * Resets a schema whose store is closed to its fresh state and keeps it as a spare for `url`;
 * answers false (the caller drops it) when it was not remembered or the reset does not give back
 * exactly the fresh schema.
 */
export async function giveBackSchema(
  db: pg.Pool,
  url: string,
  schema: string,
  drop: (schema: string, url: string) => Promise<void>,
): Promise<boolean> {
  const was = fresh.get(schema);
  if (!was) return false;
  fresh.delete(schema);
  let client: pg.PoolClient | undefined;
  let broken = false;
  try {
    client = await db.connect();
    // A store still open on the schema (a test that left one open) holds locks: give up, drop it.
    await client.query(`SET lock_timeout = '5s'`);
    const { rows } = await client.query<{ a: boolean[] }>(
      `SELECT ARRAY[${was.tables.map((t) => `EXISTS (SELECT 1 FROM ${q(schema)}.${q(t)})`).join(', ')}] AS a`,
    );
    const used = was.tables.filter((t, i) => rows[0]!.a[i] || was.rows.has(t));
    // DELETE of the tables that hold rows, not TRUNCATE: on Citus a TRUNCATE of the schema costs
    // over a second (every shard, two-phase), a DELETE of a table with a few rows milliseconds.
    // One round trip; whatever fails, the schema is dropped.
    const statements = [
      ...used.map((t) => `DELETE FROM ${q(schema)}.${q(t)}`),
      ...[...was.rows].map(
        ([t, json]) =>
          `INSERT INTO ${q(schema)}.${q(t)} SELECT * FROM json_populate_recordset(NULL::${q(schema)}.${q(t)}, ${client!.escapeLiteral(json)})`,
      ),
      ...[...was.values].map(
        ([n, [value, called]]) =>
          `SELECT setval(${client!.escapeLiteral(`${q(schema)}.${q(n)}`)}::regclass, ${BigInt(value)}, ${called})`,
      ),
    ];
    await client.query(statements.join(';\n'));
    const now = await contentOf(client, schema, was.tables, was.sequences);
    if (now.text !== was.content) throw new Error('the reset schema holds other rows than the fresh one');
    if ((await structureOf(client, schema)) !== was.structure) throw new Error('the schema changed');
    await client.query('RESET lock_timeout');
  } catch {
    broken = true;
    return false;
  } finally {
    client?.release(broken);
  }
  fresh.set(schema, was);
  spares.set(url, [...(spares.get(url) ?? []), schema]);
  if (!dropSpare) {
    dropSpare = drop;
    // Runs when the tests of this process are done (the event loop is empty); dropping schedules
    // more work, after which beforeExit comes again with nothing left to drop.
    process.on('beforeExit', () => {
      for (const [spareUrl, names] of spares) {
        for (const name of names.splice(0)) void dropSpare!(name, spareUrl).catch(() => undefined);
      }
    });
  }
  return true;
}
