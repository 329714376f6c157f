// `ties export relations --rel-id N [--format csv|ndjson] [--out FILE]`: streams a relation type's
// relations, from one consistent snapshot of the store, in the formats `ties import relations`
// reads (profiles by id), so that an export imported into a store with the same profiles gives
// the same relations.
import { createWriteStream } from 'node:fs';
import { extname } from 'node:path';
import type { Writable } from 'node:stream';
import type { RelationType, Weights, WeightValue } from '../../core/model.js';
import { groupDigits } from '../../group-digits.js';
import { openTransferSource } from '../../store/transfer/open-transfer.js';
import type { RelationRecord } from '../../store/transfer/transfer-port.js';
import { parseStoreCommand, type StoreCommand, usageError } from '../command-line.js';
import { progressBar } from '../progress-bar.js';

export const EXPORT_COMMAND: StoreCommand = {
  name: 'export',
  usage:
    'Usage: ties export relations --rel-id N [--format csv|ndjson] [--out FILE] [--db PATH|URL]\n' +
    "  Writes a relation type's relations (to standard output, or FILE) as `ties import relations`\n" +
    '  reads them: CSV with a header profile_a,profile_b,<properties>, or NDJSON attach_batch items.\n' +
    "  The format is --format, else FILE's extension, else ndjson (exact for every value).\n",
  options: {
    'rel-id': { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
  },
  settings: ['db', 'sqliteCacheMb'],
};

/** Rows read from the store per chunk. */
const CHUNK = 10_000;

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The lines of one format for a type's relations. */
export function relationLines(type: RelationType, format: 'csv' | 'ndjson') {
  const names = type.properties.map((p) => p.name);
  return {
    header: format === 'csv' ? `${['profile_a', 'profile_b', ...names].map(csvCell).join(',')}\n` : '',
    line(r: RelationRecord): string {
      const w: Weights = r.weights;
      if (format === 'ndjson') {
        // Properties in the type's order, whichever order the engine keeps them in (jsonb sorts).
        const weights: Record<string, WeightValue> = {};
        for (const n of names) if (Object.hasOwn(w, n)) weights[n] = w[n]!;
        return `${JSON.stringify({ profile_a: { profile_id: r.a }, profile_b: { profile_id: r.b }, weights })}\n`;
      }
      const cells = names.map((n) => (Object.hasOwn(w, n) ? csvCell(String(w[n])) : ''));
      return `${[r.a, r.b, ...cells].join(',')}\n`;
    },
  };
}

function write(out: Writable, text: string): Promise<void> | undefined {
  if (out.write(text)) return undefined;
  return new Promise((resolve) => out.once('drain', resolve));
}

export async function exportCommand(argv: readonly string[]): Promise<number> {
  const parsed = parseStoreCommand(EXPORT_COMMAND, argv, process.env);
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { 'rel-id'?: string; format?: string; out?: string };
  const [what, ...extra] = parsed.positionals;
  if (what !== 'relations' || extra.length > 0)
    return usageError(EXPORT_COMMAND, 'expected: export relations');
  const rawId = values['rel-id'];
  if (rawId === undefined || !/^\d+$/.test(rawId) || Number(rawId) < 1) {
    return usageError(
      EXPORT_COMMAND,
      `--rel-id: expected a positive integer${rawId === undefined ? '' : `, got "${rawId}"`}`,
    );
  }
  const relId = Number(rawId);
  const chosen = values.format ?? (values.out ? extname(values.out).slice(1).toLowerCase() : 'ndjson');
  const format = chosen === 'jsonl' ? 'ndjson' : chosen;
  if (format !== 'csv' && format !== 'ndjson') {
    return usageError(
      EXPORT_COMMAND,
      values.format
        ? `--format: expected csv or ndjson, got "${values.format}"`
        : `cannot tell the format of ${values.out}: name it .csv or .ndjson, or pass --format csv|ndjson`,
    );
  }

  let source: Awaited<ReturnType<typeof openTransferSource>>;
  try {
    source = await openTransferSource(parsed.store.db, { sqliteCacheMb: parsed.store.sqliteCacheMb });
  } catch (err) {
    process.stderr.write(`ties export: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const type = (await source.catalogue()).relationTypes.find((t) => t.relId === relId);
    if (!type) return usageError(EXPORT_COMMAND, `relation type ${relId} does not exist`);
    const total = (await source.counts()).relations[relId] ?? 0;
    const out: Writable = values.out ? createWriteStream(values.out) : process.stdout;
    const progress = progressBar(process.stderr, { label: 'exporting', unit: 'relations' });
    const lines = relationLines(type, format);
    let done = 0;
    await write(out, lines.header);
    for await (const rows of source.relations(relId, null, CHUNK)) {
      await write(out, rows.map(lines.line).join(''));
      done += rows.length;
      progress.update(done, total > 0 ? done / total : undefined);
    }
    if (out !== process.stdout)
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
    progress.finish(done);
    process.stderr.write(
      `Exported ${groupDigits(done)} relations of type ${relId} (${type.name}) as ${format}` +
        `${values.out ? ` to ${values.out}` : ''}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`\nties export: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await source.close();
  }
}
