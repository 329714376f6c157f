// The CSV reader: records and their line numbers whatever the chunks the text comes in, on plain
// lines (read with one split each) and on lines that need the character loop (quotes, bare CR).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CsvRecord, CsvSyntaxError, csvRecordBatches } from './csv-reader.js';

async function read(chunks: readonly string[]): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const records of csvRecordBatches(source())) out.push(...records);
  return out;
}

const TEXT =
  '\ufeffa,b,c\r\n' + // header, CRLF
  'x1,y1,\r\n' + // an empty last field before CRLF
  '\n' + // a blank line
  '"q,1","l1\nl2",z\n' + // quoted comma and line break
  'p,"say ""hi""",r\r' + // "" inside quotes, a bare CR
  'm,n"o,p\n' + // a quote inside an unquoted field
  '\r\n' + // a blank CRLF line
  'last,row,here'; // no final line break

const EXPECTED: CsvRecord[] = [
  { line: 1, fields: ['a', 'b', 'c'] },
  { line: 2, fields: ['x1', 'y1', ''] },
  { line: 4, fields: ['q,1', 'l1\nl2', 'z'] },
  { line: 6, fields: ['p', 'say "hi"', 'r'] },
  { line: 7, fields: ['m', 'n"o', 'p'] },
  { line: 9, fields: ['last', 'row', 'here'] },
];

test('records and line numbers are the same however the text is cut into chunks', async () => {
  assert.deepEqual(await read([TEXT]), EXPECTED);
  for (let i = 0; i <= TEXT.length; i++) {
    for (const j of [i, i + 1, i + 3, i + 7]) {
      const cut = [TEXT.slice(0, i), TEXT.slice(i, Math.max(i, j)), TEXT.slice(Math.max(i, j))];
      assert.deepEqual(await read(cut), EXPECTED, `cut at ${i} and ${j}`);
    }
  }
});

test('an unclosed quoted field names the line it starts on', async () => {
  await assert.rejects(read(['a,b\nc,"d\ne\n', 'f']), (err: unknown) => {
    assert.ok(err instanceof CsvSyntaxError);
    assert.equal(err.line, 2);
    return true;
  });
});
