// Every setting of Ties, declared once: environment name, flag, default, parser, meaning and which
// commands take it. The loader, each command's --help and the README's configuration table
// (npm run docs:config) are derived from SETTINGS; nothing else reads process.env for a setting.
//
// To add a setting, add one entry to SETTINGS below:
//   - `env` TIES_…, `flag` (kebab-case, without dashes; leave it out for secrets, which a command
//     line would show in `ps`), `default`, `parse` (one of the parsers here, or your own that throws
//     ConfigError naming the setting), `meaning` (one line; it is the README's and --help's text);
//   - `scope`: 'server' for `ties serve` only, 'store' for every command that opens the store
//     (serve, token create, import, check);
//   - `placeholder` names the flag's value in --help (N, MS, PATH, …).
// Its key and type join `Config` by themselves; then run `npm run docs:config` and use
// `config.<key>` where it applies (server.ts composes the running server from the config).
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS } from './core/limits.js';
import { DEFAULT_MAX_GET_ROWS } from './core/ties.js';
import { DEFAULT_POOL_MAX, DEFAULT_STATEMENT_TIMEOUT_MS } from './store/postgres/pg-defaults.js';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_CACHE_MB } from './store/sqlite/sqlite-defaults.js';

export type HttpStatusMode = 'mirror' | 'always200';
/** Where the SQLite store runs its group commits: on the main thread, or in a worker thread. */
export type SqliteWriter = 'worker' | 'inline';
export const SQLITE_WRITERS: readonly SqliteWriter[] = ['inline', 'worker'];
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const HTTP_STATUS_MODES: readonly HttpStatusMode[] = ['mirror', 'always200'];
export type FeedMode = 'on' | 'off';
const FEED_MODES: readonly FeedMode[] = ['on', 'off'];

/** 'store': every command that opens the store; 'server': `ties serve` only. */
export type SettingScope = 'store' | 'server';

export interface Setting<T, S extends SettingScope = SettingScope> {
  readonly env: string;
  /** Long flag without the dashes; absent for settings given only through the environment. */
  readonly flag?: string;
  /** Shown for the flag's value in --help. */
  readonly placeholder?: string;
  readonly default: T;
  /** Turns the text of the flag or variable into the value; throws ConfigError naming `name`. */
  readonly parse: (raw: string, name: string) => T;
  /** The default as --help and the README show it, when the value itself does not read well. */
  readonly shown?: string;
  readonly meaning: string;
  readonly scope: S;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A whole number within [min, max] from a setting's text, or a ConfigError naming the setting. */
export function int(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}: expected an integer, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name}: expected ${min} to ${max}, got ${n}`);
  return n;
}

/** One of `values`, or a ConfigError naming the setting and what it may be. */
export function oneOf<T extends string>(name: string, raw: string, values: readonly T[]): T {
  if (!values.includes(raw as T))
    throw new ConfigError(`${name}: expected one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

const intIn =
  (min: number, max: number) =>
  (raw: string, name: string): number =>
    int(name, raw, min, max);
const oneOfThese =
  <T extends string>(values: readonly T[]) =>
  (raw: string, name: string): T =>
    oneOf(name, raw, values);

function bool(raw: string, name: string): boolean {
  const t = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
}

function text(raw: string, name: string): string {
  if (raw.trim() === '') throw new ConfigError(`${name}: expected a value, got an empty one`);
  return raw;
}

/** The forms --db takes, as errors list them. */
const DB_FORMS =
  'a SQLite file path (./data/ties.db), :memory:, or postgres://user@host:port/db[?schema=name]';

function dbLocation(raw: string, name: string): string {
  if (raw.trim() === '') throw new ConfigError(`${name}: expected ${DB_FORMS}`);
  // Any other URL would otherwise become a SQLite file under a directory named after its scheme.
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw.trim())?.[1];
  if (scheme !== undefined && !/^postgres(ql)?$/i.test(scheme))
    throw new ConfigError(`${name}: unsupported scheme "${scheme}://"; expected ${DB_FORMS}`);
  return raw;
}

function adminToken(raw: string, name: string): string | undefined {
  if (raw.length < 16) throw new ConfigError(`${name}: expected at least 16 characters`);
  return raw;
}

function amqpUrl(raw: string, name: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name}: expected an amqp:// or amqps:// URL`);
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:')
    throw new ConfigError(`${name}: expected an amqp:// or amqps:// URL, got ${url.protocol}//`);
  return raw.trim();
}
function exchangeName(raw: string, name: string): string {
  // RabbitMQ's own rule for exchange names (the amq. prefix is reserved for the broker).
  if (!/^[A-Za-z0-9_.:-]{1,255}$/.test(raw) || raw.startsWith('amq.'))
    throw new ConfigError(`${name}: expected letters, digits, _ . : - (at most 255, not starting with amq.)`);
  return raw;
}
/** Declares one setting; the generics keep its value type and scope for `Config` and `StoreConfig`. */
const setting = <T, const S extends SettingScope>(s: Setting<T, S>): Setting<T, S> => s;

export const SETTINGS = {
  port: setting({
    env: 'TIES_PORT',
    flag: 'port',
    placeholder: 'N',
    default: 8080,
    parse: intIn(0, 65_535),
    meaning: 'TCP port to listen on (0: any free port)',
    scope: 'server',
  }),
  host: setting({
    env: 'TIES_HOST',
    flag: 'host',
    placeholder: 'ADDRESS',
    default: '127.0.0.1',
    parse: text,
    meaning: 'Address to listen on (0.0.0.0 for all)',
    scope: 'server',
  }),
  db: setting({
    env: 'TIES_DB',
    flag: 'db',
    placeholder: 'PATH|URL',
    default: './data/ties.db',
    parse: dbLocation,
    meaning: 'SQLite file path (created if missing), or a postgres:// URL',
    scope: 'store',
  }),
  demo: setting({
    env: 'TIES_DEMO',
    flag: 'demo',
    default: false,
    parse: bool,
    shown: 'off',
    meaning: 'Load the demo workspace into an empty store and print a fresh demo token',
    scope: 'server',
  }),
  adminToken: setting<string | undefined, 'server'>({
    env: 'TIES_ADMIN_TOKEN',
    default: undefined,
    parse: adminToken,
    shown: '(none)',
    meaning:
      'A token with every right (at least 16 characters); a new value replaces it at the next start, unsetting removes it',
    scope: 'server',
  }),
  bodyLimit: setting({
    env: 'TIES_BODY_LIMIT',
    flag: 'body-limit',
    placeholder: 'BYTES',
    default: 1_048_576,
    parse: intIn(1_024, 1_073_741_824),
    meaning: 'Largest request body in bytes (413 above)',
    scope: 'server',
  }),
  headersTimeoutMs: setting({
    env: 'TIES_HEADERS_TIMEOUT_MS',
    flag: 'headers-timeout-ms',
    placeholder: 'MS',
    default: 10_000,
    parse: intIn(100, 3_600_000),
    meaning: "Longest wait for a request's headers; then 408 and the connection closes",
    scope: 'server',
  }),
  requestTimeoutMs: setting({
    env: 'TIES_REQUEST_TIMEOUT_MS',
    flag: 'request-timeout-ms',
    placeholder: 'MS',
    default: 60_000,
    parse: intIn(100, 3_600_000),
    meaning:
      'Longest wait for a whole request, body included (slow clients); then 408 and the connection closes',
    scope: 'server',
  }),
  maxDepth: setting({
    env: 'TIES_MAX_DEPTH',
    flag: 'max-depth',
    placeholder: 'N',
    default: 32,
    parse: intIn(4, 1_000),
    meaning: 'Deepest JSON/XML nesting accepted (400 above)',
    scope: 'server',
  }),
  maxStringLength: setting({
    env: 'TIES_MAX_STRING_LENGTH',
    flag: 'max-string-length',
    placeholder: 'N',
    default: DEFAULT_LIMITS.maxStringLength,
    parse: intIn(16, 100_000_000),
    meaning: 'Longest string in a weight or profile field (400 above)',
    scope: 'server',
  }),
  maxArrayLength: setting({
    env: 'TIES_MAX_ARRAY_LENGTH',
    flag: 'max-array-length',
    placeholder: 'N',
    default: DEFAULT_LIMITS.maxArrayLength,
    parse: intIn(1, 1_000_000),
    meaning: 'Longest list: tags, phones, subscriptions, fields, properties (400 above)',
    scope: 'server',
  }),
  maxGetRows: setting({
    env: 'TIES_MAX_GET_ROWS',
    flag: 'max-get-rows',
    placeholder: 'N',
    default: DEFAULT_MAX_GET_ROWS,
    parse: intIn(1, 10_000_000),
    meaning: 'Rows relations/get answers without limit (400 above: page with limit/from)',
    scope: 'server',
  }),
  httpStatus: setting({
    env: 'TIES_HTTP_STATUS',
    flag: 'http-status',
    placeholder: 'MODE',
    default: 'mirror' as HttpStatusMode,
    parse: oneOfThese(HTTP_STATUS_MODES),
    meaning: 'mirror: HTTP status equals error; always200: every envelope is HTTP 200',
    scope: 'server',
  }),
  rateLimit: setting({
    env: 'TIES_RATE_LIMIT',
    flag: 'rate-limit',
    placeholder: 'N',
    default: 0,
    parse: intIn(0, 10_000_000),
    meaning: 'Calls per second per token, 0 = no limit (429 above)',
    scope: 'server',
  }),
  logLevel: setting({
    env: 'TIES_LOG_LEVEL',
    flag: 'log-level',
    placeholder: 'LEVEL',
    default: 'info' as LogLevel,
    parse: oneOfThese(LOG_LEVELS),
    meaning: 'fatal, error, warn, info, debug (one line per call), trace, silent',
    scope: 'server',
  }),
  adoptDb: setting({
    env: 'TIES_ADOPT_DB',
    flag: 'adopt-db',
    default: false,
    parse: bool,
    shown: 'off',
    meaning:
      "SQLite only. Add Ties' tables to an existing file that holds another application's tables (refused otherwise)",
    scope: 'store',
  }),
  sqliteWriter: setting({
    env: 'TIES_SQLITE_WRITER',
    flag: 'sqlite-writer',
    placeholder: 'WRITER',
    default: 'inline' as SqliteWriter,
    parse: oneOfThese(SQLITE_WRITERS),
    meaning:
      'SQLite only. inline: group commits run on the main thread; worker: in a worker thread (see docs/benchmarks.md)',
    scope: 'store',
  }),
  sqliteBusyTimeoutMs: setting({
    env: 'TIES_SQLITE_BUSY_TIMEOUT_MS',
    flag: 'sqlite-busy-timeout-ms',
    placeholder: 'MS',
    default: DEFAULT_BUSY_TIMEOUT_MS,
    parse: intIn(0, 3_600_000),
    meaning:
      "SQLite only. Longest wait of a write for another process's write lock (reads go on meanwhile); then 503",
    scope: 'store',
  }),
  sqliteCacheMb: setting({
    env: 'TIES_SQLITE_CACHE_MB',
    flag: 'sqlite-cache-mb',
    placeholder: 'MB',
    default: DEFAULT_CACHE_MB,
    // 8 MiB: below it the hot upper B-tree pages of a large store stop fitting, for no saving worth
    // having next to Node's own ~50 MB. 64 GiB: beyond any file Ties is sized for; a larger value
    // is more likely a number of bytes or KiB typed by mistake.
    parse: intIn(8, 65_536),
    meaning:
      'SQLite only. Page cache per connection in MiB; it fills only as pages are read, so it counts in RSS up to this much. One that holds the whole file speeds bulk loads (see docs/scaling.md)',
    scope: 'store',
  }),
  feed: setting({
    env: 'TIES_FEED',
    flag: 'feed',
    placeholder: 'on|off',
    default: 'on' as FeedMode,
    parse: oneOfThese(FEED_MODES),
    meaning:
      'The change feed (relations/changes, its stream): on logs every relation change in its transaction; off writes nothing (see docs/benchmarks.md for the cost)',
    scope: 'store',
  }),
  feedRetainDays: setting({
    env: 'TIES_FEED_RETAIN_DAYS',
    flag: 'feed-retain-days',
    placeholder: 'N',
    default: 7,
    parse: intIn(0, 36_500),
    meaning: 'Change feed events older than this many days are pruned in the background (0: no age limit)',
    scope: 'server',
  }),
  feedRetainCount: setting({
    env: 'TIES_FEED_RETAIN_COUNT',
    flag: 'feed-retain-count',
    placeholder: 'N',
    default: 10_000_000,
    parse: intIn(0, Number.MAX_SAFE_INTEGER),
    meaning: 'At most this many of the newest change feed events are kept (0: no count limit)',
    scope: 'server',
  }),
  pgPoolMax: setting({
    env: 'TIES_PG_POOL_MAX',
    flag: 'pg-pool-max',
    placeholder: 'N',
    default: DEFAULT_POOL_MAX,
    parse: intIn(1, 1_000),
    meaning: 'PostgreSQL only. Connections per server (each call holds one for one statement)',
    scope: 'store',
  }),
  pgStatementTimeoutMs: setting({
    env: 'TIES_PG_STATEMENT_TIMEOUT_MS',
    flag: 'pg-statement-timeout-ms',
    placeholder: 'MS',
    default: DEFAULT_STATEMENT_TIMEOUT_MS,
    parse: intIn(100, 86_400_000),
    meaning: 'PostgreSQL only. Longest statement in ms; then PostgreSQL cancels it and the call answers 503',
    scope: 'store',
  }),
  publishUrl: setting<string | undefined, 'server'>({
    env: 'TIES_PUBLISH_URL',
    flag: 'publish',
    placeholder: 'URL',
    default: undefined,
    parse: amqpUrl,
    shown: '(none)',
    meaning:
      'Publish every change event to RabbitMQ at this amqp:// or amqps:// URL (publisher confirms; give a password through the variable, not the flag)',
    scope: 'server',
  }),
  publishExchange: setting({
    env: 'TIES_PUBLISH_EXCHANGE',
    flag: 'publish-exchange',
    placeholder: 'NAME',
    default: 'ties.changes',
    parse: exchangeName,
    meaning: 'The durable topic exchange events are published to; routing key rel.<rel_id>.<call>',
    scope: 'server',
  }),
  outboundLeaseMs: setting({
    env: 'TIES_OUTBOUND_LEASE_MS',
    flag: 'outbound-lease-ms',
    placeholder: 'MS',
    default: 30_000,
    parse: intIn(15_000, 3_600_000),
    meaning:
      'How long a server holds a webhook or the publisher once it stops renewing (renewed every 5 s of work; a delivery times out after 10 s, hence at least 15 s): another server takes over this long after a crash',
    scope: 'server',
  }),
  outboundRetryBaseMs: setting({
    env: 'TIES_OUTBOUND_RETRY_BASE_MS',
    flag: 'outbound-retry-base-ms',
    placeholder: 'MS',
    default: 1_000,
    parse: intIn(10, 3_600_000),
    meaning:
      'Longest first wait after a failed delivery to a webhook receiver or RabbitMQ; each further failure doubles it, up to TIES_OUTBOUND_RETRY_MAX_MS (which also caps this one; full jitter)',
    scope: 'server',
  }),
  outboundRetryMaxMs: setting({
    env: 'TIES_OUTBOUND_RETRY_MAX_MS',
    flag: 'outbound-retry-max-ms',
    placeholder: 'MS',
    default: 300_000,
    parse: intIn(100, 3_600_000),
    meaning:
      'Longest wait between two attempts to reach a failing webhook receiver or RabbitMQ (exponential backoff with full jitter up to it)',
    scope: 'server',
  }),
} as const;

type Settings = typeof SETTINGS;
export type SettingKey = keyof Settings;
type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** Every setting of `ties serve`, validated. */
export type Config = { readonly [K in SettingKey]: ValueOf<Settings[K]> };

/** The settings of a command that opens the store (token create, import, check). */
export type StoreKey = { [K in SettingKey]: Settings[K]['scope'] extends 'store' ? K : never }[SettingKey];
export type StoreConfig = Pick<Config, StoreKey>;

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];
const ALL_KEYS = SETTING_KEYS;
export const STORE_KEYS = ALL_KEYS.filter((k) => SETTINGS[k].scope === 'store') as StoreKey[];

/** Every setting at its default (tests and tools start from it). */
export const DEFAULT_CONFIG: Config = Object.freeze(
  Object.fromEntries(ALL_KEYS.map((k) => [k, SETTINGS[k].default])) as Config,
);

type ArgOption = { readonly type: 'string' | 'boolean' };

/** parseArgs options for the flags of the given settings. */
export function settingFlags(keys: readonly SettingKey[]): Record<string, ArgOption> {
  const options: Record<string, ArgOption> = {};
  for (const key of keys) {
    const s = SETTINGS[key] as Setting<unknown>;
    if (s.flag) options[s.flag] = { type: typeof s.default === 'boolean' ? 'boolean' : 'string' };
  }
  return options;
}

/**
 * The given settings from parsed flags and the environment: a flag wins over its variable, an
 * empty variable counts as unset, and the default fills the rest. Throws ConfigError naming the
 * flag or variable that is wrong.
 */
export function readSettings<K extends SettingKey>(
  keys: readonly K[],
  env: Readonly<Record<string, string | undefined>>,
  flags: Readonly<Record<string, unknown>>,
): Pick<Config, K> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const s = SETTINGS[key] as Setting<unknown>;
    const fromFlag = s.flag === undefined ? undefined : flags[s.flag];
    if (fromFlag !== undefined) out[key] = s.parse(String(fromFlag), `--${s.flag}`);
    else if (env[s.env] !== undefined && env[s.env] !== '') out[key] = s.parse(env[s.env]!, s.env);
    else out[key] = s.default;
  }
  return Object.freeze(out) as Pick<Config, K>;
}

/** The settings of `ties serve`, from the environment, then the command line (flags win). */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
): Config {
  const { values } = parseArgs({
    args: [...argv],
    options: settingFlags(ALL_KEYS),
    strict: true,
    allowPositionals: false,
  });
  return readSettings(ALL_KEYS, env, values);
}

/** The default as documentation shows it. */
export function shownDefault(s: Setting<unknown>): string {
  return s.shown ?? String(s.default);
}

/** The --help lines of the given settings: flag (or variable only), default, and meaning. */
export function settingsHelp(keys: readonly SettingKey[]): string {
  return keys
    .map((key) => {
      const s = SETTINGS[key] as Setting<unknown>;
      const flag = s.flag
        ? `--${s.flag}${typeof s.default === 'boolean' ? '' : ` ${s.placeholder ?? 'VALUE'}`}`
        : '(environment only)';
      return `  ${flag.padEnd(34)} ${s.env} (default ${shownDefault(s)})\n      ${s.meaning}`;
    })
    .join('\n');
}

/** The store settings a command reads (all of them unless it names fewer), as its --help lists them. */
export function storeSettingsHelp(keys: readonly StoreKey[] = STORE_KEYS): string {
  return `Store settings (a flag wins over its environment variable):\n${settingsHelp(keys)}\n`;
}
