// relations/get's `data`, written as JSON text straight from the engine's rows (see json-text.ts):
// per row one JSON.parse of the stored weights and string concatenation, nothing else. The parts
// that are the same for every row (the asking profile's id and hash, the other database, each
// property's key) are built once per call or once per relation type.
import { profileXxh } from './ids.js';
import { JsonText } from './json-text.js';
import type { RelationType, WeightValue } from './model.js';
import type { RelationTuple } from './store.js';

/** One row of relations/get's answer, as the JSON text reads back. */
export interface GetAnswerRow {
  readonly profile_id_a: string;
  readonly xxh_a: string;
  readonly profile_id_b: string;
  readonly xxh_b: string;
  readonly db_a?: number;
  readonly db_b?: number;
  readonly props: Record<string, { readonly value: WeightValue }>;
}

/** Per relation type: each property's name and the text that opens its entry in `props`. */
interface PropKeys {
  readonly names: readonly string[];
  readonly opens: readonly string[];
}
const propKeysByType = new WeakMap<RelationType, PropKeys>();

function propKeys(type: RelationType): PropKeys {
  let keys = propKeysByType.get(type);
  if (!keys) {
    const names = type.properties.map((p) => p.name);
    keys = { names, opens: names.map((name) => `${JSON.stringify(name)}:{"value":`) };
    propKeysByType.set(type, keys);
  }
  return keys;
}

/**
 * The rows as relations/get answers them: ids and hashes of both sides, the other side's database,
 * and the weights as `props`, in the type's property order (whatever order the engine stored them
 * in). Ids come from the engine and are 24 lowercase hex digits, so they need no escaping.
 */
export function relationRowsJson(
  rows: readonly RelationTuple[],
  type: RelationType,
  side: 'a' | 'b',
  profileId: string,
): JsonText<GetAnswerRow[]> {
  const { names, opens } = propKeys(type);
  const own = `${profileId}","xxh_${side}":"${profileXxh(profileId)}"`;
  // Side a: the profile is A and each row names a B; side b the other way round.
  const head = side === 'a' ? `{"profile_id_a":"${own},"profile_id_b":"` : '{"profile_id_a":"';
  const middle = side === 'a' ? '","xxh_b":"' : '","xxh_a":"';
  const tail =
    side === 'a' ? `","db_b":${type.dbB},"props":{` : `","profile_id_b":"${own},"db_a":${type.dbA},"props":{`;
  let text = '[';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const other = row[0];
    const weights = JSON.parse(row[1]) as Record<string, WeightValue>;
    text += `${i === 0 ? '' : ','}${head}${other}${middle}${profileXxh(other)}${tail}`;
    let first = true;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      if (!Object.hasOwn(weights, name)) continue;
      const value = weights[name]!;
      text += `${first ? '' : ','}${opens[k]!}${typeof value === 'string' ? JSON.stringify(value) : String(value)}}`;
      first = false;
    }
    text += '}}';
  }
  return new JsonText(`${text}]`);
}
