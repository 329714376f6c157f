// Shared helpers of the HTTP suite: format-aware expectations, success/failure assertions and a
// workspace built through the public API (admin calls only, never the store directly).
import assert from 'node:assert/strict';
import type { Answer, CallOptions, Format, Harness } from '../support/harness.js';

export const FORMATS: readonly Format[] = ['json', 'xml'];

/**
 * The value as an answer in `format` decodes to: JSON as is; XML as text, where an empty array or
 * object is '', a one-item array is its item (XML cannot tell them apart) and null stays null.
 */
export function as(format: Format, value: unknown): any {
  return format === 'json' ? value : asXml(value);
}

function asXml(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    if (value.length === 1) return asXml(value[0]);
    return value.map(asXml);
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '';
    return Object.fromEntries(entries.map(([k, v]) => [k, asXml(v)]));
  }
  return String(value);
}

/** An answer's list as an array, whatever the format made of it ('' or a lone item in XML). */
export function list(value: unknown): any[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === '' || value === null) return [];
  return [value];
}

/** An answer's object; an empty one is '' in XML. */
export function obj(value: unknown): Record<string, any> {
  if (value === '' || value === undefined) return {};
  assert.equal(typeof value, 'object', `expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, any>;
}

/** Texts an answer must never carry: stack frames, error class names, file paths of the server. */
export function assertNoLeak(answer: Answer): void {
  assert.doesNotMatch(answer.raw, /\bat [\w.<>]+ \(|\bat file:|\.ts:\d+|node:internal|Error:|\bstack\b/);
}

/** Calls and asserts success (error 0, HTTP 200); answers the decoded envelope. */
export async function ok(
  h: Harness,
  name: string,
  params: Record<string, unknown>,
  options: CallOptions = {},
): Promise<Record<string, any>> {
  const answer = await h.call(name, params, options);
  assert.equal(String(answer.body.error), '0', `${name} should succeed: ${answer.raw}`);
  assert.equal(answer.status, 200, `${name}: HTTP ${answer.status}`);
  assertNoLeak(answer);
  return answer.body;
}

/**
 * Calls and asserts failure with `error` (the HTTP status mirrors it); `mentions` must appear in
 * error_text (a string is matched literally).
 */
export async function refused(
  h: Harness,
  name: string,
  params: Record<string, unknown>,
  error: number,
  mentions?: string | RegExp,
  options: CallOptions = {},
): Promise<Answer> {
  const answer = await h.call(name, params, options);
  assertError(answer, error, mentions);
  return answer;
}

export function assertError(answer: Answer, error: number, mentions?: string | RegExp): void {
  assert.equal(String(answer.body.error), String(error), `expected error ${error}: ${answer.raw}`);
  assert.equal(answer.status, error, `HTTP status should mirror error: ${answer.raw}`);
  assert.equal(typeof answer.body.error_text, 'string');
  assert.notEqual(answer.body.error_text, '', 'a failure names its problem');
  if (typeof mentions === 'string') {
    assert.ok(
      answer.body.error_text.includes(mentions),
      `error_text should mention ${mentions}: ${answer.body.error_text}`,
    );
  } else if (mentions) {
    assert.match(answer.body.error_text, mentions);
  }
  assertNoLeak(answer);
}

/** The answer's format, from its content type. */
export function formatOf(answer: Answer): Format {
  if (answer.contentType.startsWith('application/xml')) return 'xml';
  assert.ok(answer.contentType.startsWith('application/json'), `content type ${answer.contentType}`);
  return 'json';
}

// --- workspace ---------------------------------------------------------------------------------

export const CUSTOM_FIELDS = [
  { name: 'crm', type: 'string' },
  { name: 'score', type: 'int' },
  { name: 'ratio', type: 'float' },
  { name: 'vip', type: 'bool' },
  { name: 'born', type: 'date' },
  { name: 'seen', type: 'datetime' },
  { name: 'interests', type: 'tags' },
  { name: 'meta', type: 'json' },
] as const;

/** Properties of the main relation type: every type, with and without aggregates. */
export const PROPERTIES = [
  { name: 'count', type: 'int', top: 3, sum: true },
  { name: 'amount', type: 'float', top: 2, sum: true },
  { name: 'active', type: 'bool' },
  { name: 'note', type: 'string' },
  { name: 'plain', type: 'int' },
] as const;

export interface Workspace {
  /** Database of profile A (recipients) and of profile B (initiators). */
  readonly dbA: number;
  readonly dbB: number;
  /** Resources with email and sms channels, open to both databases. */
  readonly res1: number;
  readonly res2: number;
  /** A ← B relation type with PROPERTIES. */
  readonly relId: number;
  /** B ← B relation type with one int property `n` (for self-relations). */
  readonly sameRel: number;
}

export async function adminCall(h: Harness, name: string, params: Record<string, unknown>) {
  return ok(h, name, params, { token: h.admin });
}

export async function createWorkspace(h: Harness): Promise<Workspace> {
  const db = async (name: string) =>
    (
      await adminCall(h, 'databases/create', {
        name,
        description: `${name} for tests`,
        fields: CUSTOM_FIELDS,
      })
    ).data.id as number;
  const dbA = await db('Recipients');
  const dbB = await db('Initiators');
  const resource = async (name: string) =>
    (await adminCall(h, 'resources/create', { name, channels: ['email', 'sms'], dbs_ids: [dbA, dbB] })).data
      .id as number;
  const res1 = await resource('News');
  const res2 = await resource('Offers');
  const relId = (
    await adminCall(h, 'relations/types/create', {
      name: 'likes',
      db_a: dbA,
      db_b: dbB,
      properties: PROPERTIES,
    })
  ).data.rel_id as number;
  const sameRel = (
    await adminCall(h, 'relations/types/create', {
      name: 'knows',
      db_a: dbB,
      db_b: dbB,
      properties: [{ name: 'n', type: 'int', sum: true }],
    })
  ).data.rel_id as number;
  return { dbA, dbB, res1, res2, relId, sameRel };
}

/** Adds a profile through profiles/add; answers its id. */
export async function addProfile(
  h: Harness,
  dbId: number,
  data: Record<string, unknown> = {},
): Promise<string> {
  const body = await adminCall(h, 'profiles/add', { db_id: dbId, data });
  assert.match(body.profile_id, /^[0-9a-f]{24}$/);
  return body.profile_id as string;
}

/** Adds `n` profiles with no fields; answers their ids sorted ascending. */
export async function addProfiles(h: Harness, dbId: number, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await addProfile(h, dbId));
  return ids.sort();
}

/** By-id identification of a side. */
export const byId = (profile_id: string) => ({ profile_id });

/** The JSON-typed counter of profile A (for before/after comparisons). */
export async function counterOf(h: Harness, relId: number, profileA: string) {
  return (await adminCall(h, 'relations/get_counter', { rel_id: relId, profile_id: profileA })).data;
}

/** The JSON-typed relations of profile A, all rows. */
export async function relationsOf(h: Harness, relId: number, profileA: string) {
  const body = await adminCall(h, 'relations/get', { rel_id: relId, profile_id: profileA });
  return { data: body.data as any[], total_count: body.total_count as number };
}

/** The weights of relation B → A as plain values, or undefined when there is none. */
export async function weightsOf(h: Harness, relId: number, a: string, b: string) {
  const { data } = await relationsOf(h, relId, a);
  const row = data.find((r) => r.profile_id_b === b);
  if (!row) return undefined;
  return Object.fromEntries(
    Object.entries(row.props as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]),
  );
}
