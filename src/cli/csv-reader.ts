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
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    const records: CsvRecord[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (pendingCr) {
        pendingCr = false;
        if (c === LF) {
          start = i + 1;
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
        if (c === CR) pendingCr = true;
        atFieldStart = true;
      }
    }
    field += text.slice(start);
    if (records.length > 0) yield records;
  }
  if (inQuotes) throw new CsvSyntaxError(recordLine, 'a quoted field is not closed');
  const record = endRecord();
  if (record) yield [record];
}
