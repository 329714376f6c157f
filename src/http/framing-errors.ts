// Answers to requests refused before any route runs — by Node's HTTP parser (bad Content-Length,
// bad header line, Content-Length with Transfer-Encoding, headers too large, too slow) or by
// Fastify's router (a malformed %-escape in the path) — as envelopes like every other answer
// (SPEC §2), in JSON unless the request asked for XML. Nothing of the request is echoed or logged:
// its bytes hold the token (Authorization header, ?token=).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { HttpStatusMode } from '../config.js';
import { TiesError } from '../core/errors.js';
import type { BodyFormat } from './codecs/body-decoder.js';
import { encodeAnswer, errorEnvelope, httpStatusOf } from './envelope.js';
import { answerFormat } from './negotiate.js';

/** Node's default limit on a request's headers (http.maxHeaderSize). */
const MAX_HEADER_BYTES = 16_384;

/** What each of llhttp's error codes means, in words a client can act on. */
const PARSE_ERRORS: Readonly<Record<string, string>> = {
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a number',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length together with Transfer-Encoding',
  HPE_INVALID_TRANSFER_ENCODING: 'invalid Transfer-Encoding',
  HPE_INVALID_CHUNK_SIZE: 'invalid chunk size',
  HPE_INVALID_HEADER_TOKEN: 'malformed header line',
  HPE_INVALID_METHOD: 'unknown method',
  HPE_INVALID_URL: 'malformed URL',
  HPE_INVALID_VERSION: 'unsupported HTTP version',
  HPE_INVALID_CONSTANT: 'malformed request line',
  HPE_LF_EXPECTED: 'malformed line ending',
  HPE_CR_EXPECTED: 'malformed line ending',
};

/** The error a parser failure stands for. */
export function framingError(code: string | undefined): TiesError {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new TiesError('REQUEST_TIMEOUT', { reason: 'the headers or the body did not arrive in time' });
  if (code === 'HPE_HEADER_OVERFLOW') return new TiesError('HEADERS_TOO_LARGE', { limit: MAX_HEADER_BYTES });
  return new TiesError('BAD_REQUEST', { reason: PARSE_ERRORS[code ?? ''] ?? 'malformed HTTP request' });
}

/**
 * The answer format a request asked for, read from its raw head (the parser failed, so there are no
 * parsed headers): `format=` in the query, Accept, then a Content-Type of XML.
 */
export function formatOfRawRequest(raw: Buffer | undefined): BodyFormat {
  if (!raw) return 'json';
  const head = raw.subarray(0, MAX_HEADER_BYTES).toString('latin1');
  const lines = head.split(/\r?\n/);
  const target = lines[0]?.split(' ')[1] ?? '';
  const query = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '');
  const header = (name: string) =>
    lines
      .slice(1)
      .find((l) => l.toLowerCase().startsWith(`${name}:`))
      ?.slice(name.length + 1)
      .trim();
  const contentType = header('content-type')?.toLowerCase() ?? '';
  return answerFormat({
    requestFormat: /[/+]xml\b/.test(contentType) ? 'xml' : undefined,
    bodyFormat: undefined,
    queryFormat: query.get('format') ?? undefined,
    accept: header('accept'),
  });
}

/** Fastify's clientErrorHandler: the refusal as an envelope, then the connection closes. */
export function clientErrorHandler(mode: HttpStatusMode) {
  return function onClientError(
    this: { readonly log: FastifyBaseLogger },
    err: Error & { code?: string; rawPacket?: unknown },
    socket: Socket,
  ): void {
    // A reset connection has no one left to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const error = framingError(err.code);
    // The code only: the error's rawPacket holds the request's bytes, token included.
    this.log.debug({ code: err.code, status: error.status }, 'malformed request refused');
    if (socket.writable) {
      const format = formatOfRawRequest(Buffer.isBuffer(err.rawPacket) ? err.rawPacket : undefined);
      const body = encodeAnswer(format, errorEnvelope(error));
      const status = httpStatusOf(error.status, mode);
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/${format}; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      // A client that keeps sending never acknowledges the close; it gets a second to read the answer.
      setTimeout(() => socket.destroy(), 1_000).unref();
    } else socket.destroy();
  };
}
