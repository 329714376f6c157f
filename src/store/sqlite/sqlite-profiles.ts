// Profiles on SQLite: save (import, update, add) with their match keys and subscriptions, read, and
// delete with every relation the profile takes part in.
import { TiesError } from '../../core/errors.js';
import { applyFieldFunctions } from '../../core/field-functions.js';
import { mergeFields, profileMatchKeys } from '../../core/fields.js';
import { PROFILE_ID_PATTERN } from '../../core/ids.js';
import { resolveOne } from '../../core/matching.js';
import type { Channel, Database, FieldValue, Subscription, SubscriptionStatus } from '../../core/model.js';
import type {
  DeleteProfileOutcome,
  GetProfileOutcome,
  ProfileRef,
  SaveProfileInput,
  SaveProfileOutcome,
} from '../../core/store.js';
import type { CatalogCache } from './sqlite-catalog-cache.js';
import type { ProfileFinder } from './sqlite-matching.js';
import type { SqliteRelations } from './sqlite-relations.js';
import type { Statements, Stmt } from './sqlite-statements.js';
import type { SqliteTransactions } from './sqlite-transactions.js';

interface ProfileRow {
  id: string;
  db_id: number;
  fields: string;
  created_at: string;
  updated_at: string;
}
interface SubscriptionRow {
  resource_id: number;
  channel: Channel;
  contact: string;
  status: SubscriptionStatus;
  priority: number;
}

export class SqliteProfiles {
  private readonly profileGet: Stmt<ProfileRow>;
  private readonly profileInsert: Stmt;
  private readonly profileUpdate: Stmt;
  private readonly profileDelete: Stmt;
  private readonly keysDelete: Stmt;
  private readonly keyInsert: Stmt;
  private readonly emailKeyInsert: Stmt;
  private readonly subUpsert: Stmt;
  private readonly subsOf: Stmt<SubscriptionRow>;
  private readonly subsDelete: Stmt;

  constructor(
    statements: Statements,
    private readonly tx: SqliteTransactions,
    private readonly catalog: CatalogCache,
    private readonly finder: ProfileFinder,
    private readonly relations: SqliteRelations,
  ) {
    const s = statements;
    this.profileGet = s.hot<ProfileRow>(
      'profileGet',
      'SELECT id, db_id, fields, created_at, updated_at FROM profiles WHERE id = ?',
    );
    this.profileInsert = s.cold(
      'INSERT INTO profiles (id, db_id, fields, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.profileUpdate = s.cold('UPDATE profiles SET fields = ?, updated_at = ? WHERE id = ?');
    this.profileDelete = s.cold('DELETE FROM profiles WHERE id = ?');
    this.keysDelete = s.hot('keysDelete', 'DELETE FROM profile_keys WHERE profile_id = ?');
    this.keyInsert = s.cold(
      'INSERT OR IGNORE INTO profile_keys (db_id, kind, key, profile_id) VALUES (?, ?, ?, ?)',
    );
    this.emailKeyInsert = s.cold(
      "INSERT INTO profile_keys (db_id, kind, key, profile_id) VALUES (?, 'e', ?, ?)",
    );
    // A write without a priority keeps the subscription's own (0 for a new one).
    this.subUpsert = s.cold(
      `INSERT INTO subscriptions (profile_id, resource_id, channel, contact, contact_key, status, db_id, priority)
       VALUES (@id, @resourceId, @channel, @contact, @contactKey, @status, @dbId, coalesce(@priority, 0))
       ON CONFLICT (profile_id, resource_id, channel, contact_key)
       DO UPDATE SET contact = excluded.contact, status = excluded.status,
                     priority = coalesce(@priority, subscriptions.priority)`,
    );
    this.subsOf = s.hot<SubscriptionRow>(
      'subsOf',
      `SELECT resource_id, channel, contact, status, priority FROM subscriptions WHERE profile_id = ?
       ORDER BY resource_id, channel, contact_key`,
    );
    this.subsDelete = s.hot('subsDelete', 'DELETE FROM subscriptions WHERE profile_id = ?');
  }

  saveProfile(input: SaveProfileInput): SaveProfileOutcome {
    return this.tx.write(() => {
      const database = this.catalog.databases.get(input.database.id);
      if (!database) throw new TiesError('DATABASE_NOT_FOUND', { param: 'db_id', id: input.database.id });
      if (input.mode !== 'add') {
        if (!input.query) throw new Error(`saveProfile: ${input.mode} needs a query`);
        const found = resolveOne(this.finder.findIds(database.id, input.query), 'profile');
        if (found.kind === 'ambiguous') return found;
        if (found.kind === 'ok') {
          const row = this.profileGet.get(found.id)!;
          // Writes are serial on SQLite: the functions apply to the fields as they are now.
          const applied = applyFieldFunctions(
            mergeFields(JSON.parse(row.fields) as Record<string, FieldValue>, input.set),
            input.functions ?? {},
          );
          if (!applied.ok) return { kind: 'function_failed', field: applied.field, reason: applied.reason };
          const fields = applied.fields;
          if (this.emailTaken(database, found.id, fields)) return { kind: 'email_taken' };
          this.profileUpdate.run(JSON.stringify(fields), input.now, found.id);
          this.writeKeys(database, found.id, fields);
          this.writeSubscriptions(database.id, found.id, input);
          return { kind: 'ok', id: found.id, created: false };
        }
        if (input.mode === 'update') return found;
      }
      // Relation tables hold ids as 12 bytes (sqlite-layout.ts): anything else is a bug upstream.
      if (!PROFILE_ID_PATTERN.test(input.newId)) throw new Error(`saveProfile: bad new id ${input.newId}`);
      const applied = applyFieldFunctions(mergeFields(input.setOnCreate, input.set), input.functions ?? {});
      if (!applied.ok) return { kind: 'function_failed', field: applied.field, reason: applied.reason };
      const fields = applied.fields;
      if (this.emailTaken(database, input.newId, fields)) return { kind: 'email_taken' };
      this.profileInsert.run(input.newId, database.id, JSON.stringify(fields), input.now, input.now);
      this.writeKeys(database, input.newId, fields);
      this.writeSubscriptions(database.id, input.newId, input);
      return { kind: 'ok', id: input.newId, created: true };
    });
  }

  getProfile(ref: ProfileRef): GetProfileOutcome {
    return this.tx.read(() => {
      const found = resolveOne(this.finder.findIds(ref.dbId, ref.query), 'profile');
      if (found.kind !== 'ok') return found;
      const row = this.profileGet.get(found.id)!;
      const subscriptions: Subscription[] = this.subsOf.all(found.id).map((s) => ({
        resourceId: s.resource_id,
        channel: s.channel,
        contact: s.contact,
        status: s.status,
        priority: s.priority,
      }));
      return {
        kind: 'ok',
        profile: {
          id: row.id,
          dbId: row.db_id,
          fields: JSON.parse(row.fields) as Record<string, FieldValue>,
          subscriptions,
          createdAt: row.created_at,
          updatedAt: row.updated_at,
        },
      };
    });
  }

  /** Deletes the profile and every relation it takes part in, on either side, fixing the others' aggregates. */
  deleteProfile(ref: ProfileRef): DeleteProfileOutcome {
    return this.tx.write(() => {
      const found = resolveOne(this.finder.findIds(ref.dbId, ref.query), 'profile');
      if (found.kind !== 'ok') return found;
      const id = found.id;
      this.relations.deleteAllOf(ref.dbId, id);
      this.keysDelete.run(id);
      this.subsDelete.run(id);
      this.profileDelete.run(id);
      return { kind: 'ok', id };
    });
  }

  /**
   * Emails are unique within a database (docs/decisions.md): whether these fields would give the
   * profile another profile's email. Writes are serial on SQLite, so the check cannot race; the
   * unique index profile_keys_email (migration 3) stands behind it.
   */
  private emailTaken(database: Database, id: string, fields: Readonly<Record<string, FieldValue>>): boolean {
    const email = profileMatchKeys(fields, database).email;
    if (email === null) return false;
    return this.finder
      .findIds(database.id, { by: 'email', email, inProfile: true, inSubscriptions: false })
      .some((other) => other !== id);
  }

  private writeKeys(database: Database, id: string, fields: Readonly<Record<string, FieldValue>>): void {
    const keys = profileMatchKeys(fields, database);
    this.keysDelete.run(id);
    // Not "OR IGNORE": a second profile with this email must fail, never be skipped silently.
    if (keys.email !== null) this.emailKeyInsert.run(database.id, keys.email, id);
    for (const phone of keys.phones) this.keyInsert.run(database.id, 'p', phone, id);
    for (const k of keys.fields) this.keyInsert.run(database.id, `f:${k.field}`, k.key, id);
  }

  private writeSubscriptions(dbId: number, id: string, input: SaveProfileInput): void {
    for (const s of input.subscriptions) {
      this.subUpsert.run({
        id,
        resourceId: s.resourceId,
        channel: s.channel,
        contact: s.contact,
        contactKey: s.contactKey,
        status: s.status,
        dbId,
        priority: s.priority ?? null,
      });
    }
  }
}
