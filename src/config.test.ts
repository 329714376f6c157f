import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  DEFAULT_CONFIG,
  loadConfig,
  readSettings,
  SETTING_KEYS,
  SETTINGS,
  type Setting,
  STORE_KEYS,
} from './config.js';

test('with nothing set, every setting is its declared default', () => {
  const config = loadConfig({}, []);
  assert.deepEqual({ ...config }, { ...DEFAULT_CONFIG });
  assert.deepEqual(Object.keys(config).sort(), [...SETTING_KEYS].sort());
  assert.ok(Object.isFrozen(config));
});

test('every default survives its own parser, so --help and the README show a value that works', () => {
  for (const key of SETTING_KEYS) {
    const s = SETTINGS[key] as Setting<unknown>;
    if (s.default === undefined) continue;
    assert.deepEqual(s.parse(String(s.default), s.env), s.default, key);
  }
});

test('a flag wins over its variable; an empty variable counts as unset', () => {
  const config = loadConfig({ TIES_PORT: '81', TIES_DB: '/tmp/env.db', TIES_RATE_LIMIT: '' }, [
    '--port',
    '82',
  ]);
  assert.equal(config.port, 82);
  assert.equal(config.db, '/tmp/env.db');
  assert.equal(config.rateLimit, DEFAULT_CONFIG.rateLimit);
  assert.equal(loadConfig({ TIES_DEMO: 'yes' }, []).demo, true);
  assert.equal(loadConfig({}, ['--demo']).demo, true);
  assert.equal(loadConfig({}, ['--sqlite-writer', 'worker', '--body-limit', '2048']).bodyLimit, 2048);
});

test('a wrong value names the flag or the variable it came from', () => {
  assert.throws(() => loadConfig({}, ['--port', 'eighty']), /--port: expected an integer, got "eighty"/);
  assert.throws(() => loadConfig({ TIES_PORT: '70000' }, []), /TIES_PORT: expected 0 to 65535, got 70000/);
  assert.throws(
    () => loadConfig({ TIES_HTTP_STATUS: 'sometimes' }, []),
    /TIES_HTTP_STATUS: expected one of mirror, always200/,
  );
  assert.throws(
    () => loadConfig({ TIES_ADMIN_TOKEN: 'short' }, []),
    /TIES_ADMIN_TOKEN: expected at least 16/,
  );
  assert.throws(() => loadConfig({}, ['--db', ' ']), ConfigError);
  assert.throws(() => loadConfig({}, ['--admin-token', 'x'.repeat(20)]), /Unknown option '--admin-token'/);
});

test('the outbound lease and retry waits are settings with bounds', () => {
  const config = loadConfig({ TIES_OUTBOUND_LEASE_MS: '60000', TIES_OUTBOUND_RETRY_BASE_MS: '250' }, [
    '--outbound-retry-max-ms',
    '5000',
  ]);
  assert.deepEqual(
    [config.outboundLeaseMs, config.outboundRetryBaseMs, config.outboundRetryMaxMs],
    [60_000, 250, 5_000],
  );
  assert.deepEqual(
    [DEFAULT_CONFIG.outboundLeaseMs, DEFAULT_CONFIG.outboundRetryBaseMs, DEFAULT_CONFIG.outboundRetryMaxMs],
    [30_000, 1_000, 300_000],
  );
  // A lease shorter than a delivery's timeout (10 s) plus a renewal (5 s) could let two servers send at once.
  assert.throws(
    () => loadConfig({ TIES_OUTBOUND_LEASE_MS: '10000' }, []),
    /TIES_OUTBOUND_LEASE_MS: expected 15000 to 3600000, got 10000/,
  );
  assert.throws(
    () => loadConfig({}, ['--outbound-retry-base-ms', '5']),
    /--outbound-retry-base-ms: expected 10 to 3600000, got 5/,
  );
  // A ceiling below the base caps the first wait too (a store set up with only the ceiling keeps working).
  assert.equal(loadConfig({ TIES_OUTBOUND_RETRY_MAX_MS: '400' }, []).outboundRetryMaxMs, 400);
});

test("SQLite's page cache is a store setting in MiB, from 8 MiB to 64 GiB", () => {
  assert.ok(STORE_KEYS.includes('sqliteCacheMb'));
  assert.equal(DEFAULT_CONFIG.sqliteCacheMb, 32);
  assert.equal(loadConfig({ TIES_SQLITE_CACHE_MB: '2048' }, []).sqliteCacheMb, 2048);
  assert.equal(
    readSettings(STORE_KEYS, { TIES_SQLITE_CACHE_MB: '64' }, { 'sqlite-cache-mb': '512' }).sqliteCacheMb,
    512,
  );
  assert.throws(
    () => loadConfig({ TIES_SQLITE_CACHE_MB: '4' }, []),
    /TIES_SQLITE_CACHE_MB: expected 8 to 65536, got 4/,
  );
  assert.throws(
    () => loadConfig({}, ['--sqlite-cache-mb', '1g']),
    /--sqlite-cache-mb: expected an integer, got "1g"/,
  );
});

test('commands that open the store read only the store settings', () => {
  const store = readSettings(STORE_KEYS, { TIES_DB: '/tmp/x.db', TIES_PORT: 'not read' }, {});
  assert.equal(store.db, '/tmp/x.db');
  assert.deepEqual(Object.keys(store).sort(), [...STORE_KEYS].sort());
  assert.ok(STORE_KEYS.includes('db'));
});

test('no source file but config.ts reads a setting from process.env', () => {
  const envNames = new Set(SETTING_KEYS.map((k) => SETTINGS[k].env));
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && path !== join('src', 'config.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/process\.env(?:\.|\[['"])(TIES_\w+)/g)) {
          if (envNames.has(m[1]!)) offenders.push(`${path}: ${m[1]}`);
        }
      }
    }
  };
  walk('src');
  assert.deepEqual(offenders, []);
});
