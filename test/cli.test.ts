// The `ties` command as a user runs it: help, token create, serve with the demo, and clean stops.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createTies } from '../src/core/ties.js';
import { openStore } from '../src/store/open-store.js';
import { runTies, spawnTies, waitForOutput } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ties command', () => {
  test('--help prints the usage and exits 0; an unknown command exits 2', async () => {
    const help = await runTies(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /ties serve/);
    assert.match(help.stdout, /ties token create/);
    const unknown = await runTies(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  test('token create mints a working token with the given rights, shown once', async () => {
    const db = join(dir, 'tokens.db');
    const result = await runTies(['token', 'create', '--rights', 'read,write', '--name', 'crm', '--db', db]);
    assert.equal(result.code, 0, result.stderr);
    const token = /\n(ties_\S+)\n/.exec(result.stdout)?.[1];
    assert.ok(token, result.stdout);
    const ties = createTies({ store: await openStore(db) });
    try {
      const record = await ties.access.authorize(token, 'write', 'relations/attach');
      assert.deepEqual(record.rights, ['read', 'write']);
      await assert.rejects(ties.access.authorize(token, 'admin', 'tokens/list'), { code: 'FORBIDDEN' });
      const listed = await ties.access.list();
      assert.equal(JSON.stringify(listed).includes(token), false, 'tokens/list never shows the token');
    } finally {
      await ties.close();
    }
  });

  test('token create and import take their store from the store settings: TIES_DB, then --db', async () => {
    const fromEnv = join(dir, 'env.db');
    const result = await runTies(['token', 'create', '--rights', 'read'], { TIES_DB: fromEnv });
    assert.equal(result.code, 0, result.stderr);
    const token = /\n(ties_\S+)\n/.exec(result.stdout)![1]!;
    const ties = createTies({ store: await openStore(fromEnv) });
    try {
      assert.deepEqual((await ties.access.authorize(token, 'read', 'relations/get')).rights, ['read']);
    } finally {
      await ties.close();
    }
    const badSetting = await runTies(['token', 'create', '--rights', 'read', '--pg-pool-max', '0'], {
      TIES_DB: fromEnv,
    });
    assert.equal(badSetting.code, 2);
    assert.match(badSetting.stderr, /ties token create: --pg-pool-max: expected 1 to 1000, got 0/);
    const badEnv = await runTies(['import', 'relations', 'x.csv', '--rel-id', '1'], {
      TIES_SQLITE_WRITER: 'threads',
    });
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /ties import: TIES_SQLITE_WRITER: expected one of inline, worker/);
  });

  test('each command lists its settings in --help', async () => {
    const serve = await runTies(['serve', '--help']);
    assert.equal(serve.code, 0);
    assert.match(serve.stdout, /--body-limit BYTES +TIES_BODY_LIMIT \(default 1048576\)/);
    assert.match(serve.stdout, /\(environment only\) +TIES_ADMIN_TOKEN/);
    for (const args of [
      ['token', 'create', '--help'],
      ['import', '--help'],
    ]) {
      const help = await runTies(args);
      assert.equal(help.code, 0, args.join(' '));
      assert.match(help.stdout, /--db PATH\|URL +TIES_DB \(default \.\/data\/ties\.db\)/);
      assert.match(help.stdout, /--sqlite-writer WRITER +TIES_SQLITE_WRITER/);
      assert.doesNotMatch(help.stdout, /TIES_PORT/, 'serve-only settings are not listed');
    }
  });

  test('token create refuses an unknown right and a missing --rights with exit 2', async () => {
    const bad = await runTies(['token', 'create', '--rights', 'read,root', '--db', join(dir, 'bad.db')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /rights\[1\]: expected one of read, write, delete, admin/);
    const missing = await runTies(['token', 'create', '--db', join(dir, 'bad.db')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--rights is required/);
  });

  test('serve refuses a bad setting with exit 2 and names it', async () => {
    const result = await runTies(['serve', '--port', 'eighty', '--db', join(dir, 'x.db')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /port: expected an integer/);
    const env = await runTies(['serve', '--db', join(dir, 'x.db')], { TIES_HTTP_STATUS: 'sometimes' });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /TIES_HTTP_STATUS: expected one of mirror, always200/);
  });

  test('serve --demo prints a working demo token and curl command; the seed attach works; SIGTERM exits 0', async () => {
    const db = join(dir, 'demo.db');
    const child = spawnTies(['serve', '--demo', '--port', '0', '--db', db], { TIES_LOG_LEVEL: 'warn' });
    const out = await waitForOutput(child, /curl -s .*\n/);
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    const curl = /-d '(\{.*\})'/.exec(out)?.[1];
    assert.ok(url && curl, out);
    assert.match(out, /Demo workspace loaded/);
    const res = await fetch(`${url}/api/v1.1/relations/attach`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: curl,
    });
    assert.deepEqual(await res.json(), {
      error: 0,
      error_text: '',
      profile_a: '5d63dbdb439e7306b596c5d0',
      profile_b: '5d441038439e7363f3c26539',
      relation_id: 3,
    });
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    assert.equal(code, 0);

    // A second demo start keeps the data and replaces the token: the old one stops working.
    const again = spawnTies(['serve', '--demo', '--port', '0', '--db', db], { TIES_LOG_LEVEL: 'warn' });
    const out2 = await waitForOutput(again, /curl -s .*\n/);
    assert.match(out2, /Demo workspace present/);
    const url2 = /listening on (http:\/\/\S+)/.exec(out2)![1];
    const duplicate = await fetch(`${url2}/api/v1.1/relations/attach`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: /-d '(\{.*\})'/.exec(out2)![1],
    });
    assert.equal(
      ((await duplicate.json()) as { error: number }).error,
      409,
      'the relation from the first start is still there',
    );
    const stale = await fetch(`${url2}/api/v1.1/relations/attach`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: curl,
    });
    assert.equal(
      ((await stale.json()) as { error: number }).error,
      401,
      'the earlier demo token was replaced',
    );
    again.kill('SIGTERM');
    assert.equal((await once(again, 'close'))[0], 0);
  });
});
