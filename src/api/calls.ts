// The call catalogue: every call of the API with its path, right, schemas and the core use case it
// runs. The HTTP layer, /openapi.json and the client are all generated from this one list.
import type { Static, TSchema } from 'typebox';
import type { Right } from '../core/model.js';
import type { BatchItemOutcome, CallContext } from '../core/relation-service.js';
import type { Ties } from '../core/ties.js';
import { changeEventToWire } from './change-wire.js';
import * as S from './schemas.js';

export type CallGroup =
  | 'relations'
  | 'profiles'
  | 'databases'
  | 'resources'
  | 'relation types'
  | 'tokens'
  | 'webhooks';

export interface CallDef<P extends TSchema = TSchema, A extends TSchema = TSchema> {
  /** Path under /api/v1.1/. */
  readonly name: string;
  readonly group: CallGroup;
  readonly summary: string;
  readonly right: Right;
  readonly params: P;
  /** The call's own answer fields (the envelope's error and error_text come on top). */
  readonly answer: A;
  /**
   * error_text on success: "" for attach, detach, strengthen and edit (as Altcraft's page shows),
   * "Successful operation" for every other call (SPEC §2).
   */
  readonly successText: '' | 'Successful operation';
  /**
   * Whether the call may wait for something (a long-poll) and so needs `ctx.signal`, which aborts
   * when its client goes away. Only such calls get one: an AbortController per call, and the
   * DOMException its abort builds when each answered connection closes, took ~6% of a server's CPU
   * under strengthen (docs/benchmarks.md).
   */
  readonly waits?: true;
  run(ties: Ties, params: Static<P>, ctx: CallContext): Promise<object>;
}

/** A call of the table, its name and schemas kept in its type (the client derives its types from them). */
export type TypedCallDef<N extends string, P extends TSchema, A extends TSchema> = CallDef<P, A> & {
  readonly name: N;
};

function define<const N extends string, P extends TSchema, A extends TSchema>(
  def: TypedCallDef<N, P, A>,
): TypedCallDef<N, P, A> {
  return def;
}

const OK = 'Successful operation';

/**
 * A batch call's answer (SPEC §2): one envelope-like entry per item, in order; a failed item's
 * entry carries its error and, when they were found, the two profile ids.
 */
function batchAnswer(outcomes: readonly BatchItemOutcome[]) {
  return {
    data: outcomes.map((o) => {
      if (o.ok) return { error: 0, error_text: '', ...o.answer };
      const { profile_a, profile_b } = o.error.details;
      const ids =
        typeof profile_a === 'string' && typeof profile_b === 'string' ? { profile_a, profile_b } : {};
      return { error: o.error.status, error_text: o.error.message, ...ids, relation_id: o.relId };
    }),
  };
}

/**
 * The one list of calls. The HTTP routes, /openapi.json, the client's types and method tree
 * (src/client/call-map.ts, type-only), the client's coverage test and every-call test derive
 * from it: adding a call is adding an entry here (and its use case).
 */
export const CALL_TABLE = [
  // --- relations (SPEC §5) ---
  define({
    name: 'relations/attach',
    group: 'relations',
    summary: 'Create the relation B → A with its weights; 409 if it exists',
    right: 'write',
    params: S.WeightedRelationParams,
    answer: S.RelationAnswer,
    successText: '',
    run: (t, p, ctx) => t.relations.attach(p, ctx),
  }),
  define({
    name: 'relations/detach',
    group: 'relations',
    summary: 'Remove the relation B → A; 404 if there is none',
    right: 'write',
    params: S.RelationParams,
    answer: S.RelationAnswer,
    successText: '',
    run: (t, p) => t.relations.detach(p),
  }),
  define({
    name: 'relations/strengthen',
    group: 'relations',
    summary:
      'Add to numeric properties (negative subtracts), set bool/string ones; creates the relation if missing',
    right: 'write',
    params: S.WeightedRelationParams,
    answer: S.RelationAnswer,
    successText: '',
    run: (t, p, ctx) => t.relations.strengthen(p, ctx),
  }),
  define({
    name: 'relations/edit',
    group: 'relations',
    summary: 'Overwrite the given properties (null removes one); creates the relation if missing',
    right: 'write',
    params: S.WeightedRelationParams,
    answer: S.RelationAnswer,
    successText: '',
    run: (t, p, ctx) => t.relations.edit(p, ctx),
  }),
  define({
    name: 'relations/attach_batch',
    group: 'relations',
    summary: 'Up to 1,000 attach calls in one request; each item answered in order with its own error',
    right: 'write',
    params: S.BatchParams,
    answer: S.BatchAnswer,
    successText: OK,
    run: (t, p, ctx) => t.relations.attachBatch(p, ctx).then(batchAnswer),
  }),
  define({
    name: 'relations/strengthen_batch',
    group: 'relations',
    summary: 'Up to 1,000 strengthen calls in one request; each item answered in order with its own error',
    right: 'write',
    params: S.BatchParams,
    answer: S.BatchAnswer,
    successText: OK,
    run: (t, p, ctx) => t.relations.strengthenBatch(p, ctx).then(batchAnswer),
  }),
  define({
    name: 'relations/get',
    group: 'relations',
    summary:
      "List profile A's relations (or, with side b, those profile B initiated), ordered by the other id",
    right: 'read',
    params: S.GetParams,
    answer: S.GetAnswer,
    successText: OK,
    run: (t, p) => t.relations.get(p),
  }),
  define({
    name: 'relations/get_counter',
    group: 'relations',
    summary: "Aggregates over profile A's relations: total, and per property count, top and sum",
    right: 'read',
    params: S.CounterParams,
    answer: S.CounterAnswer,
    successText: OK,
    run: (t, p) => t.relations.getCounter(p),
  }),
  define({
    name: 'relations/changes',
    group: 'relations',
    summary:
      'The change feed: relation changes after a cursor, in commit order, with filters and long-polling (wait_ms)',
    right: 'read',
    params: S.ChangesParams,
    waits: true,
    answer: S.ChangesAnswer,
    successText: OK,
    run: (t, p, ctx) =>
      t.feed
        .changes(
          {
            after: p.after,
            limit: p.limit,
            relId: p.rel_id,
            profileId: p.profile_id,
            waitMs: p.wait_ms,
          },
          ctx.signal,
        )
        .then((page) => ({
          data: page.events.map(changeEventToWire),
          next_after: page.lastSeq,
          oldest_seq: page.oldestSeq,
          head_seq: page.headSeq,
        })),
  }),

  // --- profiles (SPEC §6) ---
  define({
    name: 'profiles/import',
    group: 'profiles',
    summary: 'Update the matched profile or create one',
    right: 'write',
    params: S.ProfileWriteParams,
    answer: S.ProfileIdAnswer,
    successText: OK,
    run: (t, p, ctx) => t.profiles.import(p, ctx.encoding),
  }),
  define({
    name: 'profiles/add',
    group: 'profiles',
    summary: 'Create a profile',
    right: 'write',
    params: S.ProfileAddParams,
    answer: S.ProfileIdAnswer,
    successText: OK,
    run: (t, p, ctx) => t.profiles.add(p, ctx.encoding),
  }),
  define({
    name: 'profiles/update',
    group: 'profiles',
    summary: 'Update the matched profile; 404 if none',
    right: 'write',
    params: S.ProfileWriteParams,
    answer: S.ProfileIdAnswer,
    successText: OK,
    run: (t, p, ctx) => t.profiles.update(p, ctx.encoding),
  }),
  define({
    name: 'profiles/import_batch',
    group: 'profiles',
    summary: 'Import up to 10,000 profiles: each updates its match or is created, answered in order',
    right: 'write',
    params: S.ProfileBatchParams,
    answer: S.ProfileBatchAnswer,
    successText: OK,
    run: (t, p, ctx) => t.profiles.batch(p, 'import', ctx.encoding),
  }),
  define({
    name: 'profiles/add_batch',
    group: 'profiles',
    summary: 'Create up to 10,000 profiles, answered in order',
    right: 'write',
    params: S.ProfileAddBatchParams,
    answer: S.ProfileBatchAnswer,
    successText: OK,
    run: (t, p, ctx) => t.profiles.batch(p, 'add', ctx.encoding),
  }),
  define({
    name: 'profiles/update_batch',
    group: 'profiles',
    summary: 'Update up to 10,000 matched profiles (none is created), answered in order',
    right: 'write',
    params: S.ProfileBatchParams,
    answer: S.ProfileBatchAnswer,
    successText: OK,
    run: (t, p, ctx) => t.profiles.batch(p, 'update', ctx.encoding),
  }),
  define({
    name: 'profiles/get',
    group: 'profiles',
    summary: 'The matched profile: fields, id, db_id, _xxh, subscriptions',
    right: 'read',
    params: S.ProfileLookupParams,
    answer: S.ProfileGetAnswer,
    successText: OK,
    run: (t, p) => t.profiles.get(p),
  }),
  define({
    name: 'profiles/get_batch',
    group: 'profiles',
    summary:
      'Ties extension: up to 1000 profiles of one database by id, with the fields asked for, one entry per id (found or not)',
    right: 'read',
    params: S.ProfileGetBatchParams,
    answer: S.ProfileGetBatchAnswer,
    successText: OK,
    run: (t, p) => t.profiles.getBatch(p),
  }),
  define({
    name: 'profiles/delete',
    group: 'profiles',
    summary: 'Delete the matched profile, its subscriptions and every relation it takes part in',
    right: 'delete',
    params: S.ProfileLookupParams,
    answer: S.ProfileDeleteAnswer,
    successText: OK,
    run: (t, p) => t.profiles.delete(p),
  }),

  // --- databases and resources (SPEC §6, §7) ---
  define({
    name: 'databases/list',
    group: 'databases',
    summary: 'Databases, by id',
    right: 'read',
    params: S.DatabaseListParams,
    answer: S.DatabaseListAnswer,
    successText: OK,
    run: (t, p) => t.catalog.listDatabases(p),
  }),
  define({
    name: 'databases/get',
    group: 'databases',
    summary: 'One database',
    right: 'read',
    params: S.IdParams,
    answer: S.DatabaseGetAnswer,
    successText: OK,
    run: (t, p) => t.catalog.getDatabase(p),
  }),
  define({
    name: 'databases/fields_get',
    group: 'databases',
    summary: "A database's fields, standard and custom",
    right: 'read',
    params: S.IdParams,
    answer: S.FieldsAnswer,
    successText: OK,
    run: (t, p) => t.catalog.getFields(p),
  }),
  define({
    name: 'databases/create',
    group: 'databases',
    summary: 'Create a database with custom fields (administration)',
    right: 'admin',
    params: S.DatabaseCreateParams,
    answer: S.CreatedIdAnswer,
    successText: OK,
    run: (t, p) => t.catalog.createDatabase(p),
  }),
  define({
    name: 'databases/fields_add',
    group: 'databases',
    summary: 'Add custom fields to a database (administration)',
    right: 'admin',
    params: S.FieldsAddParams,
    answer: S.FieldsAddAnswer,
    successText: OK,
    run: (t, p) => t.catalog.addFields(p),
  }),
  define({
    name: 'resources/list',
    group: 'resources',
    summary: 'Resources, by id',
    right: 'read',
    params: S.ResourceListParams,
    answer: S.ResourceListAnswer,
    successText: OK,
    run: (t, p) => t.catalog.listResources(p),
  }),
  define({
    name: 'resources/get',
    group: 'resources',
    summary: 'One resource',
    right: 'read',
    params: S.IdParams,
    answer: S.ResourceGetAnswer,
    successText: OK,
    run: (t, p) => t.catalog.getResource(p),
  }),
  define({
    name: 'resources/create',
    group: 'resources',
    summary: 'Create a resource (administration)',
    right: 'admin',
    params: S.ResourceCreateParams,
    answer: S.CreatedIdAnswer,
    successText: OK,
    run: (t, p) => t.catalog.createResource(p),
  }),

  // --- relation types (SPEC §7) ---
  define({
    name: 'relations/types/create',
    group: 'relation types',
    summary: 'Create a relation type with typed properties (administration)',
    right: 'admin',
    params: S.RelationTypeCreateParams,
    answer: S.RelIdAnswer,
    successText: OK,
    run: (t, p) => t.catalog.createRelationType(p),
  }),
  define({
    name: 'relations/types/list',
    group: 'relation types',
    summary: 'Relation types',
    right: 'read',
    params: S.EmptyParams,
    answer: S.RelationTypeListAnswer,
    successText: OK,
    run: (t) => t.catalog.listRelationTypes(),
  }),
  define({
    name: 'relations/types/get',
    group: 'relation types',
    summary: 'One relation type',
    right: 'read',
    params: S.RelIdParams,
    answer: S.RelationTypeAnswer,
    successText: OK,
    run: (t, p) => t.catalog.getRelationType(p),
  }),
  define({
    name: 'relations/types/update',
    group: 'relation types',
    summary:
      'Add or change properties by name; a changed top or sum rebuilds its aggregates (administration)',
    right: 'admin',
    params: S.RelationTypeUpdateParams,
    answer: S.RelationTypeAnswer,
    successText: OK,
    run: (t, p) => t.catalog.updateRelationType(p),
  }),
  define({
    name: 'relations/types/delete',
    group: 'relation types',
    summary: 'Delete a relation type and all its relations (administration)',
    right: 'admin',
    params: S.RelIdParams,
    answer: S.RelIdAnswer,
    successText: OK,
    run: (t, p) => t.catalog.deleteRelationType(p),
  }),

  // --- tokens (SPEC §7) ---
  define({
    name: 'tokens/create',
    group: 'tokens',
    summary: 'Mint a token with rights; the token is shown once (administration)',
    right: 'admin',
    params: S.TokenCreateParams,
    answer: S.TokenCreateAnswer,
    successText: OK,
    run: (t, p) => t.access.create(p),
  }),
  define({
    name: 'tokens/list',
    group: 'tokens',
    summary: 'Tokens, without their secrets (administration)',
    right: 'admin',
    params: S.EmptyParams,
    answer: S.TokenListAnswer,
    successText: OK,
    run: (t) => t.access.list(),
  }),
  define({
    name: 'tokens/revoke',
    group: 'tokens',
    summary: 'Revoke a token (administration)',
    right: 'admin',
    params: S.IdParams,
    answer: S.IdAnswer,
    successText: OK,
    run: (t, p) => t.access.revoke(p),
  }),

  // --- webhooks (issue #16; README "Webhooks") ---
  define({
    name: 'webhooks/create',
    group: 'webhooks',
    summary:
      'POST every change (optionally of one relation type or profile) to a URL, signed; the secret is shown once (administration)',
    right: 'admin',
    params: S.WebhookCreateParams,
    answer: S.WebhookCreateAnswer,
    successText: OK,
    run: (t, p) => t.webhooks.create(p),
  }),
  define({
    name: 'webhooks/list',
    group: 'webhooks',
    summary: 'Webhooks with their delivery state: position, lag, failures, last error (administration)',
    right: 'admin',
    params: S.EmptyParams,
    answer: S.WebhookListAnswer,
    successText: OK,
    run: (t) => t.webhooks.list(),
  }),
  define({
    name: 'webhooks/delete',
    group: 'webhooks',
    summary: 'Delete a webhook; delivery stops (administration)',
    right: 'admin',
    params: S.IdParams,
    answer: S.IdAnswer,
    successText: OK,
    run: (t, p) => t.webhooks.delete(p),
  }),
] as const;

export const CALLS: readonly CallDef[] = CALL_TABLE as unknown as readonly CallDef[];

export const CALLS_BY_NAME: ReadonlyMap<string, CallDef> = new Map(CALLS.map((c) => [c.name, c]));
