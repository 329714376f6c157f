// The typed call map of the client: each call's name → its parameters and success answer, derived
// (type-only) from the TypeBox schemas the server validates with, so the client cannot drift.
import type { Static, TSchema } from 'typebox';
import type * as S from '../api/schemas.js';

/** Sent by the client itself: the token as a Bearer header, the format always JSON. */
type ClientManaged = 'token' | 'format';

/** The envelope fields of a successful answer (SPEC §2). */
export interface SuccessEnvelope {
  readonly error: 0;
  readonly error_text: string;
}

/**
 * A profile as profiles/get answers it: the schema's fixed fields, plus the database's own fields
 * by name (the schema allows additional properties, which Static does not express).
 */
export type ProfileData = Static<typeof S.ProfileGetAnswer>['data'] & { readonly [field: string]: unknown };

interface Call<P extends TSchema, A extends TSchema> {
  readonly params: Omit<Static<P>, ClientManaged>;
  readonly answer: SuccessEnvelope & Static<A>;
}

/** Every call of the API (src/api/calls.ts); a test keeps the two equal. */
export interface CallMap {
  'relations/attach': Call<typeof S.WeightedRelationParams, typeof S.RelationAnswer>;
  'relations/detach': Call<typeof S.RelationParams, typeof S.RelationAnswer>;
  'relations/strengthen': Call<typeof S.WeightedRelationParams, typeof S.RelationAnswer>;
  'relations/edit': Call<typeof S.WeightedRelationParams, typeof S.RelationAnswer>;
  'relations/attach_batch': Call<typeof S.BatchParams, typeof S.BatchAnswer>;
  'relations/strengthen_batch': Call<typeof S.BatchParams, typeof S.BatchAnswer>;
  'relations/get': Call<typeof S.GetParams, typeof S.GetAnswer>;
  'relations/get_counter': Call<typeof S.CounterParams, typeof S.CounterAnswer>;
  'profiles/import': Call<typeof S.ProfileWriteParams, typeof S.ProfileIdAnswer>;
  'profiles/add': Call<typeof S.ProfileAddParams, typeof S.ProfileIdAnswer>;
  'profiles/update': Call<typeof S.ProfileWriteParams, typeof S.ProfileIdAnswer>;
  'profiles/get': {
    readonly params: Call<typeof S.ProfileLookupParams, typeof S.ProfileGetAnswer>['params'];
    readonly answer: SuccessEnvelope & { readonly data: ProfileData };
  };
  'profiles/delete': Call<typeof S.ProfileLookupParams, typeof S.ProfileDeleteAnswer>;
  'databases/list': Call<typeof S.DatabaseListParams, typeof S.DatabaseListAnswer>;
  'databases/get': Call<typeof S.IdParams, typeof S.DatabaseGetAnswer>;
  'databases/fields_get': Call<typeof S.IdParams, typeof S.FieldsAnswer>;
  'databases/create': Call<typeof S.DatabaseCreateParams, typeof S.CreatedIdAnswer>;
  'databases/fields_add': Call<typeof S.FieldsAddParams, typeof S.FieldsAddAnswer>;
  'resources/list': Call<typeof S.ResourceListParams, typeof S.ResourceListAnswer>;
  'resources/get': Call<typeof S.IdParams, typeof S.ResourceGetAnswer>;
  'resources/create': Call<typeof S.ResourceCreateParams, typeof S.CreatedIdAnswer>;
  'relations/types/create': Call<typeof S.RelationTypeCreateParams, typeof S.RelIdAnswer>;
  'relations/types/list': Call<typeof S.EmptyParams, typeof S.RelationTypeListAnswer>;
  'relations/types/get': Call<typeof S.RelIdParams, typeof S.RelationTypeAnswer>;
  'relations/types/update': Call<typeof S.RelationTypeUpdateParams, typeof S.RelationTypeAnswer>;
  'relations/types/delete': Call<typeof S.RelIdParams, typeof S.RelIdAnswer>;
  'tokens/create': Call<typeof S.TokenCreateParams, typeof S.TokenCreateAnswer>;
  'tokens/list': Call<typeof S.EmptyParams, typeof S.TokenListAnswer>;
  'tokens/revoke': Call<typeof S.IdParams, typeof S.IdAnswer>;
}

export type CallName = keyof CallMap;
export type Params<K extends CallName> = CallMap[K]['params'];
export type Answer<K extends CallName> = CallMap[K]['answer'];
