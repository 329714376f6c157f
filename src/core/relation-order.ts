// relations/get's ordering, offset and filters (Ties extension, issue #17): the optional `sort`,
// `order`, `offset`, `id_prefix`, `min` and `max`, checked against the relation type and turned
// into the store's RelationOrder and RelationFilter. A call naming none of them is the plain
// Altcraft listing: rows by the other id, keyset paging with `from`.
import { badParameter } from './errors.js';
import type { RelationType } from './model.js';
import { isNumeric } from './property-types.js';
import type { RelationFilter, RelationOrder } from './store.js';

export interface ListOrderParams {
  readonly sort?: string | undefined;
  readonly order?: 'asc' | 'desc' | undefined;
  readonly offset?: number | undefined;
  readonly id_prefix?: string | undefined;
  readonly min?: number | undefined;
  readonly max?: number | undefined;
  readonly from?: string | undefined;
}

export interface ListOrder {
  readonly order?: RelationOrder;
  readonly offset?: number;
  readonly filter?: RelationFilter;
  /** Whether the answer pages by offset (`next_offset`) rather than by id (`next_from`). */
  readonly byOffset: boolean;
}

const ID_PREFIX = /^[0-9a-f]{1,24}$/;

/** The listing's order, offset and filter as the store takes them; 400 naming the parameter otherwise. */
export function parseListOrder(p: ListOrderParams, type: RelationType): ListOrder {
  let order: RelationOrder | undefined;
  if (p.sort !== undefined) {
    const property = type.properties.find((q) => q.name === p.sort);
    if (!property) {
      const names = type.properties.map((q) => q.name).join(', ') || 'none';
      throw badParameter('sort', `a property of relation type ${type.relId} (${names})`);
    }
    if (p.from !== undefined) {
      throw badParameter('from', 'not with sort: page a sorted list with offset (next_offset)');
    }
    order = { property, descending: p.order === 'desc' };
  } else if (p.order !== undefined) {
    throw badParameter('order', 'only with sort (without it rows are in profile id order)');
  }
  for (const bound of ['min', 'max'] as const) {
    if (p[bound] !== undefined && !(order && isNumeric(order.property.type))) {
      throw badParameter(bound, 'only with sort by an int or float property');
    }
  }
  if (p.min !== undefined && p.max !== undefined && p.min > p.max) {
    throw badParameter('max', `at least min (${p.min})`);
  }
  const prefix = p.id_prefix?.toLowerCase();
  if (prefix !== undefined && !ID_PREFIX.test(prefix)) {
    throw badParameter('id_prefix', '1 to 24 hexadecimal characters (the start of a profile id)');
  }
  const filtered = prefix !== undefined || p.min !== undefined || p.max !== undefined;
  const filter: RelationFilter | undefined = filtered
    ? {
        idLow: (prefix ?? '').padEnd(24, '0'),
        idHigh: (prefix ?? '').padEnd(24, 'f'),
        min: p.min,
        max: p.max,
      }
    : undefined;
  return {
    ...(order ? { order } : {}),
    ...(p.offset !== undefined ? { offset: p.offset } : {}),
    ...(filter ? { filter } : {}),
    byOffset: order !== undefined || p.offset !== undefined,
  };
}
