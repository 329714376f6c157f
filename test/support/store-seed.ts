// Tests' common start on a store: a database, one relation type on it (A and B in that database)
// and profiles with ids of 24 characters, `<prefix><i in hex>` padded with zeros.
import assert from 'node:assert/strict';
import type { PropertyDef } from '../../src/core/model.js';
import type { Store } from '../../src/core/store.js';

export async function seedProfiles(
  store: Store,
  properties: readonly PropertyDef[],
  prefix: string,
  count: number,
  now: string,
) {
  const database = await store.createDatabase({
    name: `db ${prefix}`,
    description: '',
    customFields: [],
    now,
  });
  const type = await store.createRelationType({
    name: `type ${prefix}`,
    dbA: database.id,
    dbB: database.id,
    properties,
    now,
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}${i.toString(16)}`.padStart(24, '0');
    const out = await store.saveProfile({
      database,
      mode: 'add',
      set: {},
      setOnCreate: {},
      subscriptions: [],
      newId: id,
      now,
    });
    assert.equal(out.kind, 'ok');
    ids.push(id);
  }
  return { database, type, ids };
}
