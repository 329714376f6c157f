// How each table of the PostgreSQL store is meant to be laid out on Citus: distributed by which
// column, or replicated as a reference table. citus-rules.test.ts checks the schema against it and
// docs/scaling.md shows the setup SQL it generates, so neither can drift from the migrations.

/** Tables spread over shards by the hash of one column; all colocated with profiles. */
export const DISTRIBUTED_TABLES: Readonly<Record<string, string>> = {
  profiles: 'id',
  subscriptions: 'profile_id',
  relations: 'a',
  relations_by_b: 'b',
  relation_stats: 'profile_id',
  relation_tops: 'a',
  // The matching index is distributed by the looked-up value: a lookup reads one shard, and a
  // profile's write touches the shards of its own few keys.
  match_keys: 'key',
};

/** Small catalogue tables, copied to every node (joins with them never leave a shard). */
export const REFERENCE_TABLES: readonly string[] = ['databases', 'resources', 'relation_types', 'tokens'];

/**
 * Tables that stay on the coordinator only. The change log too: every function runs on the
 * coordinator and appends there under one lock held until commit (the feed's order), and readers
 * page it by seq; spread over shards, each event would cost a distributed write and a page a
 * merge of every shard (docs/decisions.md, "Change feed on Citus").
 * Tables that stay on the coordinator only. Webhooks and feed cursors: a few rows, read and
 * leased only by the servers' senders through the coordinator, beside the change log they follow;
 * as reference tables every lease renewal would be a two-phase commit on every node.
 */
export const LOCAL_TABLES: readonly string[] = [
  'schema_migrations',
  'schema_repeatables',
  'change_log',
  'change_state',
  'webhooks',
  'feed_cursors',
];

/** The statements citus-distribute.ts runs, as SQL (docs/scaling.md shows them). */
export function citusSetupSql(): string {
  const lines = [
    '-- What Ties runs at start on a database with the citus extension, for tables not distributed yet.',
  ];
  for (const table of REFERENCE_TABLES) lines.push(`SELECT create_reference_table('${table}');`);
  let first = true;
  for (const [table, column] of Object.entries(DISTRIBUTED_TABLES)) {
    lines.push(
      first
        ? `SELECT create_distributed_table('${table}', '${column}');`
        : `SELECT create_distributed_table('${table}', '${column}', colocate_with => 'profiles');`,
    );
    first = false;
  }
  return `${lines.join('\n')}\n`;
}
