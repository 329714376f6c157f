// The typed call map of the client: each call's name → its parameters and success answer, derived
// (type-only) from the call table the server runs (src/api/calls.ts) and its TypeBox schemas, so
// the client cannot drift and a new call needs no edit here.
import type { Static, TSchema } from 'typebox';
import type { CALL_TABLE } from '../api/calls.js';
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

type TableEntry = (typeof CALL_TABLE)[number];

/** Every call of the API, from src/api/calls.ts. */
export type CallMap = {
  readonly [D in TableEntry as D['name']]: D['name'] extends 'profiles/get'
    ? {
        readonly params: Call<D['params'], D['answer']>['params'];
        readonly answer: SuccessEnvelope & { readonly data: ProfileData };
      }
    : Call<D['params'], D['answer']>;
};

export type CallName = keyof CallMap;
export type Params<K extends CallName> = CallMap[K]['params'];
export type Answer<K extends CallName> = CallMap[K]['answer'];
