// In-process HTTP test harness: a Ties app on a fresh store, an admin token, and a `call` helper
// that sends a call as JSON or XML and decodes the answer.
import type { FastifyInstance } from 'fastify';
import type { ChangeFeedOptions } from '../../src/core/change-feed.js';
import { createTies, type Ties } from '../../src/core/ties.js';
import { type AppConfig, buildApp } from '../../src/http/app.js';
import { decodeXml } from '../../src/http/codecs/xml-codec.js';
import { type TestEngine, testEngines } from './engines.js';

export type Format = 'json' | 'xml';

export interface Answer {
  readonly status: number;
  /** The decoded envelope (XML values are strings, as XML carries only text). */
  readonly body: Record<string, any>;
  readonly raw: string;
  readonly contentType: string;
}

export interface CallOptions {
  readonly format?: Format;
  /** Token to send in the body; defaults to the admin token; null sends none. */
  readonly token?: string | null;
  readonly headers?: Record<string, string>;
  readonly query?: string;
}

export interface Harness {
  readonly app: FastifyInstance;
  readonly ties: Ties;
  readonly admin: string;
  call(name: string, params: Record<string, unknown>, options?: CallOptions): Promise<Answer>;
  /** Sends a raw body with the given content type. */
  send(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<Answer>;
  close(): Promise<void>;
}

export const TEST_APP_CONFIG: AppConfig = {
  bodyLimit: 1_048_576,
  maxDepth: 32,
  httpStatus: 'mirror',
  rateLimit: 0,
  logLevel: 'silent',
};

/** Writes request parameters as Altcraft XML: arrays as repeated elements, null as nil. */
export function toXml(params: Record<string, unknown>): string {
  const element = (name: string, value: unknown): string => {
    if (value === undefined) return '';
    if (value === null) return `<${name} nil="true"/>`;
    if (Array.isArray(value))
      return value.length ? value.map((v) => element(name, v)).join('') : `<${name}/>`;
    if (typeof value === 'object') {
      return `<${name}>${Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => element(k, v))
        .join('')}</${name}>`;
    }
    const text = String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return `<${name}>${text}</${name}>`;
  };
  return `<?xml version="1.0" encoding="UTF-8"?>${element('xml', params)}`;
}

function decode(raw: string, contentType: string): Record<string, any> {
  if (contentType.includes('xml')) return decodeXml(raw, { maxDepth: 64 }) as Record<string, any>;
  return JSON.parse(raw) as Record<string, any>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export async function startHarness(
  options: {
    engine?: TestEngine;
    config?: Partial<AppConfig>;
    logStream?: NodeJS.WritableStream;
    maxGetRows?: number;
    feed?: ChangeFeedOptions;
  } = {},
): Promise<Harness> {
  const engine = options.engine ?? testEngines()[0]!;
  const { store, cleanup } = await engine.open();
  const ties = createTies({
    store,
    ...(options.maxGetRows ? { maxGetRows: options.maxGetRows } : {}),
    ...(options.feed ? { feed: options.feed } : {}),
  });
  await ties.access.ensureAdminToken(ADMIN_TOKEN);
  const app = await buildApp({
    ties,
    config: { ...TEST_APP_CONFIG, ...options.config },
    ...(options.logStream ? { logStream: options.logStream } : {}),
  });
  await app.ready();

  const send = async (
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<Answer> => {
    const res = await app.inject({ method: 'POST', url: path, payload: body, headers });
    const contentType = String(res.headers['content-type'] ?? '');
    return { status: res.statusCode, raw: res.body, contentType, body: decode(res.body, contentType) };
  };

  return {
    app,
    ties,
    admin: ADMIN_TOKEN,
    send,
    call(name, params, callOptions = {}) {
      const format = callOptions.format ?? 'json';
      const token = callOptions.token === undefined ? ADMIN_TOKEN : callOptions.token;
      const withToken = token === null ? params : { token, ...params };
      const body = format === 'xml' ? toXml(withToken) : JSON.stringify(withToken);
      const contentType = format === 'xml' ? 'application/xml' : 'application/json';
      return send(`/api/v1.1/${name}${callOptions.query ?? ''}`, body, {
        'content-type': contentType,
        ...callOptions.headers,
      });
    },
    async close() {
      await app.close();
      await ties.access.flushTouches();
      await cleanup();
    },
  };
}
