// Progress of a long CLI job: a redrawn bar with rate and ETA on a terminal, plain periodic lines
// otherwise (logs and pipes keep every line they are given).
import { groupDigits } from '../group-digits.js';

export interface ProgressBar {
  /** `done` items so far; `fraction` of the work (0–1) when it can be told, for the bar and the ETA. */
  update(done: number, fraction: number | undefined): void;
  /** Draws the final state and ends the line. */
  finish(done: number): void;
}

export interface ProgressOptions {
  readonly label: string;
  readonly unit: string;
  /** Defaults to the stream's own isTTY. */
  readonly tty?: boolean | undefined;
  /** Plain mode: one line at most this often (default 5 s). */
  readonly intervalMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

const BAR_WIDTH = 24;
/** A terminal is redrawn at most this often: drawing costs more than the work between two draws. */
const REDRAW_MS = 100;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const count = (n: number) => groupDigits(Math.round(n));

export function progressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  options: ProgressOptions,
): ProgressBar {
  const now = options.now ?? (() => performance.now());
  const tty = options.tty ?? stream.isTTY === true;
  const interval = tty ? REDRAW_MS : (options.intervalMs ?? 5_000);
  const started = now();
  let last = Number.NEGATIVE_INFINITY;

  const text = (done: number, fraction: number | undefined): string => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const parts = [options.label];
    if (fraction !== undefined) {
      const f = Math.min(1, Math.max(0, fraction));
      if (tty) {
        const filled = Math.round(f * BAR_WIDTH);
        parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`);
      }
      parts.push(`${String(Math.floor(f * 100)).padStart(3)}%`);
    }
    parts.push(`${count(done)} ${options.unit}`, `${count(rate)} ${options.unit}/s`);
    if (fraction !== undefined && fraction > 0 && fraction < 1) {
      parts.push(`ETA ${formatDuration((seconds * (1 - fraction)) / fraction)}`);
    }
    return parts.join('  ');
  };

  return {
    update(done, fraction) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      stream.write(tty ? `\r\x1b[2K${text(done, fraction)}` : `${text(done, fraction)}\n`);
    },
    finish(done) {
      const line = `${text(done, 1)}  in ${formatDuration((now() - started) / 1000)}`;
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}
