// Streams CSV records (RFC 4180: quoted fields, "" inside quotes, line breaks inside quotes, CRLF or
// LF) out of text chunks, each with the line it starts on, without ever holding the whole input.

export interface CsvRecord {
  /** 1-based line where the record starts (the header is line 1). */
  readonly line: number;
  readonly fields: readonly string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/** The position of `char` in `text` at or after `from`, or text.length if there is none. */
function indexOrEnd(text: string, char: string, from: number): number {
  const at = text.indexOf(char, from);
  return at === -1 ? text.length : at;
}

/**
 * Yields every record of the input, as the records each chunk of text completes (an await per
 * record cost a few microseconds of promises and garbage each); blank lines are skipped. An
 * unterminated quoted field at the end of the input throws CsvSyntaxError naming the line it
 * started on.
 */
export async function* csvRecordBatches(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<CsvRecord[]> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  /** The previous character closed a quoted section ("" inside quotes is a quote). */
  let quoteClosed = false;
  let atFieldStart = true;
  let line = 1;
  let recordLine = 1;
  let pendingCr = false;
  let first = true;

  const endRecord = (): CsvRecord | undefined => {
    fields.push(field);
    const record = fields.length === 1 && fields[0] === '' ? undefined : { line: recordLine, fields };
    fields = [];
    field = '';
    return record;
  };

  for await (const raw of chunks) {
    let text = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const records: CsvRecord[] = [];
    /** Where the next quote and CR are at or after the fast path's position (text.length: none). */
    let nextQuote = -1;
    let nextCr = -1;
    /**
     * At the start of a record: takes the lines from `from` on that are plain — no quote, no CR
     * but a CRLF's — with one split each (the character loop below costs ~3x more per line);
     * answers where it stopped: at a line that is not plain, or the chunk's unterminated tail.
     */
    const plainLines = (from: number): number => {
      let pos = from;
      for (;;) {
        const lf = text.indexOf('\n', pos);
        if (lf === -1) break;
        if (nextQuote < pos) nextQuote = indexOrEnd(text, '"', pos);
        if (nextQuote < lf) break;
        if (nextCr < pos) nextCr = indexOrEnd(text, '\r', pos);
        if (nextCr < lf - 1) break;
        const end = nextCr === lf - 1 ? lf - 1 : lf;
        // A blank line is skipped, as endRecord skips a record of one empty field.
        if (end > pos) records.push({ line, fields: text.slice(pos, end).split(',') });
        line++;
        pos = lf + 1;
      }
      recordLine = line;
      return pos;
    };
    let start = 0;
    if (fields.length === 0 && field === '' && atFieldStart && !inQuotes && !pendingCr) start = plainLines(0);
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (pendingCr) {
        pendingCr = false;
        if (c === LF) {
          start = plainLines(i + 1);
          i = start - 1;
          continue;
        }
      }
      if (inQuotes) {
        if (c === QUOTE) {
          field += text.slice(start, i);
          start = i + 1;
          inQuotes = false;
          quoteClosed = true;
        } else if (c === LF) {
          line++;
        }
        continue;
      }
      if (c === QUOTE && (atFieldStart || quoteClosed)) {
        // "" inside a quoted field: the first quote closed it, this one reopens it with a quote.
        // A quote in the middle of an unquoted field is just a character.
        field += text.slice(start, i);
        if (quoteClosed) field += '"';
        start = i + 1;
        inQuotes = true;
        quoteClosed = false;
        atFieldStart = false;
        continue;
      }
      quoteClosed = false;
      atFieldStart = false;
      if (c === COMMA) {
        fields.push(field + text.slice(start, i));
        field = '';
        start = i + 1;
        atFieldStart = true;
      } else if (c === LF || c === CR) {
        field += text.slice(start, i);
        start = i + 1;
        const record = endRecord();
        if (record) records.push(record);
        line++;
        recordLine = line;
        atFieldStart = true;
        if (c === CR) pendingCr = true;
        else {
          start = plainLines(i + 1);
          i = start - 1;
        }
      }
    }
    field += text.slice(start);
    if (records.length > 0) yield records;
  }
  if (inQuotes) throw new CsvSyntaxError(recordLine, 'a quoted field is not closed');
  const record = endRecord();
  if (record) yield [record];
}
