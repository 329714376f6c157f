// Counts as the commands print them (progress, summaries, migration progress).
/**
 * A whole number with commas between groups of three digits, as toLocaleString('en-US') writes it
 * (the first toLocaleString call initialises ICU's number formats: ~12 ms of a command's start).
 * Every count a command prints goes through it.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
