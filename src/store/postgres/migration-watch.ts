// Progress of a PostgreSQL migration as it runs. A migration is a few statements, each of which
// may take minutes on a large store (an index built over every aggregate row, a scan of every
// matching key), so the runner's (done, total) counts statements, and while a statement runs a
// second connection looks at it: PostgreSQL's own progress view of an index build
// (pg_stat_progress_create_index: blocks or tuples done of all), or else how long it has run. The
// second connection opens only once a statement has run for a poll interval: quick migrations
// never open it. Reports go to the store's ProgressListener (`ties serve` prints them).
import type pg from 'pg';
import { groupDigits } from '../../group-digits.js';
import type { ReportProgress } from '../migration-runner.js';

/** A connection for looking at the migrating one; closed when the migration ends. */
export interface WatchClient {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  end(): Promise<void>;
}

export interface WatchOptions {
  /** Opens the second connection (not from the store's pool: its connections may all be busy). */
  readonly open: () => Promise<WatchClient>;
  /** How often a running statement is looked at (default 1 s). */
  readonly pollMs?: number | undefined;
}

/** A row of pg_stat_progress_create_index, as the watch reads it. */
export interface IndexProgressRow {
  readonly phase: string;
  /** The table the index is built on (the index itself has no name other sessions can see yet). */
  readonly table: string | null;
  readonly blocks_total: string | number;
  readonly blocks_done: string | number;
  readonly tuples_total: string | number;
  readonly tuples_done: string | number;
}

const n = groupDigits;

/** `ALTER TABLE relation_stats ADD CONSTRAINT …` — the statement's start, without its comments. */
export function statementSummary(statement: string, max = 72): string {
  const text = statement
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** How far an index build is, in PostgreSQL's words: its phase and blocks (or tuples) done. */
export function describeIndexProgress(row: IndexProgressRow): string {
  const of = (done: number, total: number, unit: string) =>
    total > 0 ? `, ${n(done)} of ${n(total)} ${unit} (${Math.floor((100 * done) / total)}%)` : '';
  const blocks = of(Number(row.blocks_done), Number(row.blocks_total), 'blocks');
  const tuples = of(Number(row.tuples_done), Number(row.tuples_total), 'rows');
  return `${row.table ? `on ${row.table}: ` : ''}${row.phase}${blocks || tuples}`;
}

/** Runs one migration's statements on `client`, reporting each and, while it runs, how far it is. */
export async function runWatched(
  client: pg.ClientBase,
  statements: readonly string[],
  progress: ReportProgress,
  watch: WatchOptions | undefined,
  query: (statement: string) => Promise<unknown>,
): Promise<void> {
  const total = statements.length;
  const pollMs = watch?.pollMs ?? 1_000;
  let pid: number | undefined;
  let watcher: WatchClient | undefined;
  let broken = false;
  try {
    for (const [i, statement] of statements.entries()) {
      const step = `statement ${i + 1} of ${total} (${statementSummary(statement)})`;
      progress(i, total, step);
      if (!watch || broken) {
        await query(statement);
        continue;
      }
      pid ??= (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      let looking: Promise<void> | undefined;
      let stopped = false;
      const schedule = () => {
        timer = setTimeout(() => {
          looking = look();
        }, pollMs);
      };
      const look = async () => {
        try {
          watcher ??= await watch.open();
          const { rows } = await watcher.query<IndexProgressRow>(
            `SELECT phase, nullif(relid, 0)::regclass::text AS table, blocks_total, blocks_done,
                    tuples_total, tuples_done
               FROM pg_stat_progress_create_index WHERE pid = $1`,
            [pid],
          );
          if (stopped) return;
          const seconds = Math.round((Date.now() - started) / 1000);
          progress(
            i,
            total,
            `${step}: ${rows[0] ? describeIndexProgress(rows[0]) : `running for ${seconds} s`}`,
          );
          schedule();
        } catch {
          // Progress is advisory: a watch that cannot connect or read stops; the migration goes on.
          broken = true;
        }
      };
      schedule();
      try {
        await query(statement);
      } finally {
        stopped = true;
        clearTimeout(timer);
        // A look under way finishes first, so that the connection it may be opening is closed below.
        await looking;
      }
    }
    progress(total, total);
  } finally {
    await watcher?.end().catch(() => undefined);
  }
}
