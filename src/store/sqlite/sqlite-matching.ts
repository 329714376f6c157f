// Profile matching on SQLite: every mode of ProfileQuery as an index lookup answering at most two
// ids (core decides what none or two mean), and the A/B pair lookup of the relation writes.
import { resolvePair } from '../../core/matching.js';
import type { Channel, RelationType } from '../../core/model.js';
import type { PairFailure, PairOk, ProfileQuery } from '../../core/store.js';
import type { Statements, Stmt } from './sqlite-statements.js';

/** The contact part of an email or phone query. */
interface ContactQuery {
  readonly inProfile: boolean;
  readonly inSubscriptions: boolean;
  readonly resourceId?: number | undefined;
}

export class ProfileFinder {
  private readonly profileIdIn: Stmt<string>;
  private readonly keyLookup: Stmt<string>;
  private readonly subLookup: Stmt<string>;
  private readonly subLookupIn: Stmt<string>;
  private readonly keyOrSubLookup: Stmt<string>;
  private readonly keyOrSubLookupIn: Stmt<string>;
  private readonly allKeysLookup: Stmt<string>;

  constructor(statements: Statements) {
    const s = statements;
    this.profileIdIn = s
      .hot<string>('profileIdIn', 'SELECT id FROM profiles WHERE id = ? AND db_id = ?')
      .pluck();
    this.keyLookup = s
      .hot<string>(
        'keyLookup',
        'SELECT profile_id FROM profile_keys WHERE db_id = ? AND kind = ? AND key = ? LIMIT 2',
      )
      .pluck();
    const sub = 'SELECT profile_id FROM subscriptions WHERE db_id = ? AND channel = ? AND contact_key = ?';
    this.subLookup = s
      .hot<string>(
        'subLookup',
        'SELECT DISTINCT profile_id FROM subscriptions WHERE db_id = ? AND channel = ? AND contact_key = ? LIMIT 2',
      )
      .pluck();
    this.subLookupIn = s
      .hot<string>(
        'subLookupIn',
        `SELECT DISTINCT profile_id FROM subscriptions
          WHERE db_id = ? AND channel = ? AND contact_key = ? AND resource_id = ? LIMIT 2`,
      )
      .pluck();
    // DISTINCT over UNION ALL streams and stops at the second id; UNION would sort every match first.
    const key = 'SELECT profile_id FROM profile_keys WHERE db_id = ? AND kind = ? AND key = ?';
    this.keyOrSubLookup = s
      .hot<string>('keyOrSubLookup', `SELECT DISTINCT profile_id FROM (${key} UNION ALL ${sub}) LIMIT 2`)
      .pluck();
    this.keyOrSubLookupIn = s
      .hot<string>(
        'keyOrSubLookupIn',
        `SELECT DISTINCT profile_id FROM (${key} UNION ALL ${sub} AND resource_id = ?) LIMIT 2`,
      )
      .pluck();
    // Tags: the profiles holding every listed key; json_each keeps one statement for any count.
    this.allKeysLookup = s
      .hot<string>(
        'allKeysLookup',
        `SELECT profile_id FROM profile_keys
          WHERE db_id = ? AND kind = ? AND key IN (SELECT value FROM json_each(?))
          GROUP BY profile_id HAVING count(DISTINCT key) = ? LIMIT 2`,
      )
      .pluck();
  }

  /** The ids (at most two) a lookup finds in one database. */
  findIds(dbId: number, query: ProfileQuery): string[] {
    switch (query.by) {
      case 'id':
        return this.profileIdIn.all(query.id, dbId);
      case 'email':
        return this.findContact(dbId, 'e', 'email', query.email, query);
      case 'phone':
        return this.findContact(dbId, 'p', 'sms', query.phone, query);
      case 'push':
        return this.findContact(dbId, null, 'push', query.key, {
          ...query,
          inProfile: false,
          inSubscriptions: true,
        });
      case 'contact': {
        // Either contact, each searched as its own mode would; a profile found by both counts once.
        const ids = new Set<string>();
        if (query.email !== undefined)
          for (const id of this.findContact(dbId, 'e', 'email', query.email, query)) ids.add(id);
        if (query.phone !== undefined)
          for (const id of this.findContact(dbId, 'p', 'sms', query.phone, query)) ids.add(id);
        return [...ids].slice(0, 2);
      }
      case 'none':
        return [];
      case 'field': {
        const kind = `f:${query.field}`;
        if (query.keys.length === 0) return [];
        if (query.keys.length === 1) return this.keyLookup.all(dbId, kind, query.keys[0]);
        const keys = [...new Set(query.keys)];
        return this.allKeysLookup.all(dbId, kind, JSON.stringify(keys), keys.length);
      }
    }
  }

  /** Profiles A (in the type's database A) and B (in its database B), or why not exactly one each. */
  pair(type: RelationType, a: ProfileQuery, b: ProfileQuery): PairOk | PairFailure {
    const aIds = this.findIds(type.dbA, a);
    // B is only looked up once A resolved: resolvePair reports A's failure first anyway.
    if (aIds.length !== 1) return resolvePair(aIds, []);
    return resolvePair(aIds, this.findIds(type.dbB, b));
  }

  private findContact(
    dbId: number,
    kind: 'e' | 'p' | null,
    channel: Channel,
    key: string,
    query: ContactQuery,
  ): string[] {
    const resource = query.resourceId;
    if (kind !== null && query.inProfile && query.inSubscriptions) {
      return resource === undefined
        ? this.keyOrSubLookup.all(dbId, kind, key, dbId, channel, key)
        : this.keyOrSubLookupIn.all(dbId, kind, key, dbId, channel, key, resource);
    }
    if (kind !== null && query.inProfile) return this.keyLookup.all(dbId, kind, key);
    if (query.inSubscriptions) {
      return resource === undefined
        ? this.subLookup.all(dbId, channel, key)
        : this.subLookupIn.all(dbId, channel, key, resource);
    }
    return [];
  }
}
