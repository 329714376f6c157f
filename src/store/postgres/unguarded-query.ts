// Statements that may run far longer than a call: a migration's index over a large store, a copy's
// rebuild of millions of aggregate rows, a cursor's first FETCH over a big sort. Their session lifts
// statement_timeout; this lifts pg's client-side read timeout as well (the pool's query_timeout,
// statement timeout + 5 s, a guard for a server that stops answering), which pg applies whatever
// the server's setting and which 0 does not override.
import type pg from 'pg';

/** ~24 days: pg's query_timeout for a statement that must not be cut off by the client. */
export const NO_CLIENT_TIMEOUT = 2 ** 31 - 1;

/** Runs `text` on `client` without the client-side read timeout. */
export function unguardedQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: pg.ClientBase,
  text: string,
  values?: readonly unknown[],
): Promise<pg.QueryResult<R>> {
  // pg reads query_timeout from the query's config, though its typings do not declare it there.
  return client.query<R>({
    text,
    values: values as unknown[] | undefined,
    query_timeout: NO_CLIENT_TIMEOUT,
  } as pg.QueryConfig);
}
