// TIES_ADMIN_TOKEN is one named token that each start makes match the variable (issue #12, item 2):
// a changed value replaces it (the old value stops working), a removed variable removes it, and
// tokens minted otherwise are untouched. On a SQLite file and on PostgreSQL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { dropSchema, freshSchemaName, PG_URL } from '../support/pg-engine.js';

const dir = mkdtempSync(join(tmpdir(), 'ties-admin-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FIRST = 'first-admin-token-0123456789';
const SECOND = 'second-admin-token-0123456789';

function serve(db: string, adminToken?: string): Promise<RunningServer> {
  const env: Record<string, string> = { TIES_DB: db, TIES_LOG_LEVEL: 'silent', TIES_PORT: '0' };
  if (adminToken) env.TIES_ADMIN_TOKEN = adminToken;
  return startServer(loadConfig(env, []));
}

async function call(
  server: RunningServer,
  token: string,
  name: string,
  params: Record<string, unknown> = {},
) {
  const res = await fetch(`${server.url}/api/v1.1/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(params),
  });
  return (await res.json()) as Record<string, any>;
}

const engines: { name: string; db: () => string; cleanup: () => Promise<void> }[] = [
  { name: 'sqlite', db: () => join(dir, 'admin.db'), cleanup: async () => undefined },
];
if (PG_URL) {
  const schema = freshSchemaName();
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  engines.push({ name: 'postgres', db: () => url.toString(), cleanup: () => dropSchema(schema) });
}

for (const engine of engines) {
  describe(engine.name, () => {
    after(() => engine.cleanup());

    test('a new value replaces the old one; no variable removes it; other tokens stay', async () => {
      const db = engine.db();
      let other: string;
      let server = await serve(db, FIRST);
      try {
        assert.equal((await call(server, FIRST, 'tokens/list')).error, 0);
        other = (await call(server, FIRST, 'tokens/create', { name: 'crm', rights: ['read'] })).data.token;
      } finally {
        await server.close();
      }

      server = await serve(db, SECOND);
      try {
        assert.equal((await call(server, FIRST, 'tokens/list')).error, 401, 'the old value stopped working');
        const listed = await call(server, SECOND, 'tokens/list');
        assert.equal(listed.error, 0);
        const names = (listed.data as { name: string }[]).map((t) => t.name).sort();
        assert.deepEqual(names, ['admin (TIES_ADMIN_TOKEN)', 'crm'], 'one environment token');
        assert.equal((await call(server, other, 'tokens/list')).error, 403, 'the minted token is untouched');
      } finally {
        await server.close();
      }

      // The same value again keeps its token (same id).
      const idOf = async (s: RunningServer) =>
        ((await call(s, SECOND, 'tokens/list')).data as { id: number; name: string }[]).find(
          (t) => t.name === 'admin (TIES_ADMIN_TOKEN)',
        )?.id;
      server = await serve(db, SECOND);
      let id: number | undefined;
      try {
        id = await idOf(server);
      } finally {
        await server.close();
      }
      server = await serve(db, SECOND);
      try {
        assert.equal(await idOf(server), id);
      } finally {
        await server.close();
      }

      server = await serve(db);
      try {
        assert.equal((await call(server, SECOND, 'tokens/list')).error, 401, 'no variable, no token');
        assert.equal((await call(server, other, 'relations/types/list')).error, 0);
      } finally {
        await server.close();
      }
    });
  });
}
