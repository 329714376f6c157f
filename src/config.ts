// Settings of `ties serve`: one frozen, validated object from the environment and the command line.
// Every setting is in the README's configuration table (a test keeps them in step).
import { parseArgs } from 'node:util';

export type HttpStatusMode = 'mirror' | 'always200';
/** Where the SQLite store runs its group commits: on the main thread, or in a worker thread. */
export type SqliteWriter = 'worker' | 'inline';
export const SQLITE_WRITERS: readonly SqliteWriter[] = ['inline', 'worker'];
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** A file path (embedded SQLite) or a postgres:// URL. */
  readonly db: string;
  readonly demo: boolean;
  readonly adminToken: string | undefined;
  readonly bodyLimit: number;
  readonly maxDepth: number;
  readonly maxStringLength: number;
  readonly maxArrayLength: number;
  readonly maxGetRows: number;
  readonly httpStatus: HttpStatusMode;
  /** Calls per second per token; 0 turns the limit off. */
  readonly rateLimit: number;
  readonly logLevel: LogLevel;
  readonly sqliteWriter: SqliteWriter;
  /** PostgreSQL only: connections in the pool. */
  readonly pgPoolMax: number;
  /** PostgreSQL only: longest statement before PostgreSQL cancels it and the call answers 503. */
  readonly pgStatementTimeoutMs: number;
}

/** One row of the configuration table: env name, flag, default, meaning. */
export interface SettingDoc {
  readonly key: keyof Config;
  readonly env: string;
  readonly flag?: string;
  readonly default: string;
  readonly meaning: string;
}

export const SETTINGS: readonly SettingDoc[] = [
  { key: 'port', env: 'TIES_PORT', flag: '--port', default: '8080', meaning: 'TCP port to listen on' },
  {
    key: 'host',
    env: 'TIES_HOST',
    flag: '--host',
    default: '127.0.0.1',
    meaning: 'Address to listen on (0.0.0.0 for all)',
  },
  {
    key: 'db',
    env: 'TIES_DB',
    flag: '--db',
    default: './data/ties.db',
    meaning: 'SQLite file path (created if missing), or a postgres:// URL',
  },
  {
    key: 'demo',
    env: 'TIES_DEMO',
    flag: '--demo',
    default: 'off',
    meaning: 'Load the demo workspace into an empty store and print a fresh demo token',
  },
  {
    key: 'adminToken',
    env: 'TIES_ADMIN_TOKEN',
    default: '(none)',
    meaning: 'A token with every right that exists from this start on (at least 16 characters)',
  },
  {
    key: 'bodyLimit',
    env: 'TIES_BODY_LIMIT',
    default: '1048576',
    meaning: 'Largest request body in bytes (413 above)',
  },
  {
    key: 'maxDepth',
    env: 'TIES_MAX_DEPTH',
    default: '32',
    meaning: 'Deepest JSON/XML nesting accepted (400 above)',
  },
  {
    key: 'maxStringLength',
    env: 'TIES_MAX_STRING_LENGTH',
    default: '65536',
    meaning: 'Longest string in a weight or profile field (400 above)',
  },
  {
    key: 'maxArrayLength',
    env: 'TIES_MAX_ARRAY_LENGTH',
    default: '1000',
    meaning: 'Longest list: tags, phones, subscriptions, fields, properties (400 above)',
  },
  {
    key: 'maxGetRows',
    env: 'TIES_MAX_GET_ROWS',
    default: '100000',
    meaning: 'Rows relations/get answers without limit (400 above: page with limit/from)',
  },
  {
    key: 'httpStatus',
    env: 'TIES_HTTP_STATUS',
    default: 'mirror',
    meaning: 'mirror: HTTP status equals error; always200: every envelope is HTTP 200',
  },
  {
    key: 'rateLimit',
    env: 'TIES_RATE_LIMIT',
    default: '0',
    meaning: 'Calls per second per token, 0 = no limit (429 above)',
  },
  {
    key: 'logLevel',
    env: 'TIES_LOG_LEVEL',
    flag: '--log-level',
    default: 'info',
    meaning: 'fatal, error, warn, info, debug (one line per call), trace, silent',
  },
  {
    key: 'sqliteWriter',
    env: 'TIES_SQLITE_WRITER',
    default: 'inline',
    meaning:
      'SQLite only. inline: group commits run on the main thread; worker: in a worker thread (see docs/benchmarks.md)',
  },
  {
    key: 'pgPoolMax',
    env: 'TIES_PG_POOL_MAX',
    default: '10',
    meaning: 'PostgreSQL only. Connections per server (each call holds one for one statement)',
  },
  {
    key: 'pgStatementTimeoutMs',
    env: 'TIES_PG_STATEMENT_TIMEOUT_MS',
    default: '30000',
    meaning: 'PostgreSQL only. Longest statement in ms; then PostgreSQL cancels it and the call answers 503',
  },
];

export const DEFAULT_CONFIG: Config = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  db: './data/ties.db',
  demo: false,
  adminToken: undefined,
  bodyLimit: 1_048_576,
  maxDepth: 32,
  maxStringLength: 65_536,
  maxArrayLength: 1_000,
  maxGetRows: 100_000,
  httpStatus: 'mirror',
  rateLimit: 0,
  logLevel: 'info',
  sqliteWriter: 'inline',
  pgPoolMax: 10,
  pgStatementTimeoutMs: 30_000,
});

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

function bool(name: string, raw: string): boolean {
  const t = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Flags `ties serve` accepts (the rest of the settings come from the environment). */
export const SERVE_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  db: { type: 'string' },
  demo: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Reads settings from the environment, then the command line (flags win). Throws ConfigError. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
): Config {
  const { values } = parseArgs({
    args: [...argv],
    options: SERVE_OPTIONS,
    strict: true,
    allowPositionals: false,
  });
  const pick = (flag: string | boolean | undefined, envName: string): string | undefined =>
    flag === undefined ? env[envName] : String(flag);
  const c: { -readonly [K in keyof Config]: Config[K] } = { ...DEFAULT_CONFIG };
  const port = pick(values.port, 'TIES_PORT');
  if (port !== undefined) c.port = int('port', port, 0, 65_535);
  c.host = pick(values.host, 'TIES_HOST') ?? c.host;
  c.db = pick(values.db, 'TIES_DB') ?? c.db;
  if (c.db.trim() === '') throw new ConfigError('db: expected a file path or a postgres:// URL');
  const demo = values.demo === undefined ? env.TIES_DEMO : String(values.demo);
  if (demo !== undefined) c.demo = bool('demo', demo);
  const admin = env.TIES_ADMIN_TOKEN;
  if (admin !== undefined && admin !== '') {
    if (admin.length < 16) throw new ConfigError('TIES_ADMIN_TOKEN: expected at least 16 characters');
    c.adminToken = admin;
  }
  if (env.TIES_BODY_LIMIT) c.bodyLimit = int('TIES_BODY_LIMIT', env.TIES_BODY_LIMIT, 1_024, 1_073_741_824);
  if (env.TIES_MAX_DEPTH) c.maxDepth = int('TIES_MAX_DEPTH', env.TIES_MAX_DEPTH, 4, 1_000);
  if (env.TIES_MAX_STRING_LENGTH) {
    c.maxStringLength = int('TIES_MAX_STRING_LENGTH', env.TIES_MAX_STRING_LENGTH, 16, 100_000_000);
  }
  if (env.TIES_MAX_ARRAY_LENGTH)
    c.maxArrayLength = int('TIES_MAX_ARRAY_LENGTH', env.TIES_MAX_ARRAY_LENGTH, 1, 1_000_000);
  if (env.TIES_MAX_GET_ROWS) c.maxGetRows = int('TIES_MAX_GET_ROWS', env.TIES_MAX_GET_ROWS, 1, 10_000_000);
  if (env.TIES_HTTP_STATUS)
    c.httpStatus = oneOf('TIES_HTTP_STATUS', env.TIES_HTTP_STATUS, ['mirror', 'always200']);
  if (env.TIES_RATE_LIMIT) c.rateLimit = int('TIES_RATE_LIMIT', env.TIES_RATE_LIMIT, 0, 10_000_000);
  if (env.TIES_SQLITE_WRITER)
    c.sqliteWriter = oneOf('TIES_SQLITE_WRITER', env.TIES_SQLITE_WRITER, SQLITE_WRITERS);
  if (env.TIES_PG_POOL_MAX) c.pgPoolMax = int('TIES_PG_POOL_MAX', env.TIES_PG_POOL_MAX, 1, 1_000);
  if (env.TIES_PG_STATEMENT_TIMEOUT_MS) {
    c.pgStatementTimeoutMs = int(
      'TIES_PG_STATEMENT_TIMEOUT_MS',
      env.TIES_PG_STATEMENT_TIMEOUT_MS,
      100,
      86_400_000,
    );
  }
  const level = pick(values['log-level'], 'TIES_LOG_LEVEL');
  if (level !== undefined) c.logLevel = oneOf('log-level', level, LOG_LEVELS);
  return Object.freeze(c);
}
