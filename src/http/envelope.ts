// Builds and sends answer envelopes (SPEC §2): success and error, JSON or XML, with the HTTP
// status mapped from the envelope's error code in one place.
import type { FastifyReply } from 'fastify';
import type { HttpStatusMode } from '../config.js';
import { ERROR_CATALOGUE, isTiesError, TiesError } from '../core/errors.js';
import type { BodyFormat } from './codecs/body-decoder.js';
import { encodeJson } from './codecs/json-codec.js';
import { encodeXml } from './codecs/xml-codec.js';

export interface Envelope {
  readonly error: number;
  readonly error_text: string;
  readonly [field: string]: unknown;
}

/** mirror: HTTP status = error (200 on success); always200: every envelope is HTTP 200. */
export function httpStatusOf(error: number, mode: HttpStatusMode): number {
  if (mode === 'always200' || error === 0) return 200;
  return error;
}

export function errorEnvelope(err: TiesError): Envelope {
  return { error: err.status, error_text: err.message };
}

const CONTENT_TYPES: Record<BodyFormat, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
};

export function encodeAnswer(format: BodyFormat, envelope: Envelope): string {
  return format === 'xml' ? encodeXml(envelope) : encodeJson(envelope);
}

export function sendEnvelope(
  reply: FastifyReply,
  format: BodyFormat,
  envelope: Envelope,
  mode: HttpStatusMode,
): FastifyReply {
  reply.code(httpStatusOf(envelope.error, mode)).header('content-type', CONTENT_TYPES[format]);
  // Clients that back off on 429/503 get a hint of how long.
  if (envelope.error === 429 || envelope.error === 503) reply.header('retry-after', '1');
  return reply.send(encodeAnswer(format, envelope));
}

/** Fastify's own errors (body limit, bad content length, …) as catalogue errors. */
export function fromFrameworkError(err: unknown, bodyLimit: number): TiesError | undefined {
  if (isTiesError(err)) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new TiesError('BODY_TOO_LARGE', { limit: bodyLimit });
  }
  if (e.statusCode === 415) return new TiesError('UNSUPPORTED_MEDIA_TYPE', { reason: 'not JSON or XML' });
  if (
    typeof e.statusCode === 'number' &&
    e.statusCode >= 400 &&
    e.statusCode < 500 &&
    typeof e.code === 'string'
  ) {
    // Fastify's client-error messages describe the request framing (lengths, encodings), never internals.
    const reason = typeof e.message === 'string' ? e.message.slice(0, 200) : 'unreadable request';
    return new TiesError('BAD_BODY', { reason });
  }
  return undefined;
}

export const ERROR_NUMBERS: ReadonlySet<number> = new Set(
  Object.values(ERROR_CATALOGUE).map((e) => e.status),
);
