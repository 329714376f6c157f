// The client's failure handling against real servers: retry with backoff on 503 (a fault injected
// on the real store) and 429 (the rate limit), off by default; always200 servers; and transport
// failures (refused, timeout, abort, not a Ties answer) told apart from API errors.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TiesApiError, TiesClient, TiesTransportError } from '../../src/client/index.js';
import { type ClientServer, startClientServer } from './client-server.js';

/** A fetch that counts what it sends before handing it to the real one. */
function countingFetch(): { fetch: typeof fetch; sends: () => number } {
  let sends = 0;
  return {
    fetch: ((input, init) => {
      sends++;
      return fetch(input, init);
    }) as typeof fetch,
    sends: () => sends,
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

/** A plain HTTP server (not Ties) answering every request with `handler`. */
async function rawServer(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('retry on a real server', { concurrency: true }, () => {
  let ties: ClientServer;
  let limited: ClientServer;
  let rel: number;
  let a: string;
  const ids: Record<string, string> = {};

  before(async () => {
    [ties, limited] = await Promise.all([startClientServer(), startClientServer({ rateLimit: 1 })]);
    const admin = new TiesClient({ baseUrl: ties.url, token: ties.admin });
    const db = (await admin.databases.create({ name: 'people' })).data.id;
    rel = (
      await admin.relations.types.create({
        name: 'follows',
        db_a: db,
        db_b: db,
        properties: [{ name: 'n', type: 'int' }],
      })
    ).data.rel_id;
    a = (await admin.profiles.add({ db_id: db, data: { email: 'a@example.com' } })).profile_id;
    for (const email of ['b@example.com', 'c@example.com', 'd@example.com'])
      ids[email] = (await admin.profiles.add({ db_id: db, data: { email } })).profile_id;
  });
  after(() => Promise.all([ties.close(), limited.close()]));

  const attach = (client: TiesClient, email: string) =>
    client.relations.attach({
      rel_id: rel,
      profile_a: { profile_id: a },
      profile_b: { email },
      weights: { n: 1 },
    });
  const relationsOfA = async () =>
    (
      await new TiesClient({ baseUrl: ties.url, token: ties.admin }).relations.get({
        rel_id: rel,
        profile_id: a,
      })
    ).data;

  // The 503 tests share the store's fault switch, so they run one after the other; the 429 test,
  // on its own server, runs beside them.
  describe('503 from the store', { concurrency: 1 }, () => {
    test('503 is thrown at once when retry is off (the default), and nothing was written', async () => {
      const counted = countingFetch();
      const client = new TiesClient({ baseUrl: ties.url, token: ties.admin, fetch: counted.fetch });
      ties.failNext('attach', 1);
      const err = await failure(attach(client, 'b@example.com'));
      assert.ok(err instanceof TiesApiError);
      assert.equal(err.code, 503);
      assert.equal(err.status, 503);
      assert.match(err.errorText, /^store unavailable: injected fault/);
      assert.equal(err.attempts, 1);
      assert.equal(counted.sends(), 1);
      const rows = await relationsOfA();
      assert.ok(
        !rows.some((r) => r.profile_id_b === ids['b@example.com']),
        'the failed call changed nothing',
      );
    });

    test('503 then success: the call is sent again after the backoff and applied once', async () => {
      const counted = countingFetch();
      const client = new TiesClient({
        baseUrl: ties.url,
        token: ties.admin,
        fetch: counted.fetch,
        retry: { attempts: 3, baseDelayMs: 10 },
      });
      ties.failNext('attach', 1);
      const answer = await attach(client, 'c@example.com');
      assert.equal(answer.error, 0);
      assert.equal(counted.sends(), 2);
      const rows = (await relationsOfA()).filter((r) => r.profile_id_b === ids['c@example.com']);
      assert.deepEqual(
        rows.map((r) => r.props),
        [{ n: { value: 1 } }],
        'one relation, written once',
      );
    });

    test('a Retry-After longer than maxDelayMs ends the retries with the 503', async () => {
      const counted = countingFetch();
      const client = new TiesClient({
        baseUrl: ties.url,
        token: ties.admin,
        fetch: counted.fetch,
        retry: { attempts: 5, maxDelayMs: 500 },
      });
      ties.failNext('attach', 1);
      const err = await failure(attach(client, 'd@example.com'));
      assert.ok(err instanceof TiesApiError);
      assert.equal(err.code, 503);
      assert.equal(counted.sends(), 1, 'Ties asks for 1 s, the client allows 0.5 s');
    });
  });

  test('429 from the rate limit is retried after Retry-After, then succeeds', async () => {
    const counted = countingFetch();
    const client = new TiesClient({
      baseUrl: limited.url,
      token: limited.admin,
      fetch: counted.fetch,
      retry: { attempts: 3, baseDelayMs: 10 },
    });
    const plain = new TiesClient({ baseUrl: limited.url, token: limited.admin });
    await plain.relations.types.list();
    const limitedErr = await failure(plain.relations.types.list());
    assert.ok(limitedErr instanceof TiesApiError);
    assert.equal(limitedErr.code, 429);
    assert.equal(limitedErr.param, 'token');
    // The bucket is empty now: the first send is refused, the one after Retry-After passes.
    const answer = await client.relations.types.list();
    assert.deepEqual(answer.data, []);
    assert.equal(counted.sends(), 2);
  });
});

describe('retry policy with an injected fetch', () => {
  const refusing = (code: number, headers: Record<string, string> = {}) => {
    let sends = 0;
    const fetchFn = (async () => {
      sends++;
      return new Response(
        JSON.stringify({ error: code, error_text: 'store unavailable: down; retry later' }),
        {
          status: code,
          headers: { 'content-type': 'application/json', 'x-request-id': `req-${sends}`, ...headers },
        },
      );
    }) as typeof fetch;
    return { fetchFn, sends: () => sends };
  };

  test('gives up after `attempts` sends and reports how many were made', async () => {
    const { fetchFn, sends } = refusing(503);
    const client = new TiesClient({
      baseUrl: 'http://ties.test',
      fetch: fetchFn,
      retry: { attempts: 3, baseDelayMs: 1 },
    });
    const err = await failure(client.tokens.list());
    assert.ok(err instanceof TiesApiError);
    assert.equal(err.attempts, 3);
    assert.equal(err.requestId, 'req-3');
    assert.equal(sends(), 3);
  });

  test('other errors are never retried', async () => {
    const { fetchFn, sends } = refusing(409);
    const client = new TiesClient({ baseUrl: 'http://ties.test', fetch: fetchFn, retry: true });
    assert.ok((await failure(client.tokens.list())) instanceof TiesApiError);
    assert.equal(sends(), 1);
  });

  test('aborting during the wait between sends stops at once', async () => {
    const { fetchFn, sends } = refusing(503, { 'retry-after': '3' });
    const client = new TiesClient({
      baseUrl: 'http://ties.test',
      fetch: fetchFn,
      retry: { maxDelayMs: 10_000 },
    });
    const controller = new AbortController();
    const pending = failure(client.tokens.list(undefined, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    const err = await pending;
    assert.ok(err instanceof TiesTransportError);
    assert.equal(err.kind, 'aborted');
    assert.equal(sends(), 1);
  });

  test('the token travels as a Bearer header, never in the body; a base path is kept', async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const client = new TiesClient({
      baseUrl: 'https://gateway.test/ties',
      token: 'secret-token',
      headers: { 'x-tenant': 't1' },
      fetch: (async (url: string, init: RequestInit) => {
        seen = { url, init };
        return new Response('{"error":0,"error_text":"","data":{"id":7}}');
      }) as unknown as typeof fetch,
    });
    assert.deepEqual((await client.tokens.revoke({ id: 7 })).data, { id: 7 });
    assert.equal(seen!.url, 'https://gateway.test/ties/api/v1.1/tokens/revoke');
    const headers = seen!.init.headers as Record<string, string>;
    assert.equal(headers.authorization, 'Bearer secret-token');
    assert.equal(headers['x-tenant'], 't1');
    assert.equal(seen!.init.body, '{"id":7}');
  });
});

test('fetch is called as a plain function, as a browser requires (no `this` but the global)', async () => {
  // Browsers throw "Illegal invocation" when window.fetch runs with any other `this`.
  const seenThis: unknown[] = [];
  const strictFetch = function (this: unknown) {
    seenThis.push(this);
    return Promise.resolve(new Response('{"error":0,"error_text":"","data":{"id":7}}'));
  } as unknown as typeof fetch;
  const client = new TiesClient({ baseUrl: 'http://ties.test', fetch: strictFetch });
  await client.tokens.revoke({ id: 7 });
  assert.deepEqual(seenThis, [undefined]);
});

describe('errors and transport failures', () => {
  test('an always200 server: HTTP 200, still a TiesApiError with the envelope code', async () => {
    const server = await startClientServer({ httpStatus: 'always200' });
    try {
      const client = new TiesClient({ baseUrl: server.url, token: server.admin });
      const err = await failure(client.relations.types.get({ rel_id: 99 }));
      assert.ok(err instanceof TiesApiError);
      assert.equal(err.code, 404);
      assert.equal(err.status, 200);
      assert.equal(err.param, 'rel_id');
      assert.ok(err.requestId);
    } finally {
      await server.close();
    }
  });

  test('connection refused is a network TiesTransportError', async () => {
    const { url, server } = await rawServer(() => {});
    await new Promise((resolve) => server.close(resolve));
    const err = await failure(new TiesClient({ baseUrl: url }).tokens.list());
    assert.ok(err instanceof TiesTransportError);
    assert.equal(err.kind, 'network');
    assert.match(err.message, /ECONNREFUSED/);
  });

  test('no answer within timeoutMs is a timeout; the caller aborting is aborted', async () => {
    const { url, server } = await rawServer(() => {}); // never answers
    try {
      const slow = await failure(new TiesClient({ baseUrl: url, timeoutMs: 100 }).tokens.list());
      assert.ok(slow instanceof TiesTransportError);
      assert.equal(slow.kind, 'timeout');
      const controller = new AbortController();
      const pending = failure(
        new TiesClient({ baseUrl: url }).tokens.list({}, { signal: controller.signal }),
      );
      setTimeout(() => controller.abort(), 20);
      const aborted = await pending;
      assert.ok(aborted instanceof TiesTransportError);
      assert.equal(aborted.kind, 'aborted');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an answer that is not a Ties envelope is bad_response with its status', async () => {
    const { url, server } = await rawServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    });
    try {
      const err = await failure(new TiesClient({ baseUrl: url, retry: true }).relations.types.list());
      assert.ok(err instanceof TiesTransportError);
      assert.equal(err.kind, 'bad_response');
      assert.equal(err.status, 502);
      assert.ok(!(err instanceof TiesApiError));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
