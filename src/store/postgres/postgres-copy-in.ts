// COPY … FROM STDIN for `ties copy` (postgres-transfer.ts), without a dependency: rows in COPY's
// text format, sent through pg's documented extension point for custom queries.
import type pg from 'pg';

/** One field of COPY's text format. */
function field(value: string | number | null): string {
  if (value === null) return '\\N';
  const text = String(value);
  return /[\\\n\r\t]/.test(text)
    ? text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
    : text;
}
/**
 * `COPY … FROM STDIN` through pg's extension point for custom queries (a "submittable", as the
 * cursor and stream packages use): pg hands the connection over on CopyInResponse, the text goes
 * as CopyData messages, and the query ends at ReadyForQuery (or at the first error).
 */
export class CopyIn implements pg.Submittable {
  callback: ((err: Error | null) => void) | undefined;
  /** pg's client-side read timeout for this query (ms), read from the submittable; unset: the client's. */
  query_timeout: number | undefined;
  private done = false;
  readonly finished: Promise<void>;
  private settle!: (err: Error | null) => void;

  constructor(
    readonly text: string,
    private readonly chunks: readonly string[],
  ) {
    this.finished = new Promise((resolve, reject) => {
      this.settle = (err) => (err ? reject(err) : resolve());
    });
  }
  private end(err: Error | null): void {
    if (this.done) return;
    this.done = true;
    this.callback?.(err);
    this.settle(err);
  }
  submit(connection: pg.Connection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: pg.Connection & CopyConnection): void {
    for (const chunk of this.chunks) connection.sendCopyFromChunk(Buffer.from(chunk));
    connection.endCopyFrom();
  }
  handleCommandComplete(): void {}
  handleReadyForQuery(): void {
    this.end(null);
  }
  handleError(err: Error): void {
    this.end(err);
  }
}
interface CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** One row of COPY's text format. */
export const line = (values: readonly (string | number | null)[]) => `${values.map(field).join('\t')}\n`;
