// The one logger of a running server (pino, JSON lines): server.ts creates it, Fastify logs through
// it, and the store gets a child of it. Its serializers decide what of a request or an error may
// reach a log line: never headers, never a token, never a request's raw bytes.
import type { FastifyRequest } from 'fastify';
import pino from 'pino';
import type { LogLevel } from '../config.js';
import { redactUrl } from './token.js';

export type Logger = pino.Logger;

/**
 * An error as a log line shows it: class, code, message and stack, and the cause the same way.
 * Never its other fields: Node's HTTP parser puts the request's raw bytes (Authorization header,
 * `?token=`) in `rawPacket`, and drivers add what they like.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return typeof err === 'object' ? '[non-error object]' : String(err);
  const out: Record<string, unknown> = { type: err.name, message: redactText(err.message) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (err.stack) out.stack = redactText(err.stack);
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Masks what looks like a token in free text (a message may quote a URL or a header). */
export function redactText(text: string): string {
  return text
    .replace(/(bearer\s+)\S+/gi, '$1[redacted]')
    .replace(/ties_[A-Za-z0-9_-]{8,}/g, 'ties_[redacted]')
    .replace(
      /([?&](?:t|%74|%54)(?:o|%6f|%4f)(?:k|%6b|%4b)(?:e|%65|%45)(?:n|%6e|%4e)=)[^&\s"']*/gi,
      '$1[redacted]',
    );
}

export function createLogger(level: LogLevel, stream?: NodeJS.WritableStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    serializers: {
      // Only what helps an operator; never headers (Authorization) and never the query's token.
      req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
      err: serializeError,
      error: serializeError,
    },
  };
  return stream ? pino(options, stream as pino.DestinationStream) : pino(options);
}
