// attach_batch and `ties import` resolve the catalogue once per batch, not once per item: a
// 1,000-item batch names one relation type (rarely a few) and a handful of resources, and looking
// each up again for every item — the type, both databases, the resources, a clock read — was
// ~15% of a bulk load's CPU. Each item still gets exactly the answer or error a single attach
// gives, in the same order of checks: the type, its databases, profile_a's and profile_b's
// identification, their resources, then the weights.
import type { CatalogService } from './catalog-service.js';
import { TiesError } from './errors.js';
import { queryResourceId, sideDefaults, toProfileQuery } from './matching.js';
import type { Database, RelationType } from './model.js';
import type { ProfileQuery } from './store.js';

/** A relation type with both of its databases, or the catalogue error a single call would throw. */
type TypeEntry =
  | {
      readonly type: RelationType;
      readonly dbA: Database;
      readonly dbB: Database;
      readonly error?: undefined;
    }
  | { readonly error: TiesError };

/** One item's lookups before its resources are checked, or the error it stopped at. */
export type ItemTarget =
  | {
      readonly type: RelationType;
      readonly a: ProfileQuery;
      readonly b: ProfileQuery;
      readonly error?: undefined;
    }
  | { readonly error: TiesError };

interface ItemIdent {
  readonly rel_id: number;
  readonly profile_a: Parameters<typeof toProfileQuery>[0];
  readonly profile_b: Parameters<typeof toProfileQuery>[0];
  readonly matching?: Parameters<typeof sideDefaults>[0]['matching'];
  readonly resource_id?: number | undefined;
  readonly field_name?: string | undefined;
}

async function caught<T>(run: () => Promise<T>): Promise<T | { readonly error: TiesError }> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof TiesError) return { error: err };
    throw err;
  }
}

/**
 * Builds every item's profile lookups with one catalogue read per distinct relation type and
 * resource. Answers, per item, the target or the TiesError a single attach would have thrown.
 */
export async function resolveBatchTargets(
  catalog: CatalogService,
  items: readonly ItemIdent[],
): Promise<ItemTarget[]> {
  const types = new Map<number, TypeEntry>();
  for (const item of items) {
    if (types.has(item.rel_id)) continue;
    types.set(
      item.rel_id,
      await caught(async () => {
        const type = await catalog.requireRelationType(item.rel_id);
        const [dbA, dbB] = await Promise.all([
          catalog.requireDatabase(type.dbA, 'rel_id'),
          catalog.requireDatabase(type.dbB, 'rel_id'),
        ]);
        return { type, dbA, dbB };
      }),
    );
  }
  // The lookups; resource ids are collected to be read once each.
  const built: ItemTarget[] = [];
  const resourceIds = new Set<number>();
  for (const item of items) {
    const entry = types.get(item.rel_id)!;
    if (entry.error) {
      built.push(entry);
      continue;
    }
    try {
      const defaults = sideDefaults(item);
      const a = toProfileQuery(item.profile_a, defaults, entry.dbA, 'profile_a');
      const b = toProfileQuery(item.profile_b, defaults, entry.dbB, 'profile_b');
      const ra = queryResourceId(a);
      const rb = queryResourceId(b);
      if (ra !== undefined) resourceIds.add(ra);
      if (rb !== undefined) resourceIds.add(rb);
      built.push({ type: entry.type, a, b });
    } catch (err) {
      if (!(err instanceof TiesError)) throw err;
      built.push({ error: err });
    }
  }
  if (resourceIds.size === 0) return built;
  const found = new Set<number>();
  for (const id of resourceIds) {
    // The param named in the error depends on the side: checked per item below.
    if (await catalog.hasResource(id)) found.add(id);
  }
  return built.map((target) => {
    if (target.error) return target;
    for (const [query, param] of [
      [target.a, 'profile_a.resource_id'],
      [target.b, 'profile_b.resource_id'],
    ] as const) {
      const id = queryResourceId(query);
      if (id !== undefined && !found.has(id)) {
        return { error: new TiesError('RESOURCE_NOT_FOUND', { param, id }) };
      }
    }
    return target;
  });
}
