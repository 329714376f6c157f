// How the benchmark reduces and prints its figures.

/** A figure as the log prints it: whole above 100, two decimals below. */
export const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 2) : String(n));

export const count = (n: number) => n.toLocaleString('en-US');

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
