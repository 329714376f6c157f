// `ties import relations FILE.csv|FILE.ndjson --rel-id N`: streams a file of relations into the
// store through core's attach_batch use case, in batches that each make one group commit. Lines
// whose relation already exists are counted, not failed, so an interrupted import is resumed by
// running it again. See docs/decisions.md for the file formats.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { coerceParams, isStorableText } from '../../api/coerce.js';
import { MAX_BATCH_ITEMS } from '../../api/limits.js';
// S.BatchItem as JSON, without TypeBox's ~370 modules (~0.3 s of every start).
import { BATCH_ITEM_JSON } from '../../api/schemas-json.generated.js';
import { isTiesError } from '../../core/errors.js';
import type { RelationType } from '../../core/model.js';
import type { BatchItemParams } from '../../core/relation-service.js';
import { createTies, type Ties } from '../../core/ties.js';
import type { ValueEncoding } from '../../core/values.js';
import { groupDigits } from '../../group-digits.js';
import { openConfiguredStore } from '../../store/configured-store.js';
import { PG_BULK_CHUNK, PG_BULK_CHUNK_MAX } from '../../store/postgres/pg-defaults.js';
import { parseStoreCommand, type StoreCommand, usageError } from '../command-line.js';
import { CsvSyntaxError, csvRecordBatches } from '../csv-reader.js';
import { type ProgressBar, progressBar } from '../progress-bar.js';

export const IMPORT_COMMAND: StoreCommand = {
  name: 'import',
  usage:
    'Usage: ties import relations FILE.csv|FILE.ndjson --rel-id N [--db PATH|URL] [--errors FILE]\n' +
    '                            [--format csv|ndjson] [--batch N]\n' +
    '  Loads relations from a file, streamed, in batches of one commit each (--batch: lines per\n' +
    `  batch, default ${groupDigits(MAX_BATCH_ITEMS)}; on PostgreSQL ${groupDigits(PG_BULK_CHUNK)}, doubling every eighth batch up to\n` +
    `  ${groupDigits(PG_BULK_CHUNK_MAX)} in a long import, unless --batch is given). CSV: a header naming\n` +
    '  profile_a,profile_b (ids) or a_email, b_phone, … and property columns; NDJSON: one\n' +
    '  attach_batch item per line. Existing relations are counted, not failed: re-run to resume.\n',
  options: {
    'rel-id': { type: 'string' },
    errors: { type: 'string' },
    format: { type: 'string' },
    batch: { type: 'string' },
  },
};

/** Identification fields a CSV column may name for side A (a_<field>) or side B (b_<field>). */
const SIDE_FIELDS = ['matching', 'email', 'phone', 'profile_id', 'field_name', 'field_value', 'resource_id'];

export interface ImportSummary {
  created: number;
  existed: number;
  failed: number;
  lines: number;
}

class UsageError extends Error {}

/**
 * Where each CSV column goes in an item. `plainMax`: the column's schema is a plain string of at
 * most that many UTF-16 units, so a cell within it that is storable text is already its coerced
 * value (undefined: the cell needs the schema's coercion, e.g. rel_id, resource_id, matching).
 */
type Column = (
  | { readonly kind: 'side'; readonly side: 'profile_a' | 'profile_b'; readonly field: string }
  | { readonly kind: 'rel_id' }
  | { readonly kind: 'weight'; readonly name: string }
) & { readonly plainMax?: number | undefined };

type JsonSchema = { readonly [key: string]: unknown };

/**
 * The largest UTF-16 length at which every string is valid for `schema` (a string schema with at
 * most a maxLength: within it, the code-point count is too); undefined for any other schema.
 */
function plainStringMax(schema: JsonSchema | undefined): number | undefined {
  if (schema?.type !== 'string') return undefined;
  const { description: _, maxLength, type: __, ...rest } = schema;
  if (Object.keys(rest).length > 0) return undefined;
  return typeof maxLength === 'number' ? maxLength : Number.POSITIVE_INFINITY;
}

function sideSchema(side: 'profile_a' | 'profile_b', field: string): JsonSchema | undefined {
  const item = BATCH_ITEM_JSON as unknown as {
    properties: Record<string, { properties: Record<string, JsonSchema> }>;
  };
  const props = item.properties[side]!.properties;
  return Object.hasOwn(props, field) ? props[field] : undefined;
}

/**
 * Whether the item csvItem built from `fields` is, as it stands, what coerceParams(BATCH_ITEM_JSON,
 * item, 'text') answers (the same names and values; the coercion copies every object): every
 * non-empty cell is in a plain-string column (weights take any value) and storable text. Then the
 * import skips the coercion's copies, ~10% of its Node CPU; test/cli-import.test.ts compares both.
 */
export function csvItemIsCoerced(columns: readonly Column[], fields: readonly string[]): boolean {
  for (let i = 0; i < columns.length; i++) {
    const value = fields[i]!;
    if (value === '') continue;
    const max = columns[i]!.plainMax;
    if (max === undefined || value.length > max || !isStorableText(value)) return false;
  }
  return true;
}

export function csvColumns(header: readonly string[], type: RelationType): Column[] {
  const seen = new Set<string>();
  const columns = header.map((raw): Column => {
    const name = raw.trim();
    if (name === '') throw new UsageError('the CSV header has an empty column name');
    if (seen.has(name)) throw new UsageError(`the CSV header names ${name} twice`);
    seen.add(name);
    if (name === 'profile_a' || name === 'profile_b') {
      const plainMax = plainStringMax(sideSchema(name, 'profile_id'));
      return { kind: 'side', side: name, field: 'profile_id', plainMax };
    }
    if (name === 'rel_id') return { kind: 'rel_id' };
    const side = name.startsWith('a_') ? 'profile_a' : name.startsWith('b_') ? 'profile_b' : undefined;
    if (side && SIDE_FIELDS.includes(name.slice(2))) {
      const field = name.slice(2);
      return { kind: 'side', side, field, plainMax: plainStringMax(sideSchema(side, field)) };
    }
    if (!type.properties.some((p) => p.name === name)) {
      throw new UsageError(
        `CSV column ${name} is neither an identification (profile_a, profile_b, a_email, b_phone, …) ` +
          `nor a property of relation type ${type.relId} (${type.properties.map((p) => p.name).join(', ') || 'none'})`,
      );
    }
    // weights: any value (api/coerce.ts checks only that text is storable); a name that is not
    // an own key of a plain object is left to the coercion.
    return { kind: 'weight', name, plainMax: name === '__proto__' ? undefined : Number.POSITIVE_INFINITY };
  });
  for (const side of ['profile_a', 'profile_b'] as const) {
    if (!columns.some((c) => c.kind === 'side' && c.side === side)) {
      throw new UsageError(
        `the CSV header identifies no ${side}: add ${side} (an id) or a column like ${side[8]}_email`,
      );
    }
  }
  return columns;
}

export function csvItem(columns: readonly Column[], fields: readonly string[]): Record<string, unknown> {
  if (fields.length !== columns.length) {
    throw new LineError(`expected ${columns.length} fields as the header has, found ${fields.length}`);
  }
  const a: Record<string, string> = {};
  const b: Record<string, string> = {};
  const weights: Record<string, string> = {};
  const item: Record<string, unknown> = { profile_a: a, profile_b: b, weights };
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const value = fields[i]!;
    // An empty cell gives nothing: no weight, no identification field.
    if (value === '') continue;
    if (column.kind === 'side') (column.side === 'profile_a' ? a : b)[column.field] = value;
    else if (column.kind === 'rel_id') item.rel_id = value;
    else weights[column.name] = value;
  }
  return item;
}

/** A line that cannot become an item; reported with its line number. */
class LineError extends Error {}

/** Imports one file; answers the counts. Failed lines go to `report` as they are known. */
export async function importRelations(options: {
  readonly ties: Ties;
  readonly file: string;
  readonly format: 'csv' | 'ndjson';
  readonly relId: number;
  readonly batch: number;
  /** What the batch grows to, doubling every eighth batch (default: it stays `batch`). */
  readonly batchMax?: number;
  readonly report: (line: number, error: string) => void;
  readonly progress?: ProgressBar | undefined;
}): Promise<ImportSummary> {
  const { ties, file, relId } = options;
  const type = await ties.store.getRelationType(relId);
  if (!type) throw new UsageError(`relation type ${relId} does not exist`);
  const encoding: ValueEncoding = options.format === 'csv' ? 'text' : 'typed';
  const size = statSync(file).size;
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 18 });
  /** Bytes handed to the parser so far (the stream reads ahead), for the progress bar and ETA. */
  let consumed = 0;
  const summary: ImportSummary = { created: 0, existed: 0, failed: 0, lines: 0 };
  const fail = (line: number, error: string) => {
    summary.failed++;
    options.report(line, error);
  };

  /** Sends one chunk: `lines[i]` is the line of `items[i]`. */
  const submit = async (lines: readonly number[], items: BatchItemParams[]) => {
    const outcomes = await ties.relations.attachBatch({ rel_id: relId, items }, { encoding });
    outcomes.forEach((o, i) => {
      if (o.ok) summary.created++;
      else if (o.error.code === 'DUPLICATE_RELATION') summary.existed++;
      else fail(lines[i]!, `${o.error.status} ${o.error.message}`);
    });
  };
  // Two batches in flight: the next one is read and checked while the previous one commits.
  const inFlight: Promise<void>[] = [];
  let lines: number[] = [];
  let items: BatchItemParams[] = [];
  // A long import's batches grow (the store's bulkChunkMax): larger chunks share more of the
  // store's work per item. Only from the ninth on, so a short import keeps the pipeline's grain.
  let target = options.batch;
  let sent = 0;
  /** Takes one line's item (or its failure); answers whether the chunk is full. */
  const accept = (line: number, raw: unknown, coerced = false): boolean => {
    summary.lines++;
    try {
      items.push((coerced ? raw : coerceParams(BATCH_ITEM_JSON, raw, encoding)) as BatchItemParams);
      lines.push(line);
    } catch (err) {
      if (!isTiesError(err)) throw err;
      fail(line, `${err.status} ${err.message}`);
    }
    return items.length >= target;
  };
  /** Sends the full chunk; waits while two are in flight. */
  const flush = async () => {
    inFlight.push(submit(lines, items));
    lines = [];
    items = [];
    if (++sent % 8 === 0) target = Math.min(options.batchMax ?? options.batch, target * 2);
    if (inFlight.length >= 2) await inFlight.shift();
    options.progress?.update(summary.lines, size > 0 ? consumed / size : undefined);
  };

  if (options.format === 'csv') {
    let columns: Column[] | undefined;
    try {
      const counted = async function* () {
        for await (const chunk of stream as AsyncIterable<string>) {
          consumed += Buffer.byteLength(chunk);
          yield chunk;
        }
      };
      for await (const records of csvRecordBatches(counted())) {
        for (const record of records) {
          if (!columns) {
            columns = csvColumns(record.fields, type);
            continue;
          }
          let raw: Record<string, unknown>;
          try {
            raw = csvItem(columns, record.fields);
          } catch (err) {
            if (!(err instanceof LineError)) throw err;
            summary.lines++;
            fail(record.line, `400 ${err.message}`);
            continue;
          }
          if (accept(record.line, raw, csvItemIsCoerced(columns, record.fields))) await flush();
        }
      }
    } catch (err) {
      if (!(err instanceof CsvSyntaxError)) throw err;
      summary.lines++;
      fail(err.line, `400 ${err.message}`);
    }
    if (!columns) throw new UsageError('the CSV file is empty: it needs a header line');
  } else {
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      consumed += Buffer.byteLength(text) + 1;
      if (text.trim() === '') continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        summary.lines++;
        fail(line, `400 malformed JSON: ${(err as Error).message.slice(0, 120)}`);
        continue;
      }
      if (accept(line, raw)) await flush();
    }
  }
  if (items.length > 0) inFlight.push(submit(lines, items));
  await Promise.all(inFlight);
  return summary;
}

function formatOf(file: string, flag: string | undefined): 'csv' | 'ndjson' {
  const chosen = flag ?? extname(file).slice(1).toLowerCase();
  if (chosen === 'csv') return 'csv';
  if (chosen === 'ndjson' || chosen === 'jsonl') return 'ndjson';
  throw new UsageError(
    `cannot tell the format of ${file}: name it .csv or .ndjson, or pass --format csv|ndjson`,
  );
}

function positiveInt(name: string, raw: string | undefined, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new UsageError(
      `--${name}: expected a positive integer${raw === undefined ? '' : `, got "${raw}"`}`,
    );
  }
  return Number(raw);
}

export async function importCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseStoreCommand(IMPORT_COMMAND, argv, process.env);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { 'rel-id'?: string; errors?: string; format?: string; batch?: string };
  const [what, file, ...extra] = parsed.positionals;
  if (what !== 'relations' || !file || extra.length > 0) {
    return usageError(IMPORT_COMMAND, 'expected: import relations FILE');
  }
  let relId: number;
  let batch: number | undefined;
  let format: 'csv' | 'ndjson';
  try {
    relId = positiveInt('rel-id', values['rel-id']);
    batch = values.batch === undefined ? undefined : positiveInt('batch', values.batch);
    format = formatOf(file, values.format);
    statSync(file);
  } catch (err) {
    if (err instanceof UsageError) return usageError(IMPORT_COMMAND, err.message);
    process.stderr.write(`ties import: ${(err as Error).message}\n`);
    return 2;
  }

  const errorsOut = values.errors ? createWriteStream(values.errors) : undefined;
  const report = (line: number, error: string) => {
    const text = `line ${line}: ${error}\n`;
    if (errorsOut) errorsOut.write(text);
    else process.stderr.write(text);
  };
  const progress = progressBar(process.stderr, { label: 'importing', unit: 'rows' });
  const started = performance.now();
  const ties = createTies({ store: await openConfiguredStore(parsed.store) });
  // The store may want larger chunks than attach_batch's limit (PostgreSQL: a call's fixed cost),
  // growing in a long import; --batch fixes the size (up to what the store takes).
  const chunk = ties.store.bulkChunk ?? MAX_BATCH_ITEMS;
  const chunkMax = Math.max(ties.store.bulkChunkMax ?? chunk, chunk, MAX_BATCH_ITEMS);
  try {
    const summary = await importRelations({
      ties,
      file,
      format,
      relId,
      batch: Math.min(batch ?? chunk, chunkMax),
      batchMax: batch === undefined ? chunkMax : Math.min(batch, chunkMax),
      report,
      progress,
    });
    progress.finish(summary.lines);
    const seconds = (performance.now() - started) / 1000;
    const n = groupDigits;
    process.stdout.write(
      `Imported ${file} into relation type ${relId}: ${n(summary.created)} created, ` +
        `${n(summary.existed)} already existed, ${n(summary.failed)} failed ` +
        `(${n(summary.lines)} lines in ${seconds.toFixed(1)} s, ${n(Math.round(summary.lines / seconds))} lines/s)\n` +
        (summary.failed > 0 && values.errors ? `Failed lines are listed in ${values.errors}\n` : ''),
    );
    return summary.failed > 0 ? 1 : 0;
  } catch (err) {
    process.stderr.write(
      `\nties import: ${err instanceof UsageError || isTiesError(err) ? err.message : String(err)}\n`,
    );
    return err instanceof UsageError ? 2 : 1;
  } finally {
    await ties.close();
    if (errorsOut) await new Promise((resolve) => errorsOut.end(resolve));
  }
}
