// Running statements for every part of the PostgreSQL store: each statement is one transaction on
// a pooled connection (a relation or profile call is one statement), retried when PostgreSQL rolled
// it back for a deadlock or a serialization failure; failures meaning "unavailable" become
// STORE_UNAVAILABLE. Also the shapes the store's functions answer in.
import type pg from 'pg';
import {
  breaksConnection,
  isRetryable,
  isSchemaGone,
  type StoreLogger,
  storeClosed,
  toStoreError,
} from './postgres-errors.js';

/** What a relation write function answers (sql/functions/04-relation-writes.sql). */
export interface PairRow {
  status: 'ok' | 'no_type' | 'pair' | 'duplicate' | 'no_relation' | 'overflow';
  a_ids: string[] | null;
  b_ids: string[] | null;
  /** The two profiles' ids as text, where a call answers them so (attach); else a_ids[0], b_ids[0]. */
  a?: string | null;
  b?: string | null;
  created?: boolean | null;
  overflow_property?: string | null;
  overflow_result?: string | null;
}

/** What a lookup answers: status 'match' with the ids found when they are not exactly one profile. */
export interface MatchRow {
  status: string;
  ids: string[] | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PgStatements {
  /** Set by close(): later statements are refused. */
  closed = false;
  private counters = { statements: 0, retries: 0 };

  constructor(
    readonly pool: pg.Pool,
    /** Attempts of a statement rolled back for a deadlock or serialization failure. */
    private readonly maxAttempts: number,
    private readonly logger: StoreLogger | undefined,
    /** Called when a statement found the schema gone (the store re-runs its migrations). */
    private readonly onSchemaGone?: (() => void) | undefined,
  ) {}

  /** A pooled connection; a failure to get one means the store is unavailable. */
  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw toStoreError(err, this.logger);
    }
  }

  /**
   * Runs one statement (one transaction) on a pooled connection. A deadlock or serialization
   * failure rolled the whole call back, so it is retried a bounded number of times; failures
   * meaning the store is unavailable become STORE_UNAVAILABLE.
   */
  run<R extends object>(query: pg.QueryConfig): Promise<R[]> {
    return this.retried(async (client) => (await client.query<R>(query)).rows, false);
  }

  /**
   * Runs `work` as one transaction of several statements on one pooled connection (BEGIN …
   * COMMIT; ROLLBACK when it throws or answers `rollback: true`). Retried whole, as `run` retries
   * a statement, when PostgreSQL rolled it back for a deadlock or a serialization failure.
   */
  transaction<R>(
    work: (client: pg.PoolClient) => Promise<{ readonly value: R; readonly rollback?: boolean }>,
  ): Promise<R> {
    return this.retried(async (client) => {
      await client.query('BEGIN');
      const out = await work(client);
      await client.query(out.rollback ? 'ROLLBACK' : 'COMMIT');
      return out.value;
    }, true);
  }

  /**
   * One call on a pooled connection, retried whole after a deadlock or serialization failure; a
   * connection the failure broke is discarded, and an open transaction (`explicit`) rolled back.
   */
  private async retried<R>(once: (client: pg.PoolClient) => Promise<R>, explicit: boolean): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw storeClosed();
      const client = await this.connect();
      let broken: Error | undefined;
      let retry = false;
      this.counters.statements++;
      try {
        return await once(client);
      } catch (err) {
        if (breaksConnection(err)) broken = err as Error;
        else if (explicit) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        if (isSchemaGone(err)) this.onSchemaGone?.();
        if (isRetryable(err) && attempt < this.maxAttempts) retry = true;
        else throw toStoreError(err, this.logger);
      } finally {
        client.release(broken);
      }
      if (retry) {
        this.counters.retries++;
        await sleep(Math.random() * 5 * 2 ** attempt);
      }
    }
  }

  /** Statements sent (each one round trip) and calls retried after a deadlock or serialization failure. */
  stats(): { readonly statements: number; readonly retries: number } {
    return { ...this.counters };
  }

  /** The statement's one row (a relation or profile call's answer), in the same single pass as run. */
  one<R extends object>(query: pg.QueryConfig): Promise<R> {
    return this.retried(async (client) => {
      const row = (await client.query<R>(query)).rows[0];
      if (!row) throw new Error(`postgres store: ${query.name ?? 'query'} answered no row`);
      return row;
    }, false);
  }
}
