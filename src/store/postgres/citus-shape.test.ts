// The shape of each relation call on Citus: which statements of the functions it runs fan out to
// several shards (multi-shard) rather than going to one (router), recorded from Citus itself on the
// test cluster (citus.multi_task_query_log_level and citus.log_remote_commands as notices), and
// compared with the table in docs/scaling.md: a statement that fans out where the doc does not say
// it may ("none": every statement of the call goes to one shard) fails the test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it, test } from 'node:test';
import type pg from 'pg';
import { CITUS_SKIPPED, CITUS_URL, openCitusTestStore } from '../../../test/support/citus-engine.js';
import type { PgTestStore } from '../../../test/support/pg-engine.js';
import { createTies, type Ties } from '../../core/ties.js';

/** What one call did on the cluster. */
interface Shape {
  /** The statements that ran as multi-shard queries, as `function(tables…)`, sorted, distinct. */
  readonly fanOut: string[];
  /** Distinct shard groups (colocated shards count once) the call's statements were sent to. */
  readonly shards: number;
}

/** The doc's call-shape table: case → the fan-out statements it lists ("none": an empty list). */
export function documentedShapes(doc: string): Map<string, string[]> {
  const start = doc.indexOf('<!-- call shapes: checked by src/store/postgres/citus-shape.test.ts -->');
  assert.ok(start >= 0, 'docs/scaling.md has no call-shape table');
  const rows = new Map<string, string[]>();
  for (const line of doc.slice(start).split('\n').slice(1)) {
    if (!line.startsWith('|')) {
      if (rows.size > 0) break;
      continue;
    }
    const cells = line.split('|').map((c) => c.trim());
    const [name, fanOut] = [cells[1]!, cells[2]!];
    if (name === 'call' || name.startsWith('---')) continue;
    const statements = fanOut === 'none' ? [] : fanOut.split(';').map((s) => s.trim().replaceAll('`', ''));
    rows.set(name.replaceAll('`', ''), statements.sort());
  }
  return rows;
}

/** Records what Citus reports for the statements a call sends on the store's one connection. */
class Recorder {
  private notices: { message: string; where?: string | undefined }[] = [];
  constructor(private readonly schema: string) {}

  attach(client: pg.ClientBase): void {
    client.on('notice', (n) => this.notices.push({ message: n.message ?? '', where: n.where }));
  }

  async during(call: () => Promise<unknown>): Promise<Shape> {
    this.notices = [];
    await call();
    const fanOut = new Set<string>();
    const shards = new Set<number>();
    const shardPattern = new RegExp(`\\b${this.schema}\\.([a-z_]+)_(\\d+)\\b`, 'g');
    const byStatement = new Map<string, Set<string>>();
    for (const n of this.notices) {
      const where = n.where ?? '';
      const fn = /PL\/pgSQL function (\w+)\(/.exec(where)?.[1] ?? '?';
      const statement = /^SQL (?:statement|expression) "([\s\S]*?)"\n/.exec(where)?.[1] ?? where;
      const key = `${fn}\u0000${statement}`;
      const tables = byStatement.get(key) ?? new Set<string>();
      byStatement.set(key, tables);
      for (const m of n.message.matchAll(shardPattern)) {
        tables.add(m[1]!);
        shards.add(Number(m[2]));
      }
      if (n.message.startsWith('multi-task query about to be executed')) fanOut.add(key);
    }
    const groups = await this.shardGroups();
    const touched = new Set([...shards].map((id) => groups.get(id)).filter((g) => g !== undefined));
    return {
      fanOut: [
        ...new Set([...fanOut].map((key) => `${key.split('\u0000')[0]}(${this.tablesOf(key, byStatement)})`)),
      ].sort(),
      shards: touched.size,
    };
  }

  private tablesOf(key: string, byStatement: Map<string, Set<string>>): string {
    const fromShards = [...(byStatement.get(key) ?? [])];
    // A multi-shard statement whose shard commands were not logged (pruned to none): name the
    // tables it mentions.
    const tables = fromShards.length
      ? fromShards
      : [...key.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)/gi)].map((m) => m[1]!);
    return [...new Set(tables)].sort().join(', ');
  }

  pool: pg.Pool | undefined;
  private groups: Map<number, string> | undefined;
  /** Shard id → its hash range (the same for colocated shards); reference shards left out. */
  private async shardGroups(): Promise<Map<number, string>> {
    if (!this.groups) {
      const { rows } = await this.pool!.query<{ id: string; range: string }>(
        `SELECT s.shardid AS id, s.shardminvalue AS range FROM pg_dist_shard s
          JOIN pg_class c ON c.oid = s.logicalrelid
         WHERE c.relnamespace = $1::regnamespace AND s.shardminvalue IS NOT NULL`,
        [this.schema],
      );
      this.groups = new Map(rows.map((r) => [Number(r.id), r.range]));
    }
    return this.groups;
  }
}

if (!CITUS_URL) test('Citus call shapes', { skip: CITUS_SKIPPED }, () => undefined);
else {
  describe('citus: the shape of every relation call', () => {
    let opened: PgTestStore;
    let ties: Ties;
    let recorder: Recorder;
    let db: number;
    let rel: number;
    let other: number;
    let res: number;
    const ids: string[] = [];
    const shapes = new Map<string, Shape>();

    before(async () => {
      opened = await openCitusTestStore({ poolMax: 1 });
      ties = createTies({ store: opened.store });
      recorder = new Recorder(opened.schema);
      recorder.pool = opened.store.pool;
      db = (await ties.catalog.createDatabase({ name: 'people' })).data.id;
      res = (await ties.catalog.createResource({ name: 'news', channels: ['email'], dbs_ids: [db] })).data.id;
      const props = [
        { name: 'hits', type: 'int', top: 2, sum: true },
        { name: 'score', type: 'float', top: 0, sum: true },
      ];
      rel = (await ties.catalog.createRelationType({ name: 'likes', db_a: db, db_b: db, properties: props }))
        .data.rel_id;
      other = (
        await ties.catalog.createRelationType({ name: 'follows', db_a: db, db_b: db, properties: props })
      ).data.rel_id;
      for (let i = 0; i < 8; i++) {
        const data = {
          email: `p${i}@example.com`,
          subscriptions: [{ resource_id: res, channel: 'email', email: `s${i}@example.com` }],
        };
        ids.push((await ties.profiles.add({ db_id: db, data }, 'typed')).profile_id);
      }
      // Every later statement goes through the store's single connection, with Citus reporting.
      const client = await opened.store.pool.connect();
      try {
        recorder.attach(client);
        await client.query('SET citus.multi_task_query_log_level = notice');
        await client.query('SET citus.log_remote_commands = on');
      } finally {
        client.release();
      }
    });
    after(async () => {
      await opened.cleanup();
    });

    const typed = { encoding: 'typed' } as const;
    const pair = (a: number, b: number, rel_id = rel) => ({
      rel_id,
      profile_a: { profile_id: ids[a]! },
      profile_b: { profile_id: ids[b]! },
    });
    /** The calls, in an order that gives each one something to work on. */
    const cases: [string, () => Promise<unknown>][] = [
      ['relations/attach', () => ties.relations.attach({ ...pair(0, 1), weights: { hits: 1 } }, typed)],
      [
        'relations/attach, B by email',
        () =>
          ties.relations.attach(
            {
              rel_id: rel,
              profile_a: { profile_id: ids[0]! },
              profile_b: { email: 'p2@example.com' },
              weights: { hits: 2 },
            },
            typed,
          ),
      ],
      [
        'relations/strengthen',
        () => ties.relations.strengthen({ ...pair(0, 1), weights: { hits: 3, score: 0.5 } }, typed),
      ],
      ['relations/edit', () => ties.relations.edit({ ...pair(0, 1), weights: { hits: 7 } }, typed)],
      [
        'relations/attach_batch',
        () =>
          ties.relations.attachBatch(
            {
              rel_id: rel,
              items: [
                { ...pair(3, 0), weights: { hits: 1 } },
                { ...pair(4, 0), weights: { hits: 1 } },
              ],
            },
            typed,
          ),
      ],
      [
        'relations/strengthen_batch',
        () =>
          ties.relations.strengthenBatch(
            {
              rel_id: rel,
              items: [
                { ...pair(3, 0), weights: { hits: 1 } },
                { ...pair(5, 0), weights: { hits: 1 } },
              ],
            },
            typed,
          ),
      ],
      ['relations/get', () => ties.relations.get({ rel_id: rel, profile_id: ids[0]! })],
      ['relations/get, side b', () => ties.relations.get({ rel_id: rel, profile_id: ids[0]!, side: 'b' })],
      [
        'relations/get, sorted and filtered',
        () =>
          ties.relations.get({
            rel_id: rel,
            profile_id: ids[0]!,
            sort: 'hits',
            order: 'desc',
            min: 0,
            limit: 2,
          }),
      ],
      [
        'relations/get, side b, sorted',
        () => ties.relations.get({ rel_id: rel, profile_id: ids[0]!, side: 'b', sort: 'hits', offset: 1 }),
      ],
      ['relations/get_counter', () => ties.relations.getCounter({ rel_id: rel, profile_id: ids[0]! })],
      ['relations/detach', () => ties.relations.detach(pair(0, 2))],
      ['profiles/delete', () => ties.profiles.delete({ db_id: db, profile_id: ids[0]! })],
      [
        'relations/types/update, rebuilding',
        () =>
          ties.catalog.updateRelationType({
            rel_id: rel,
            properties: [
              { name: 'hits', type: 'int', top: 3, sum: true },
              { name: 'score', type: 'float', top: 0, sum: false },
            ],
          }),
      ],
      ['relations/types/delete', () => ties.catalog.deleteRelationType({ rel_id: other })],
    ];

    it('records every case', async () => {
      // A relation of the other type, so that deleting it has rows to remove.
      await ties.relations.attach({ ...pair(6, 7, other), weights: { hits: 1 } }, typed);
      for (const [name, call] of cases) shapes.set(name, await recorder.during(call));
      const report = [...shapes].map(
        ([n, s]) => `${n}: ${s.shards} shards; fan-out: ${s.fanOut.join('; ') || 'none'}`,
      );
      console.log(`call shapes on Citus:\n  ${report.join('\n  ')}`);
    });

    it('fans out only where docs/scaling.md says a call may', () => {
      const documented = documentedShapes(readFileSync('docs/scaling.md', 'utf8'));
      assert.deepEqual([...documented.keys()].sort(), cases.map(([n]) => n).sort(), 'one row per case');
      for (const [name] of cases) {
        const shape = shapes.get(name);
        assert.ok(shape, `${name} was not recorded`);
        // Whether a statement over several ids fans out depends on where the ids hash (random
        // here), so the doc lists what may fan out; anything else fanning out fails.
        const allowed = new Set(documented.get(name));
        const unexpected = shape.fanOut.filter((s) => !allowed.has(s));
        assert.deepEqual(unexpected, [], `${name}: multi-shard statements the doc does not list`);
      }
    });

    it('keeps the single-relation calls on at most the shards of A, B and a looked-up key', () => {
      for (const name of ['relations/attach', 'relations/strengthen', 'relations/edit', 'relations/detach']) {
        assert.ok(shapes.get(name)!.shards <= 3, `${name}: ${shapes.get(name)!.shards} shard groups`);
      }
    });
  });
}
