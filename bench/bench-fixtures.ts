// The benchmark's data, written through core (never raw SQL) into a store before its server starts:
// two databases, the seed example's relation type, pools of profiles, a hub and a 100-relation profile.
import { copyFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import type { PropertyInput } from '../src/core/property-types.js';
import { createTies, type Ties } from '../src/core/ties.js';
import { openStore } from '../src/store/open-store.js';

/** The seed example's type (SPEC §5 attach): two int properties that keep a top 5 and a sum, one bool. */
export const BENCH_PROPERTIES: readonly PropertyInput[] = [
  { name: 'user_like', type: 'int', top: 5, sum: true },
  { name: 'donate', type: 'int', top: 5, sum: true },
  { name: 'is_online', type: 'bool' },
];

export const ATTACH_WEIGHTS = { user_like: 2, donate: 343, is_online: true } as const;

/** An attach call's body for the pair (a, b), with ATTACH_WEIGHTS. */
export function attachBody(relId: number, a: string, b: string): string {
  return `{"rel_id":${relId},"profile_a":{"profile_id":"${a}"},"profile_b":{"profile_id":"${b}"},"weights":${JSON.stringify(ATTACH_WEIGHTS)}}`;
}

export interface Workspace {
  readonly relId: number;
  readonly dbA: number;
  readonly dbB: number;
  /** Profiles of database A (recipients); [0] is the hub, [1] has 100 relations, the rest have none. */
  readonly as: readonly string[];
  /** Profiles of database B (initiators); the hub is related to every one of them. */
  readonly bs: readonly string[];
}

export interface WorkspaceSizes {
  readonly as: number;
  readonly bs: number;
  /** Relations of the hub (as[0]), to bs[0..hub-1]; 0 for none. */
  readonly hub: number;
  /** Whether as[1] gets 100 relations (to bs[0..99]). */
  readonly get100: boolean;
}

const CHUNK = 1000;

async function inChunks<T>(count: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    const end = Math.min(count, start + CHUNK);
    // A chunk is queued in one turn, so the store commits it as one group.
    out.push(...(await Promise.all(Array.from({ length: end - start }, (_, i) => make(start + i)))));
  }
  return out;
}

/** The i-th profile's email in a database: how findWorkspace finds it again. */
const profileEmail = (i: number, dbId: number) => `p${i}@db${dbId}.example`;

async function addProfiles(ties: Ties, dbId: number, count: number): Promise<string[]> {
  const answers = await inChunks(count, (i) =>
    ties.profiles.add({ db_id: dbId, data: { email: profileEmail(i, dbId) } }, 'typed'),
  );
  return answers.map((a) => a.profile_id);
}

async function findProfiles(ties: Ties, dbId: number, count: number): Promise<string[]> {
  const answers = await inChunks(count, (i) =>
    ties.profiles.get({ db_id: dbId, email: profileEmail(i, dbId) }),
  );
  return answers.map((a) => a.data.id);
}

/** Creates the workspace in an empty store (a SQLite file or a postgres:// URL). */
export async function buildWorkspace(db: string, sizes: WorkspaceSizes): Promise<Workspace> {
  const ties = createTies({ store: await openStore(db, undefined, { sqliteWriter: 'inline' }) });
  try {
    const dbA = (await ties.catalog.createDatabase({ name: 'Authors' })).data.id;
    const dbB = (await ties.catalog.createDatabase({ name: 'Readers' })).data.id;
    const relId = (
      await ties.catalog.createRelationType({
        name: 'donates',
        db_a: dbA,
        db_b: dbB,
        properties: BENCH_PROPERTIES,
      })
    ).data.rel_id;
    const as = await addProfiles(ties, dbA, sizes.as);
    const bs = await addProfiles(ties, dbB, sizes.bs);
    const ctx = { encoding: 'typed' } as const;
    const attach = (a: string, b: string, i: number) =>
      ties.relations.attach(
        {
          rel_id: relId,
          profile_a: { profile_id: a },
          profile_b: { profile_id: b },
          weights: { user_like: i % 97, donate: (i * 7919) % 10_007, is_online: i % 2 === 0 },
        },
        ctx,
      );
    await inChunks(Math.min(sizes.hub, bs.length), (i) => attach(as[0]!, bs[i]!, i));
    if (sizes.get100) await inChunks(100, (i) => attach(as[1]!, bs[i]!, i));
    return { relId, dbA, dbB, as, bs };
  } finally {
    await ties.close();
  }
}

/**
 * The workspace buildWorkspace made in a store kept by an earlier run (`--keep`), found through
 * core: its one relation type, and the first `sizes.as` and `sizes.bs` profiles in creation order.
 */
export async function findWorkspace(db: string, sizes: { as: number; bs: number }): Promise<Workspace> {
  const ties = createTies({ store: await openStore(db, undefined, { sqliteWriter: 'inline' }) });
  try {
    const types = (await ties.catalog.listRelationTypes()).data;
    if (types.length !== 1)
      throw new Error(`${db}: expected the bench's one relation type, found ${types.length}`);
    const { rel_id: relId, db_a: dbA, db_b: dbB } = types[0]!;
    return {
      relId,
      dbA,
      dbB,
      as: await findProfiles(ties, dbA, sizes.as),
      bs: await findProfiles(ties, dbB, sizes.bs),
    };
  } finally {
    await ties.close();
  }
}

/**
 * Copies a SQLite store file for a second server, with everything its WAL holds moved into the file
 * first: a server stopped right after its start may leave its first writes (the admin token) in
 * the WAL, and a copy of the file alone would then answer every call with 401.
 */
export function copyStoreFile(from: string, to: string): void {
  const db = new BetterSqlite3(from);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  copyFileSync(from, to);
}
