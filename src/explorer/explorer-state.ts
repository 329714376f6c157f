// What the whole page shares: the signed-in session (client, rights, relation types, database names)
// and the one selection (the focal profile and its counter) that drives every panel. One object, so
// the modules that change it (sign-in, selection) and those that read it see the same values.
import type { CounterAnswer, ProfileRef, RelationType, TiesClient } from './api.js';
import { byId } from './dom-helpers.js';
import type { Rights } from './session.js';

export interface ExplorerState {
  /** The signed-in client; undefined while signed out. */
  api: TiesClient | undefined;
  rights: Rights;
  types: RelationType[];
  readonly dbNames: Map<number, string>;
  /** The selected profile: every panel shows it or nothing. */
  focal: ProfileRef | undefined;
  /** The focal profile's last counter answer (redrawn when names arrive). */
  lastCounter: CounterAnswer | undefined;
}

export const state: ExplorerState = {
  api: undefined,
  rights: { write: false, admin: false },
  types: [],
  dbNames: new Map(),
  focal: undefined,
  lastCounter: undefined,
};

export const callApi = (): TiesClient => {
  if (!state.api) throw new Error('token: sign in first');
  return state.api;
};

export const dbName = (id: number): string => `${state.dbNames.get(id) ?? 'database'} (${id})`;

export const selectedType = (): RelationType | undefined =>
  state.types.find((t) => String(t.rel_id) === byId<HTMLSelectElement>('find-type').value);
