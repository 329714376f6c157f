// Helpers of the reliability suite: envelope checks for any answer, aggregates recomputed from rows
// through the public API, and a Ties server process (spawned from source) to kill and restart.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { decodeXml } from '../../src/http/codecs/xml-codec.js';
import { spawnTies, waitForOutput } from '../support/cli.js';

/** Calls the API and answers the decoded JSON envelope, whatever its error. */
export type CallFn = (name: string, params: Record<string, unknown>) => Promise<Record<string, any>>;

/** Every error a client may see from a call that is not the server's fault (SPEC §2). */
export const CLIENT_ERRORS: ReadonlySet<number> = new Set([400, 401, 403, 404, 409, 413, 415, 429]);

/** Texts an answer must never carry: stack frames, error class names, server file paths. */
const LEAK = /\bat [\w.<>]+ \(|\bat file:|\.ts:\d+|\.js:\d+|node:internal|Error:|\bstack\b|SQLITE_[A-Z]/;

export interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly raw: string;
}

/**
 * Asserts that an answer is a well-formed envelope in JSON or XML (as its content type says), that
 * its HTTP status mirrors `error`, that `error` is 0 or a client error (or one of `alsoAllowed`),
 * and that it leaks nothing.
 * Answers the decoded envelope and its format.
 */
export function assertEnvelope(
  answer: RawAnswer,
  context: string,
  /** Server-side errors expected here too (503 while the store is away). */
  alsoAllowed: readonly number[] = [],
): { body: Record<string, unknown>; format: 'json' | 'xml'; error: number } {
  const where = `${context}\n→ HTTP ${answer.status} ${answer.raw.slice(0, 400)}`;
  let format: 'json' | 'xml';
  let body: Record<string, unknown>;
  if (answer.contentType.startsWith('application/json')) {
    format = 'json';
    body = JSON.parse(answer.raw) as Record<string, unknown>;
  } else if (answer.contentType.startsWith('application/xml')) {
    format = 'xml';
    assert.ok(answer.raw.startsWith('<?xml'), `XML answer without a prolog: ${where}`);
    body = decodeXml(answer.raw, { maxDepth: 64 });
  } else {
    assert.fail(`answer is neither JSON nor XML (${answer.contentType}): ${where}`);
  }
  assert.ok(body !== null && typeof body === 'object' && !Array.isArray(body), `not an object: ${where}`);
  const error = Number(body.error);
  assert.ok(Number.isInteger(error), `no integer error: ${where}`);
  assert.equal(typeof body.error_text, 'string', `no error_text: ${where}`);
  assert.ok(
    error === 0 || CLIENT_ERRORS.has(error) || alsoAllowed.includes(error),
    `error ${error} is not 0 or a client error: ${where}`,
  );
  assert.equal(answer.status, error === 0 ? 200 : error, `HTTP status does not mirror error: ${where}`);
  if (error !== 0) assert.notEqual(body.error_text, '', `a failure names its problem: ${where}`);
  assert.doesNotMatch(answer.raw, LEAK, `the answer shows internals: ${where}`);
  return { body, format, error };
}

// --- aggregates ---------------------------------------------------------------------------------

interface TypeProperty {
  readonly name: string;
  readonly type: string;
  readonly top: number;
  readonly sum: boolean;
}

/** Relative tolerance for float sums: the store keeps a compensated sum, the check a naive one. */
const FLOAT_TOLERANCE = 1e-9;

function close(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= FLOAT_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

/**
 * An int sum is exact (it may pass 2^53 although each value is safe), then rounded as JSON.parse
 * rounds the store's exact answer; a float sum is added up plainly (compared with a tolerance).
 */
function sumOf(type: string, values: readonly { value: number }[]): number {
  if (type === 'int') return Number(values.reduce((s, v) => s + BigInt(v.value), 0n));
  return values.reduce((s, v) => s + v.value, 0);
}

/**
 * Asserts that get_counter of each profile A equals a recomputation from its relations/get rows:
 * total, per-property counts, sums and top N (descending, ties by profile id). Answers the number
 * of relations seen.
 */
export async function assertAggregatesMatchRows(
  call: CallFn,
  relId: number,
  profiles: readonly string[],
  options: {
    /**
     * A maintained float sum carries an absolute error of about 2^-52 × the largest magnitude it has
     * held, so after hostile magnitudes (1e308) only its finiteness can be checked: 'finite'.
     */
    readonly floatSums?: 'close' | 'finite';
  } = {},
): Promise<number> {
  const typeAnswer = await call('relations/types/get', { rel_id: relId });
  assert.equal(typeAnswer.error, 0, JSON.stringify(typeAnswer));
  const props = new Map<string, TypeProperty>(
    (typeAnswer.data.properties as TypeProperty[]).map((p) => [p.name, p]),
  );
  let relations = 0;
  for (const a of profiles) {
    const rows = await call('relations/get', { rel_id: relId, profile_id: a });
    const counter = await call('relations/get_counter', { rel_id: relId, profile_id: a });
    if (rows.error === 404 && counter.error === 404) continue; // the profile was deleted
    assert.equal(rows.error, 0, JSON.stringify(rows));
    assert.equal(counter.error, 0, JSON.stringify(counter));
    const data = rows.data as { profile_id_b: string; props: Record<string, { value: unknown }> }[];
    relations += data.length;
    assert.equal(rows.total_count, data.length, `total_count of ${a}`);
    assert.equal(counter.data.total, data.length, `get_counter total of ${a}`);

    const expected: Record<string, unknown> = {};
    for (const [name, def] of props) {
      const having = data.filter((r) => Object.hasOwn(r.props, name));
      if (having.length === 0) continue;
      const numeric = def.type === 'int' || def.type === 'float';
      const values = having.map((r) => ({
        profile_id: r.profile_id_b,
        value: r.props[name]!.value as number,
      }));
      expected[name] = {
        total: having.length,
        sum: numeric && def.sum ? sumOf(def.type, values) : null,
        top:
          numeric && def.top > 0
            ? values
                .sort((x, y) => y.value - x.value || (x.profile_id < y.profile_id ? -1 : 1))
                .slice(0, def.top)
            : null,
      };
    }
    const actual = counter.data.props as Record<string, { total: number; sum: number | null; top: unknown }>;
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `properties of ${a}`);
    for (const [name, want] of Object.entries(expected) as [string, { sum: number | null }][]) {
      const got = actual[name]!;
      const sum = got.sum;
      if (want.sum !== null && sum !== null && props.get(name)!.type === 'float') {
        if (options.floatSums === 'finite') assert.ok(Number.isFinite(sum), `sum of ${name} of ${a}: ${sum}`);
        else assert.ok(close(sum, want.sum), `sum of ${name} of ${a}: ${sum} != ${want.sum}`);
        assert.deepEqual({ ...got, sum: 0 }, { ...want, sum: 0 }, `${name} of ${a}`);
      } else {
        assert.deepEqual(got, want, `${name} of ${a}`);
      }
    }
  }
  return relations;
}

// --- calls over the network -----------------------------------------------------------------------

/** A CallFn over real HTTP (fetch, keep-alive), JSON in and out. */
export function httpCaller(url: string, token: string): CallFn {
  return async (name, params) => {
    const res = await fetch(`${url}/api/v1.1/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, ...params }),
    });
    return (await res.json()) as Record<string, any>;
  };
}

// --- a server process -----------------------------------------------------------------------------

export interface TiesProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process printed on standard error. */
  stderr(): string;
  /**
   * Sends the signal unless one was sent already (a second SIGTERM would end the drain at once, as
   * a second Ctrl-C does), then resolves with the exit code (null when ended by a signal).
   */
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `ties serve` from source (tsx) on a free port: the same command users run, without a build
 * step that might be stale. Resolves once it listens.
 */
export async function startTiesProcess(db: string, env: Record<string, string> = {}): Promise<TiesProcess> {
  const child = spawnTies(['serve', '--port', '0', '--db', db], { TIES_LOG_LEVEL: 'warn', ...env });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let out: string;
  try {
    out = await waitForOutput(child, /listening on (http:\/\/\S+)/, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`ties serve did not start: ${String(err)}\n${stderr}`);
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
  return {
    child,
    url,
    stderr: () => stderr,
    async stop(signal) {
      if (!child.killed && child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, sig] = await exited;
      return { code, signal: sig };
    },
  };
}
