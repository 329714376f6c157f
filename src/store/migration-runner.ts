// The one schema migration runner of both engines: versioned migrations in order, then repeatable
// ones (function files) whose checksum changed; each all-or-nothing with its bookkeeping. What
// differs per engine — locking, transactions, where the bookkeeping lives, how a script runs — is
// a small adapter; the runner is written once and driven synchronously (better-sqlite3) or
// asynchronously (pg) by the same plan.
import { createHash } from 'node:crypto';

export type Awaitable<T> = T | Promise<T>;

/** A versioned migration: applied once, in version order, never edited after it has shipped. */
export interface Migration {
  readonly version: number;
  readonly name: string;
}

/**
 * A repeatable migration (Flyway's term): a script that (re)defines objects holding no data, such
 * as functions; applied after the versioned ones, again whenever its text changes.
 */
export interface Repeatable {
  readonly name: string;
  readonly sql: string;
}

/** What the bookkeeping says: the schema version (0 when none) and each repeatable's checksum. */
export interface MigrationState {
  readonly version: number;
  readonly checksums: ReadonlyMap<string, string>;
}

/** One report of a migration at work (a long data migration reports as it goes). */
export interface MigrationProgress {
  /** The versioned migration, or null for the repeatable scripts. */
  readonly version: number | null;
  readonly name: string;
  /** Units of work done and in all (rows, say); total 0 when unknown. */
  readonly done: number;
  readonly total: number;
  /** Set on the last report of a migration, once it has committed. */
  readonly finished: boolean;
  /** What it is doing, in words, when the engine can tell (PostgreSQL: the statement and its progress). */
  readonly step?: string | undefined;
}

export type ProgressListener = (progress: MigrationProgress) => void;
/** Handed to a migration's data step: how much of how much is done (and, optionally, what). */
export type ReportProgress = (done: number, total: number, step?: string) => void;

/**
 * What one engine provides. Every method may answer directly (SQLite) or with a promise
 * (PostgreSQL); `runSync` refuses the latter.
 */
export interface MigrationAdapter<M extends Migration> {
  /** The bookkeeping as it stands; writes nothing (version 0, no checksums, when there is none). */
  state(): Awaitable<MigrationState>;
  /** Excludes other runners for the whole run where transactions alone do not (PostgreSQL). */
  lock(): Awaitable<void>;
  unlock(): Awaitable<void>;
  /** Starts a write transaction (SQLite: IMMEDIATE, so the write lock is taken before reading). */
  begin(): Awaitable<void>;
  commit(): Awaitable<void>;
  /** Rolls back the open transaction, if any; never throws. */
  rollback(): Awaitable<void>;
  /** Creates the bookkeeping table of versions or of repeatables when missing, inside the open transaction. */
  prepareBookkeeping(of: 'versions' | 'repeatables'): Awaitable<void>;
  apply(migration: M, progress: ReportProgress): Awaitable<void>;
  record(migration: M, appliedAt: string): Awaitable<void>;
  applyRepeatable(repeatable: Repeatable): Awaitable<void>;
  recordRepeatable(repeatable: Repeatable, checksum: string, appliedAt: string): Awaitable<void>;
}

export interface MigrationSet<M extends Migration> {
  readonly migrations: readonly M[];
  /** Applied in this order. */
  readonly repeatables?: readonly Repeatable[] | undefined;
  readonly onProgress?: ProgressListener | undefined;
  readonly now?: (() => string) | undefined;
}

export interface MigrationResult {
  /** Versions applied by this run, in order. */
  readonly applied: readonly number[];
  /** Repeatables (re)applied by this run, in order. */
  readonly repeated: readonly string[];
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the database's schema version is ${found}, newer than the ${known} this version of Ties knows; ` +
        'upgrade Ties (or point it at a copy made before the upgrade)',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** A repeatable's checksum: SHA-256 of its text with line endings made LF (a checkout may use CRLF). */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n?/g, '\n')).digest('hex');
}

export function newestVersion(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

/** The repeatables whose recorded checksum differs from their text's, in their order. */
function changed(
  repeatables: readonly Repeatable[],
  state: MigrationState,
): { repeatable: Repeatable; checksum: string }[] {
  return repeatables
    .map((repeatable) => ({ repeatable, checksum: checksumOf(repeatable.sql) }))
    .filter(({ repeatable, checksum }) => state.checksums.get(repeatable.name) !== checksum);
}

/** Whether a run would write anything; throws SchemaTooNewError for a newer schema. */
export function pendingWork(set: MigrationSet<Migration>, state: MigrationState): boolean {
  const known = newestVersion(set.migrations);
  if (state.version > known) throw new SchemaTooNewError(state.version, known);
  return state.version < known || changed(set.repeatables ?? [], state).length > 0;
}

// ---------------------------------------------------------------------------------------------
// The plan, written once: a generator yielding adapter calls, driven by runSync or runAsync.

type Call<A> = (adapter: A) => unknown;
type Plan<A, T> = Generator<Call<A>, T, unknown>;

function* call<A, T>(f: (adapter: A) => Awaitable<T>): Plan<A, Awaited<T>> {
  return (yield f) as Awaited<T>;
}

function* transaction<M extends Migration, T>(
  body: () => Plan<MigrationAdapter<M>, T>,
): Plan<MigrationAdapter<M>, T> {
  yield* call((a: MigrationAdapter<M>) => a.begin());
  try {
    const result = yield* body();
    yield* call((a: MigrationAdapter<M>) => a.commit());
    return result;
  } catch (err) {
    yield* call((a: MigrationAdapter<M>) => a.rollback());
    throw err;
  }
}

function* plan<M extends Migration>(set: MigrationSet<M>): Plan<MigrationAdapter<M>, MigrationResult> {
  type A = MigrationAdapter<M>;
  const now = set.now ?? (() => new Date().toISOString());
  const repeatables = set.repeatables ?? [];
  const known = newestVersion(set.migrations);
  const report = (progress: MigrationProgress) => set.onProgress?.(progress);

  // Read before any lock or write: a newer schema is refused, an up-to-date one left untouched.
  if (!pendingWork(set, yield* call((a: A) => a.state()))) return { applied: [], repeated: [] };

  yield* call((a: A) => a.lock());
  try {
    const applied: number[] = [];
    for (const migration of [...set.migrations].sort((x, y) => x.version - y.version)) {
      const done = yield* transaction<M, boolean>(function* () {
        // Read again inside the transaction: another runner may have applied it meanwhile.
        const { version } = yield* call((a: A) => a.state());
        if (version > known) throw new SchemaTooNewError(version, known);
        if (migration.version <= version) return false;
        yield* call((a: A) => a.prepareBookkeeping('versions'));
        const base = { version: migration.version, name: migration.name, finished: false };
        report({ ...base, done: 0, total: 0 });
        yield* call((a: A) =>
          a.apply(migration, (done, total, step) =>
            report({ ...base, done, total: Math.max(total, done), ...(step ? { step } : {}) }),
          ),
        );
        yield* call((a: A) => a.record(migration, now()));
        return true;
      });
      if (done) {
        applied.push(migration.version);
        report({ version: migration.version, name: migration.name, done: 1, total: 1, finished: true });
      }
    }

    const repeated = yield* transaction<M, string[]>(function* () {
      const state = yield* call((a: A) => a.state());
      if (state.version > known) throw new SchemaTooNewError(state.version, known);
      const todo = changed(repeatables, state);
      if (todo.length > 0) yield* call((a: A) => a.prepareBookkeeping('repeatables'));
      for (const [i, { repeatable, checksum }] of todo.entries()) {
        report({ version: null, name: repeatable.name, done: i, total: todo.length, finished: false });
        yield* call((a: A) => a.applyRepeatable(repeatable));
        yield* call((a: A) => a.recordRepeatable(repeatable, checksum, now()));
      }
      return todo.map((t) => t.repeatable.name);
    });
    if (repeated.length > 0) {
      const n = repeated.length;
      report({ version: null, name: 'repeatable scripts', done: n, total: n, finished: true });
    }
    return { applied, repeated };
  } finally {
    yield* call((a: A) => a.unlock());
  }
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** Runs every pending migration with an adapter that answers directly (SQLite). */
export function runSync<M extends Migration>(
  adapter: MigrationAdapter<M>,
  set: MigrationSet<M>,
): MigrationResult {
  const steps = plan(set);
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = next.value(adapter);
      if (isPromise(value))
        throw new Error('migration runner: runSync needs an adapter that answers directly');
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}

/** Runs every pending migration with an adapter that may answer with promises (PostgreSQL). */
export async function runAsync<M extends Migration>(
  adapter: MigrationAdapter<M>,
  set: MigrationSet<M>,
): Promise<MigrationResult> {
  const steps = plan(set);
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await next.value(adapter);
    } catch (err) {
      next = steps.throw(err);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}
