// `ties copy --from STORE --to STORE`: a whole store from SQLite to PostgreSQL, back, or between
// two files, read from one snapshot of the source (a server may keep writing to it), written in
// chunks with the engines' bulk paths, resumable, and verified at the end (src/store/transfer).
import { parseArgs } from 'node:util';
import { ConfigError, SETTINGS } from '../../config.js';
import { groupDigits } from '../../group-digits.js';
import { CopyRefused, copyStore } from '../../store/transfer/copy-store.js';
import { openTransferSource, openTransferTarget } from '../../store/transfer/open-transfer.js';
import type { TransferReader, TransferWriter } from '../../store/transfer/transfer-port.js';
import { progressBar } from '../progress-bar.js';

export const COPY_USAGE = `Usage: ties copy --from PATH|URL --to PATH|URL [--resume | --overwrite] [--chunk 10000]
  Copies a whole store — databases, resources, relation types, tokens (they keep working),
  profiles with their subscriptions, relations with their properties, the change feed's log (with
  its seqs), webhooks and publisher cursors (with their positions) — between SQLite files and
  PostgreSQL (postgres://…, ?schema=NAME), in either direction. The source is read as one
  consistent snapshot, so a server may keep running on it; the target's schema is created. Rows go
  in chunks, one transaction each (COPY on PostgreSQL), with a progress bar; aggregates are rebuilt
  on the target and checked equal to the source's, and the counts of every table compared.
  --resume      finish an interrupted copy into the same target (the source must not have changed)
  --overwrite   delete what a non-empty target holds first (without it a non-empty target is refused)
  --chunk N     rows per transaction (default 10000)
Exit 0: copied and verified; 1: failed or verification found differences (listed); 2: usage.
`;

function usage(message: string): number {
  process.stderr.write(`ties copy: ${message}\n${COPY_USAGE}`);
  return 2;
}

export async function copyCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(COPY_USAGE);
    return 0;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        resume: { type: 'boolean' },
        overwrite: { type: 'boolean' },
        chunk: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    values = parsed.values;
  } catch (err) {
    return usage((err as Error).message);
  }
  let from: string;
  let to: string;
  try {
    if (values.from === undefined)
      throw new ConfigError('--from: expected the store to copy (a file path or a postgres:// URL)');
    if (values.to === undefined)
      throw new ConfigError('--to: expected the store to copy into (a file path or a postgres:// URL)');
    from = SETTINGS.db.parse(String(values.from), '--from');
    to = SETTINGS.db.parse(String(values.to), '--to');
  } catch (err) {
    if (err instanceof ConfigError) return usage(err.message);
    throw err;
  }
  if (from === to) return usage('--from and --to name the same store');
  if (values.resume && values.overwrite) return usage('--resume and --overwrite exclude each other');
  const rawChunk = values.chunk === undefined ? '10000' : String(values.chunk);
  if (!/^\d+$/.test(rawChunk) || Number(rawChunk) < 1 || Number(rawChunk) > 1_000_000) {
    return usage(`--chunk: expected an integer from 1 to 1000000, got "${rawChunk}"`);
  }

  let source: TransferReader | undefined;
  let target: TransferWriter | undefined;
  const started = performance.now();
  const progress = progressBar(process.stderr, { label: 'copying', unit: 'rows' });
  let last = 0;
  try {
    source = await openTransferSource(from);
    target = await openTransferTarget(to);
    process.stderr.write(
      `ties copy: ${source.where} (${source.engine}, one snapshot) → ${target.where} (${target.engine})\n`,
    );
    const summary = await copyStore(source, target, {
      chunk: Number(rawChunk),
      resume: values.resume === true,
      overwrite: values.overwrite === true,
      onProgress: (done, total) => {
        last = done;
        progress.update(done, total > 0 ? done / total : undefined);
      },
      onPhase: (text) => {
        if (process.stderr.isTTY) process.stderr.write('\n');
        process.stderr.write(`ties copy: ${text}\n`);
      },
    });
    progress.finish(last);
    const seconds = (performance.now() - started) / 1000;
    const n = groupDigits;
    const c = summary.counts;
    const relations = Object.values(c.relations).reduce((s, x) => s + x, 0);
    const out = summary.problems.length === 0 ? process.stdout : process.stderr;
    out.write(
      `Copied ${source.where} to ${target.where} in ${seconds.toFixed(1)} s ` +
        `(${n(Math.round(summary.copied / Math.max(seconds, 0.001)))} rows/s${summary.skipped > 0 ? `; ${n(summary.skipped)} already there, resumed` : ''}):\n` +
        `  ${n(c.databases)} databases, ${n(c.resources)} resources, ${n(c.relationTypes)} relation types, ${n(c.tokens)} tokens\n` +
        `  ${n(c.profiles)} profiles, ${n(c.subscriptions)} subscriptions\n` +
        `  ${n(relations)} relations${
          Object.keys(c.relations).length > 0
            ? ` (${Object.entries(c.relations)
                .map(([id, x]) => `type ${id}: ${n(x)}`)
                .join(', ')})`
            : ''
        }\n` +
        `  ${n(c.changes)} change-log events, ${n(c.webhooks)} webhooks, ${n(c.feedCursors)} feed cursors\n` +
        (summary.problems.length === 0
          ? `Verified: every count equal, ${n(summary.aggregateRows)} aggregate rows rebuilt on the target and equal to the source's.\n`
          : `VERIFICATION FAILED:\n${summary.problems.map((p) => `  ${p}`).join('\n')}\n` +
            'If the source was written to during an interrupted copy, copy again with --overwrite.\n'),
    );
    return summary.problems.length === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`\nties copy: ${(err as Error).message}\n`);
    return err instanceof CopyRefused ? 2 : 1;
  } finally {
    await source?.close().catch(() => undefined);
    await target?.close().catch(() => undefined);
  }
}
