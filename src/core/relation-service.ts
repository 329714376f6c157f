// The six relation calls of the Altcraft API (SPEC §5): attach, detach, strengthen, edit, get,
// get_counter. Validates, builds the lookups, lets the store do the one transaction, and turns
// the store's outcome into the call's answer or a catalogue error.

import { resolveBatchTargets } from './batch-targets.js';
import type { CatalogService, Clock } from './catalog-service.js';
import type { ChangeCall } from './change-feed.js';
import { badParameter, TiesError } from './errors.js';
import { PROFILE_ID_PATTERN, profileXxh } from './ids.js';
import type { Limits } from './limits.js';
import { type Identification, queryResourceId, sideDefaults, toProfileQuery } from './matching.js';
import type { RelationType } from './model.js';
import { parseAttachWeights, parseEditWeights, parseStrengthenWeights } from './property-types.js';
import { type ListOrderParams, parseListOrder } from './relation-order.js';
import { relationRowsJson } from './relation-rows-json.js';
import type {
  AttachInput,
  AttachManyOutcome,
  MatchFailure,
  PairFailure,
  ProfileQuery,
  RelationTarget,
  Store,
} from './store.js';
import type { ValueEncoding } from './values.js';

/** How a call's values arrived: typed JSON or XML text. */
export interface CallContext {
  readonly encoding: ValueEncoding;
  /** Aborts when the client went away (a long-poll stops waiting). */
  readonly signal?: AbortSignal | undefined;
}

/** Parameters of attach, detach, strengthen and edit; top-level identification fields are defaults. */
export interface RelationParams extends Identification {
  readonly rel_id: number;
  readonly profile_a: Identification;
  readonly profile_b: Identification;
}
export interface WeightedRelationParams extends RelationParams {
  readonly weights: unknown;
}

/** One item of attach_batch / strengthen_batch: a single call's parameters, its rel_id optional. */
export interface BatchItemParams extends Identification {
  readonly rel_id?: number | undefined;
  readonly profile_a: Identification;
  readonly profile_b: Identification;
  readonly weights: unknown;
}

/** A batch call: top-level rel_id and identification defaults serve every item that sets none. */
export interface BatchParams extends Identification {
  readonly rel_id: number;
  readonly items: readonly BatchItemParams[];
}

/** What one item of a batch call came to: its answer, or the error a single call would have thrown. */
export type BatchItemOutcome =
  | { readonly ok: true; readonly answer: RelationAnswer }
  | { readonly ok: false; readonly error: TiesError; readonly relId: number };

export interface GetParams extends Identification, ListOrderParams {
  readonly rel_id: number;
  readonly side?: 'a' | 'b' | undefined;
  readonly limit?: number | undefined;
  readonly from?: string | undefined;
}

export interface CounterParams extends Identification {
  readonly rel_id: number;
}

export interface RelationAnswer {
  readonly profile_a: string;
  readonly profile_b: string;
  readonly relation_id: number;
}

export interface RelationServiceOptions {
  readonly limits: Limits;
  /** relations/get without `limit` answers at most this many rows (SPEC §5 get). */
  readonly maxGetRows: number;
}

export const MAX_PAGE = 10_000;
/** Highest relations/get `offset` (an int4 on PostgreSQL; far beyond any profile's relations). */
export const MAX_OFFSET = 2_000_000_000;

export function matchFailureError(failure: MatchFailure | PairFailure): TiesError {
  switch (failure.kind) {
    case 'not_found':
      return new TiesError('PROFILE_NOT_FOUND', { side: failure.side });
    case 'ambiguous':
      return new TiesError('AMBIGUOUS_PROFILE', { side: failure.side });
    case 'self':
      return new TiesError('SELF_RELATION', { profile_id: failure.id });
  }
}

export class RelationService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogService,
    private readonly clock: Clock,
    private readonly options: RelationServiceOptions,
  ) {}

  /** Resolves the relation type and builds both lookups; checks named resources exist. */
  private async target(p: RelationParams): Promise<RelationTarget> {
    const type = await this.catalog.requireRelationType(p.rel_id);
    // One after the other (A's first, as its error would come first): the catalogue answers from
    // memory, and Promise.all's bookkeeping cost more than the second await.
    const dbA = await this.catalog.requireDatabase(type.dbA, 'rel_id');
    const dbB = type.dbB === type.dbA ? dbA : await this.catalog.requireDatabase(type.dbB, 'rel_id');
    const defaults = sideDefaults(p);
    const a = toProfileQuery(p.profile_a, defaults, dbA, 'profile_a');
    const b = toProfileQuery(p.profile_b, defaults, dbB, 'profile_b');
    // Most lookups (by id) name no resource: no call at all then.
    if (queryResourceId(a) !== undefined || queryResourceId(b) !== undefined) {
      await this.checkResources([
        [a, 'profile_a.resource_id'],
        [b, 'profile_b.resource_id'],
      ]);
    }
    return { type, a, b, now: this.clock.now().toISOString() };
  }

  private async checkResources(queries: readonly [ProfileQuery, string][]): Promise<void> {
    for (const [query, param] of queries) {
      const id = queryResourceId(query);
      if (id !== undefined) await this.catalog.requireResource(id, param);
    }
  }

  private answer(type: RelationType, a: string, b: string): RelationAnswer {
    return { profile_a: a, profile_b: b, relation_id: type.relId };
  }

  /** What attach stores: the target and its validated weights. */
  private async attachInput(p: WeightedRelationParams, ctx: CallContext): Promise<AttachInput> {
    const target = await this.target(p);
    const weights = parseAttachWeights(p.weights, target.type, ctx.encoding, this.options.limits);
    return { ...target, weights };
  }

  private attachAnswer(input: AttachInput, outcome: AttachManyOutcome): RelationAnswer {
    switch (outcome.kind) {
      case 'ok':
        return this.answer(input.type, outcome.a, outcome.b);
      case 'duplicate':
        throw new TiesError('DUPLICATE_RELATION', {
          profile_a: outcome.a,
          profile_b: outcome.b,
          rel_id: input.type.relId,
        });
      case 'error':
        throw outcome.error;
      default:
        throw matchFailureError(outcome);
    }
  }

  async attach(p: WeightedRelationParams, ctx: CallContext): Promise<RelationAnswer> {
    const input = await this.attachInput(p, ctx);
    return this.attachAnswer(input, await this.store.attach(input));
  }

  async detach(p: RelationParams): Promise<RelationAnswer> {
    const target = await this.target(p);
    const outcome = await this.store.detach(target);
    switch (outcome.kind) {
      case 'ok':
        return this.answer(target.type, outcome.a, outcome.b);
      case 'no_relation':
        throw new TiesError('RELATION_NOT_FOUND', {
          profile_a: outcome.a,
          profile_b: outcome.b,
          rel_id: p.rel_id,
        });
      default:
        throw matchFailureError(outcome);
    }
  }

  async strengthen(
    p: WeightedRelationParams,
    ctx: CallContext,
    call: ChangeCall = 'relations/strengthen',
  ): Promise<RelationAnswer> {
    const target = await this.target(p);
    const { add, set } = parseStrengthenWeights(p.weights, target.type, ctx.encoding, this.options.limits);
    const outcome = await this.store.strengthen({ ...target, add, set, call });
    switch (outcome.kind) {
      case 'ok':
        return this.answer(target.type, outcome.a, outcome.b);
      case 'overflow':
        throw new TiesError('INT_OVERFLOW', { property: outcome.property, result: outcome.result });
      default:
        throw matchFailureError(outcome);
    }
  }

  async edit(p: WeightedRelationParams, ctx: CallContext): Promise<RelationAnswer> {
    const target = await this.target(p);
    const { set, remove } = parseEditWeights(p.weights, target.type, ctx.encoding, this.options.limits);
    const outcome = await this.store.edit({ ...target, set, remove });
    if (outcome.kind === 'ok') return this.answer(target.type, outcome.a, outcome.b);
    throw matchFailureError(outcome);
  }

  /**
   * relations/attach_batch: every item runs the attach use case, all in the same turn, so that
   * they join one group commit; each keeps its own outcome (a failed item changes nothing).
   */
  async attachBatch(p: BatchParams, ctx: CallContext): Promise<BatchItemOutcome[]> {
    const attachMany = this.store.attachMany?.bind(this.store);
    if (!attachMany) return this.batch(p, (item) => this.attach(item, ctx));
    // Set-based: every item validated as attach would, the valid ones stored in one call. The
    // catalogue is read once per distinct type and resource, the clock once for the whole batch.
    const params = p.items.map((item) => batchItemParams(p, item));
    const targets = await resolveBatchTargets(this.catalog, params);
    const now = this.clock.now().toISOString();
    const { limits } = this.options;
    // Per item, its input's position in `inputs` or the error it stopped at (no object per item:
    // ties import sends 8,000 a call).
    const inputs: AttachInput[] = [];
    const slots: (number | TiesError)[] = new Array(params.length);
    for (let i = 0; i < params.length; i++) {
      const target = targets[i]!;
      if (target.error) {
        slots[i] = target.error;
        continue;
      }
      try {
        const weights = parseAttachWeights(params[i]!.weights, target.type, ctx.encoding, limits);
        slots[i] = inputs.push({ type: target.type, a: target.a, b: target.b, now, weights }) - 1;
      } catch (err) {
        if (!(err instanceof TiesError)) throw err;
        slots[i] = err;
      }
    }
    const outcomes = inputs.length > 0 ? await attachMany(inputs) : [];
    return params.map((itemParams, i): BatchItemOutcome => {
      const slot = slots[i]!;
      if (typeof slot !== 'number') return { ok: false, error: slot, relId: itemParams.rel_id };
      try {
        return { ok: true, answer: this.attachAnswer(inputs[slot]!, outcomes[slot]!) };
      } catch (err) {
        if (err instanceof TiesError) return { ok: false, error: err, relId: itemParams.rel_id };
        throw err;
      }
    });
  }

  /** relations/strengthen_batch: as attachBatch, with the strengthen use case. */
  strengthenBatch(p: BatchParams, ctx: CallContext): Promise<BatchItemOutcome[]> {
    return this.batch(p, (item) => this.strengthen(item, ctx, 'relations/strengthen_batch'));
  }

  private batch(
    p: BatchParams,
    run: (item: WeightedRelationParams) => Promise<RelationAnswer>,
  ): Promise<BatchItemOutcome[]> {
    return Promise.all(
      p.items.map(async (item): Promise<BatchItemOutcome> => {
        const params = batchItemParams(p, item);
        try {
          return { ok: true, answer: await run(params) };
        } catch (err) {
          // Anything but a catalogue error is a fault of Ties, not of the item: the call fails.
          if (err instanceof TiesError) return { ok: false, error: err, relId: params.rel_id };
          throw err;
        }
      }),
    );
  }

  /** The profile named at top level, searched in db_a (or db_b for side "b"). */
  private async topLevelQuery(p: Identification, type: RelationType, side: 'a' | 'b'): Promise<ProfileQuery> {
    const db = await this.catalog.requireDatabase(side === 'a' ? type.dbA : type.dbB, 'rel_id');
    const query = toProfileQuery(p, {}, db, '');
    await this.checkResources([[query, 'resource_id']]);
    return query;
  }

  async get(p: GetParams) {
    const side = p.side ?? 'a';
    // Ids are stored in lower case; accept a `from` in either case, as profile_id is.
    const from = p.from?.toLowerCase();
    if (from !== undefined && !PROFILE_ID_PATTERN.test(from)) {
      throw badParameter('from', 'expected a profile id (24 hexadecimal characters) as given in next_from');
    }
    const type = await this.catalog.requireRelationType(p.rel_id);
    const listing = parseListOrder(p, type);
    const profile = await this.topLevelQuery(p, type, side);
    const paged = p.limit !== undefined;
    const cap = this.options.maxGetRows;
    const outcome = await this.store.listRelations({
      type,
      side,
      profile,
      after: from,
      limit: p.limit ?? cap,
      refuseAbove: paged ? undefined : cap,
      order: listing.order,
      offset: listing.offset,
      filter: listing.filter,
    });
    switch (outcome.kind) {
      case 'ok':
        break;
      case 'too_many':
        throw new TiesError('TOO_MANY_ROWS', { count: outcome.total, cap });
      default:
        throw matchFailureError(outcome);
    }
    const last = outcome.rows[outcome.rows.length - 1];
    const more = outcome.more && last !== undefined;
    return {
      data: relationRowsJson(outcome.rows, type, side, outcome.profileId),
      total_count: outcome.total,
      // Ties extension: present only when a filter, sort or offset was asked for.
      ...(outcome.matched !== undefined ? { filtered_count: outcome.matched } : {}),
      ...(more && !listing.order ? { next_from: last[0] } : {}),
      ...(more && listing.byOffset ? { next_offset: (listing.offset ?? 0) + outcome.rows.length } : {}),
    };
  }

  async getCounter(p: CounterParams) {
    const type = await this.catalog.requireRelationType(p.rel_id);
    const profile = await this.topLevelQuery(p, type, 'a');
    const outcome = await this.store.counter({ type, profile });
    if (outcome.kind !== 'ok') throw matchFailureError(outcome);
    const props: Record<
      string,
      { total: number; top: { profile_id: string; value: number }[] | null; sum: number | null }
    > = {};
    for (const agg of outcome.props) {
      props[agg.name] = {
        total: agg.count,
        top: agg.top ? agg.top.map((t) => ({ profile_id: t.profileId, value: t.value })) : null,
        sum: agg.sum,
      };
    }
    return {
      data: {
        profile_id: outcome.profileId,
        profile_xxh: profileXxh(outcome.profileId),
        total: outcome.total,
        props,
      },
    };
  }
}

/** A batch item's parameters, the call's top-level rel_id and identification filling what it leaves out. */
function batchItemParams(p: BatchParams, item: BatchItemParams): WeightedRelationParams {
  return {
    rel_id: item.rel_id ?? p.rel_id,
    profile_a: item.profile_a,
    profile_b: item.profile_b,
    weights: item.weights,
    matching: item.matching ?? p.matching,
    resource_id: item.resource_id ?? p.resource_id,
    field_name: item.field_name ?? p.field_name,
  };
}
