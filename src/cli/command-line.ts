// Command lines of the `ties` commands that open the store: their own options plus the store
// settings of src/config.ts (flag, environment variable, default), --help, and usage errors.
import { parseArgs } from 'node:util';
import {
  ConfigError,
  readSettings,
  STORE_KEYS,
  type StoreConfig,
  type StoreKey,
  settingFlags,
  storeSettingsHelp,
} from '../config.js';

type ArgOption = { readonly type: 'string' | 'boolean' };

export interface StoreCommand {
  /** As it is typed, e.g. "token create"; errors start with "ties <name>:". */
  readonly name: string;
  /** Usage lines; --help adds the store settings below them. */
  readonly usage: string;
  /** The command's own options (the store settings' flags are added). */
  readonly options: Readonly<Record<string, ArgOption>>;
  /**
   * The store settings it reads, when not all of them (ties check reads only --db): only these are
   * listed in --help and accepted as flags, so that no flag is taken and then ignored.
   */
  readonly settings?: readonly StoreKey[];
}

export interface ParsedStoreCommand {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly store: StoreConfig;
}

export function storeCommandHelp(command: StoreCommand): string {
  return `${command.usage}\n${storeSettingsHelp(command.settings)}`;
}

/**
 * Parses the command line and reads the store settings; `--help` prints the command's help and a
 * wrong option or setting prints what was expected. Then it answers the exit code (0 or 2) instead.
 */
export function parseStoreCommand(
  command: StoreCommand,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedStoreCommand | number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(storeCommandHelp(command));
    return 0;
  }
  const keys = command.settings ?? STORE_KEYS;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...command.options, ...settingFlags(keys) },
      allowPositionals: true,
      strict: true,
    });
    const flags = values as Record<string, string | boolean | undefined>;
    // The settings it does not read stay at their defaults (their variables are not looked at).
    const store = { ...readSettings(STORE_KEYS, {}, {}), ...readSettings(keys, env, flags) };
    return { values: flags, positionals, store };
  } catch (err) {
    if (!(err instanceof ConfigError) && !(err instanceof TypeError)) throw err;
    return usageError(command, err.message);
  }
}

/** Prints `ties <name>: <message>` and the usage; answers exit code 2. */
export function usageError(command: StoreCommand, message: string): number {
  process.stderr.write(`ties ${command.name}: ${message}\n${command.usage}`);
  return 2;
}
