// Command-line options of the bench and soak scripts: `--help` prints the usage, a wrong option or
// value prints what was expected and exits 2 — never a stack trace (these are run by hand). Values
// are checked with the server's own setting validators (src/config.ts), which throw ConfigError.
import { ConfigError } from '../src/config.js';

/** node:util's parseArgs reports unknown options and missing values with these codes. */
const isParseArgsError = (error: unknown) =>
  error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

function orUsage<T>(usage: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof ConfigError) && !isParseArgsError(error)) throw error;
    process.stderr.write(`${(error as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
}

/**
 * `parse` runs parseArgs (strict, with a `help` boolean option); `--help` then prints the usage and
 * exits 0, before `settings` turns the values into checked settings (throwing ConfigError).
 */
export function scriptArgs<V extends { help?: boolean | undefined }, R>(
  usage: string,
  parse: () => V,
  settings: (values: V) => R,
): R {
  const values = orUsage(usage, parse);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return orUsage(usage, () => settings(values));
}

/** A number of minutes or seconds above zero (or zero when allowed); fractions for short trial runs. */
export function duration(name: string, raw: string, orZero = false): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !orZero))
    throw new ConfigError(`${name}: expected a positive number, got "${raw}"`);
  return n;
}
