// What the SQLite store knows of its own file's health, and the one place its failures are logged.
// A failure is logged once per episode, not once per call (a full disk or a corrupt page would
// otherwise log hundreds of lines a second): a transient one (disk full, lock, I/O) until a batch
// commits again, corruption until the process restarts. Corruption also stops every write (more
// writes into a damaged b-tree spread the damage) and makes ping — so /health — fail.
import type BetterSqlite3 from 'better-sqlite3';
import { TiesError } from '../../core/errors.js';
import { type StoreLogger, unavailabilityOf } from './sqlite-errors.js';

export class SqliteHealth {
  /** Set once corruption was seen: the reason every later write and ping answers. */
  private corruption: TiesError | undefined;
  /** The transient failure of the current episode, logged when it began. */
  private transient: string | undefined;

  constructor(
    readonly logger: StoreLogger | undefined,
    /** Where the file is, for the operator reading the log. */
    private readonly path: string,
  ) {}

  /**
   * STORE_UNAVAILABLE for driver errors that mean the store cannot work now (logged here once per
   * episode, since callers only see the reason); any other error is answered as is.
   */
  storeError(err: unknown): unknown {
    if (err instanceof TiesError) return err;
    const found = unavailabilityOf(err);
    if (!found) return err;
    const code = (err as InstanceType<typeof BetterSqlite3.SqliteError>).code;
    const error = new TiesError('STORE_UNAVAILABLE', { reason: found.reason });
    if (found.severe) {
      if (!this.corruption) {
        this.corruption = error;
        this.logger?.error(
          { code, path: this.path, err },
          `sqlite store: ${found.reason} (${this.path}); writes stopped and /health answers 503 until ` +
            'a restart: run `ties check` and restore the file from a backup',
        );
      }
    } else if (this.transient !== found.reason) {
      this.transient = found.reason;
      this.logger?.warn({ code, path: this.path }, `sqlite store: ${found.reason} (${this.path})`);
    }
    return error;
  }

  /** A batch committed: a transient episode is over. */
  committed(): void {
    if (this.transient === undefined) return;
    this.logger?.warn({ path: this.path }, `sqlite store: writing again after "${this.transient}"`);
    this.transient = undefined;
  }

  /** Throws STORE_UNAVAILABLE once the file is known to be corrupt. */
  assertSound(): void {
    if (this.corruption) throw this.corruption;
  }
}
