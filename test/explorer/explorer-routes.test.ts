// How Ties serves the Explorer, without a browser: the page at / with its security headers, its
// assets, Cytoscape from node_modules (that one file only), and a clear answer when it is not built;
// the built assets compressed (precompressed .br / .gz) and the API never.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { explorerRoutes } from '../../src/http/explorer-routes.js';
import { ensureExplorerBuilt } from '../support/browser.js';
import { startHarness } from '../support/harness.js';

let dir: string;
let app: FastifyInstance;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ties-explorer-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Ties Explorer</title>');
  writeFileSync(join(dir, 'explorer.css'), 'body{}');
  app = Fastify();
  explorerRoutes(app, { dir });
  await app.ready();
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

test('/ answers the page with a content security policy that allows only Ties itself', async () => {
  const res = await app.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.match(res.body, /Ties Explorer/);
  const csp = String(res.headers['content-security-policy']);
  for (const directive of [
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
  ])
    assert.ok(csp.includes(directive), `${directive} in ${csp}`);
  assert.equal(res.headers['referrer-policy'], 'no-referrer');
});

test('the assets and Cytoscape are served by Ties; nothing else of node_modules is', async () => {
  const css = await app.inject({ method: 'GET', url: '/explorer/explorer.css' });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
  // Assets change with every build: the browser revalidates them; Cytoscape is pinned by the lock.
  assert.equal(css.headers['cache-control'], 'no-cache');
  assert.equal(css.headers['x-content-type-options'], 'nosniff');
  const cytoscape = await app.inject({ method: 'GET', url: '/vendor/cytoscape.min.js' });
  assert.equal(cytoscape.statusCode, 200);
  assert.match(String(cytoscape.headers['content-type']), /javascript/);
  assert.match(cytoscape.body, /cytoscape/i);
  assert.equal(cytoscape.headers['cache-control'], 'public, max-age=86400');
  for (const url of [
    '/vendor/cytoscape.cjs.js',
    '/vendor/../package.json',
    '/explorer/../index.html',
    '/explorer/missing.js',
  ])
    assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
});

test('without a build, / says how to build it instead of failing obscurely', async () => {
  const bare = Fastify();
  explorerRoutes(bare, { dir: join(dir, 'nothing-here') });
  const res = await bare.inject({ method: 'GET', url: '/' });
  assert.equal(res.statusCode, 503);
  assert.match(res.body, /npm run build/);
  await bare.close();
});

test('the Ties app serves the Explorer at / and keeps the API docs at /docs', async () => {
  const h = await startHarness();
  try {
    const page = await h.app.inject({ method: 'GET', url: '/' });
    assert.notEqual(page.statusCode, 302, '/ no longer redirects to /docs');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal((await h.app.inject({ method: 'GET', url: '/vendor/cytoscape.min.js' })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'GET', url: '/docs' })).statusCode, 200);
  } finally {
    await h.close();
  }
});

test('the built assets go compressed (brotli, gzip) when asked for, with Vary; API answers never', async () => {
  ensureExplorerBuilt();
  const built = Fastify();
  explorerRoutes(built);
  try {
    for (const url of [
      '/vendor/cytoscape.min.js',
      '/explorer/explorer-main.js',
      '/explorer/explorer.css',
      '/',
    ]) {
      const plain = await built.inject({ method: 'GET', url });
      assert.equal(plain.statusCode, 200, url);
      assert.equal(plain.headers['content-encoding'], undefined, `${url} without Accept-Encoding`);
      assert.match(String(plain.headers.vary), /accept-encoding/i, `${url}: Vary`);
      for (const [accept, encoding, decode] of [
        ['br, gzip', 'br', brotliDecompressSync],
        ['gzip', 'gzip', gunzipSync],
      ] as const) {
        const res = await built.inject({ method: 'GET', url, headers: { 'accept-encoding': accept } });
        assert.equal(res.statusCode, 200, url);
        assert.equal(res.headers['content-encoding'], encoding, `${url} with ${accept}`);
        assert.match(String(res.headers.vary), /accept-encoding/i);
        assert.equal(
          res.headers['content-type'],
          plain.headers['content-type'],
          'the type of the file, not of .br',
        );
        assert.ok(
          res.rawPayload.length < plain.rawPayload.length / 2,
          `${url}: ${res.rawPayload.length} bytes`,
        );
        assert.deepEqual(decode(res.rawPayload), plain.rawPayload, `${url} decodes to the file`);
      }
    }
  } finally {
    await built.close();
  }
  // Altcraft clients read answers as sent: the API is never compressed, whatever they accept.
  const h = await startHarness();
  try {
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1.1/relations/types/list',
      headers: { 'accept-encoding': 'br, gzip', 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(typeof res.json().error, 'number');
  } finally {
    await h.close();
  }
});
