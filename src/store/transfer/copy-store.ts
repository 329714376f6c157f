// A whole store copied through the transfer port: the catalogue with its ids and token hashes,
// profiles in id order, each relation type's relations in (A, B) order, the change log in seq
// order, in chunks that each commit on the target; then the feed's webhooks and cursors; then every
// type's aggregates rebuilt by the target engine and checked against the source's, and the row
// counts compared. Engine-neutral: it sees no table.
import { isDeepStrictEqual } from 'node:util';
import type { Database, RelationType } from '../../core/model.js';
import { groupDigits } from '../../group-digits.js';
import type {
  AggregateRecord,
  CatalogueRows,
  FeedRows,
  StoreCounts,
  TransferReader,
  TransferWriter,
} from './transfer-port.js';
import { compareKeys } from './transfer-port.js';

export interface CopyOptions {
  /** Rows per chunk (one transaction on the target each). */
  readonly chunk: number;
  /** Continue an interrupted copy into this target (rows already there are kept). */
  readonly resume: boolean;
  /** Empty a non-empty target first. */
  readonly overwrite: boolean;
  /** Rows copied so far out of the total to copy (profiles and relations). */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  /** Phases as they start, for the log. */
  readonly onPhase?: ((text: string) => void) | undefined;
  /** Stops after this many chunks written (tests interrupt a copy this way). */
  readonly stopAfterChunks?: number | undefined;
}

export interface CopySummary {
  readonly counts: StoreCounts;
  /** Profiles and relations the target already had (a resumed copy). */
  readonly skipped: number;
  readonly copied: number;
  readonly aggregateRows: number;
  /** Empty when the copy is verified. */
  readonly problems: readonly string[];
}

/** Why a copy did not start; nothing was written. */
export class CopyRefused extends Error {}
/** A copy stopped on purpose (stopAfterChunks). */
export class CopyStopped extends Error {}

/** The catalogue's identity: what must be equal for a target to be a copy of the source. */
function catalogueKey(c: CatalogueRows) {
  return {
    databases: c.databases,
    resources: c.resources,
    relationTypes: c.relationTypes,
    tokens: c.tokens.map((t) => [t.id, t.name, t.hash, t.rights]),
  };
}

async function* pairs<T>(x: AsyncIterable<T[]>): AsyncGenerator<T> {
  for await (const chunk of x) yield* chunk;
}

/** Sums are equal when they are the same double, or within rounding of one another (floats). */
function sameSum(x: number | null, y: number | null): boolean {
  if (x === null || y === null) return x === y;
  return x === y || Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y));
}

const aggregateName = (r: AggregateRecord) =>
  `${r.side === 'a' ? 'A' : 'B'} ${r.profileId}${r.prop ? ` ${r.prop}` : ''}`;

/** Compares a type's aggregates row by row (both come in the same order); at most 5 problems. */
async function compareAggregates(
  source: TransferReader,
  target: TransferReader,
  type: RelationType,
  chunk: number,
): Promise<{ rows: number; problems: string[] }> {
  const problems: string[] = [];
  const theirs = pairs(target.aggregates(type, chunk));
  let rows = 0;
  const order = (x: AggregateRecord, y: AggregateRecord) =>
    compareKeys(x.side, y.side) || compareKeys(x.profileId, y.profileId) || compareKeys(x.prop, y.prop);
  let next = await theirs.next();
  const note = (text: string) => {
    if (problems.length < 5) problems.push(`relation type ${type.relId}: ${text}`);
  };
  for await (const mine of pairs(source.aggregates(type, chunk))) {
    rows++;
    while (!next.done && order(next.value, mine) < 0) {
      note(`${aggregateName(next.value)}: the copy has an aggregate the source has not`);
      next = await theirs.next();
    }
    if (next.done || order(next.value, mine) > 0) {
      note(`${aggregateName(mine)}: missing from the copy`);
      continue;
    }
    if (next.value.count !== mine.count || !sameSum(next.value.sum, mine.sum)) {
      note(
        `${aggregateName(mine)}: count ${mine.count} sum ${mine.sum} in the source, ` +
          `${next.value.count} / ${next.value.sum} in the copy`,
      );
    }
    next = await theirs.next();
  }
  if (!next.done) note(`${aggregateName(next.value)}: the copy has an aggregate the source has not`);
  return { rows, problems };
}

function compareCounts(source: StoreCounts, target: StoreCounts): string[] {
  const problems: string[] = [];
  for (const key of [
    'databases',
    'resources',
    'relationTypes',
    'tokens',
    'profiles',
    'subscriptions',
    'changes',
    'webhooks',
    'feedCursors',
  ] as const) {
    if (source[key] !== target[key])
      problems.push(`${key}: ${source[key]} in the source, ${target[key]} in the copy`);
  }
  const types = new Set([...Object.keys(source.relations), ...Object.keys(target.relations)].map(Number));
  for (const relId of types) {
    const s = source.relations[relId] ?? 0;
    const t = target.relations[relId] ?? 0;
    if (s !== t) problems.push(`relations of type ${relId}: ${s} in the source, ${t} in the copy`);
  }
  return problems;
}

/** The feed as a copy must hold it: the same webhooks and cursors (leases aside) and log bounds. */
function compareFeed(source: FeedRows, target: FeedRows): string[] {
  const problems: string[] = [];
  const positions = (rows: FeedRows) =>
    rows.cursors.map(({ leaseOwner: _o, leaseUntil: _u, ...rest }) => rest);
  if (!isDeepStrictEqual(target.webhooks, source.webhooks))
    problems.push('webhooks: the copy differs from the source');
  if (!isDeepStrictEqual(positions(target), positions(source)))
    problems.push('feed cursors: the copy differs from the source');
  if (target.prunedThrough !== source.prunedThrough)
    problems.push(
      `change log: pruned through ${source.prunedThrough} in the source, ${target.prunedThrough} in the copy`,
    );
  if (target.lastSeq < source.lastSeq)
    problems.push(
      `change log: next seq after ${source.lastSeq} in the source, after ${target.lastSeq} in the copy`,
    );
  return problems;
}

export async function copyStore(
  source: TransferReader,
  target: TransferWriter,
  options: CopyOptions,
): Promise<CopySummary> {
  const phase = options.onPhase ?? (() => undefined);
  const catalogue = await source.catalogue();
  const counts = await source.counts();
  const total = counts.profiles + Object.values(counts.relations).reduce((s, n) => s + n, 0) + counts.changes;

  let resuming = false;
  if (!(await target.isEmpty())) {
    if (options.overwrite) {
      phase(`emptying ${target.where}`);
      await target.clear();
    } else if (options.resume) {
      if (!isDeepStrictEqual(catalogueKey(await target.catalogue()), catalogueKey(catalogue))) {
        throw new CopyRefused(
          `${target.where} holds another store (its databases, types or tokens differ from the source's): ` +
            'nothing to resume; pass --overwrite to replace it',
        );
      }
      resuming = true;
    } else {
      throw new CopyRefused(
        `${target.where} is not empty. Pass --resume to finish an interrupted copy of this source into it, ` +
          'or --overwrite to delete what it holds first',
      );
    }
  }
  if (!resuming) {
    phase(
      `catalogue: ${catalogue.databases.length} databases, ${catalogue.resources.length} resources, ` +
        `${catalogue.relationTypes.length} relation types, ${catalogue.tokens.length} tokens`,
    );
    await target.writeCatalogue(catalogue);
  }

  const databases = new Map<number, Database>(catalogue.databases.map((d) => [d.id, d]));
  let done = 0;
  let skipped = 0;
  let chunks = 0;
  const wrote = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
    if (options.stopAfterChunks !== undefined && ++chunks >= options.stopAfterChunks) {
      throw new CopyStopped(`stopped after ${chunks} chunks`);
    }
  };

  // Profiles, then each type's relations: what the target holds already is skipped by key.
  if (resuming) {
    const held = await target.counts();
    skipped = held.profiles + Object.values(held.relations).reduce((s, n) => s + n, 0) + held.changes;
    done = skipped;
    phase(`resuming: the target holds ${groupDigits(skipped)} profiles and relations already`);
  }
  const lastProfile = resuming ? await target.lastProfileId() : null;
  phase(`profiles: ${groupDigits(counts.profiles)}`);
  for await (const rows of source.profiles(lastProfile ?? '', options.chunk)) {
    await target.writeProfiles(rows, databases);
    wrote(rows.length);
  }
  for (const type of catalogue.relationTypes) {
    const n = counts.relations[type.relId] ?? 0;
    const last = resuming ? await target.lastRelation(type.relId) : null;
    phase(`relations of type ${type.relId} (${type.name}): ${groupDigits(n)}`);
    for await (const rows of source.relations(type.relId, last, options.chunk)) {
      await target.writeRelations(type.relId, rows);
      wrote(rows.length);
    }
  }

  // The change log with its seqs, then the webhooks and cursors that point into it: positions,
  // cursors and a follower's `after` mean the same on the copy.
  phase(`change log: ${groupDigits(counts.changes)} events`);
  for await (const rows of source.changes(resuming ? await target.lastChangeSeq() : 0, options.chunk)) {
    await target.writeChanges(rows);
    wrote(rows.length);
  }
  const feed = await source.feed();
  phase(`feed: ${feed.webhooks.length} webhooks, ${feed.cursors.length} cursors`);
  await target.writeFeed(feed);

  phase('aggregates: rebuilding on the target, then checking them against the source');
  let aggregateRows = 0;
  const problems = [
    ...compareCounts(counts, await target.counts()),
    ...compareFeed(feed, await target.feed()),
  ];
  for (const type of catalogue.relationTypes) {
    await target.rebuildAggregates(type);
    const compared = await compareAggregates(source, target, type, options.chunk);
    aggregateRows += compared.rows;
    problems.push(...compared.problems);
  }
  return { counts, skipped, copied: done - skipped, aggregateRows, problems };
}
