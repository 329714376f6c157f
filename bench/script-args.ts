// Command-line options of the bench and soak scripts: `--help` prints the usage, a wrong option or
// value prints what was expected and exits 2 — never a stack trace (these are run by hand).

/** Exits 2 with `message` and the usage; for values parseArgs cannot check itself. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`${message}\n\n${usage}\n`);
  process.exit(2);
}

/**
 * Runs `parse` (node:util's parseArgs, strict, with a `help` boolean option), turning its errors
 * into a usage error and `--help` into the usage on stdout.
 */
export function scriptArgs<T extends { help?: boolean | undefined }>(usage: string, parse: () => T): T {
  let values: T;
  try {
    values = parse();
  } catch (error) {
    usageError(usage, (error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return values;
}

/** A whole number ≥ `min` from an option's text, or exit 2 naming the option. */
export function intOption(usage: string, name: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    usageError(usage, `--${name}: expected a whole number ≥ ${min}, got "${text}"`);
  return n;
}
