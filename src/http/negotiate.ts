// Chooses the answer format (SPEC §1): an explicit format parameter, then Accept, then the request's format.
import type { BodyFormat } from './codecs/body-decoder.js';

export interface AnswerFormatInput {
  /** The format the body was decoded from; undefined when it could not be told. */
  readonly requestFormat: BodyFormat | undefined;
  /** The body's `format` parameter, as decoded (anything). */
  readonly bodyFormat: unknown;
  /** The query string's `format` parameter, as parsed (anything). */
  readonly queryFormat: unknown;
  readonly accept: string | undefined;
}

// Headers are bounded by the server, but a cap keeps a silly one from costing more than it should.
const MAX_ACCEPT_RANGES = 64;

export function answerFormat(input: AnswerFormatInput): BodyFormat {
  const explicit = formatParam(input.bodyFormat) ?? formatParam(input.queryFormat);
  if (explicit) return explicit;
  const fallback = input.requestFormat === 'xml' ? 'xml' : 'json';
  return typeof input.accept === 'string' ? fromAccept(input.accept, fallback) : fallback;
}

function formatParam(value: unknown): BodyFormat | undefined {
  // A repeated query parameter arrives as an array; the first usable one counts.
  if (Array.isArray(value)) {
    for (const item of value) {
      const format = formatParam(typeof item === 'string' ? item : undefined);
      if (format) return format;
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  return v === 'json' || v === 'xml' ? v : undefined;
}

/**
 * Each format's quality is that of the most specific range matching it (exact type over `type/*` over
 * `*\/*`). Only an exact mention of JSON or XML can override the request's format: wildcards alone
 * say the client takes anything, and a tie keeps the request's format.
 */
function fromAccept(accept: string, fallback: BodyFormat): BodyFormat {
  const json = { exact: -1, type: -1, any: -1 };
  const xml = { exact: -1, type: -1, any: -1 };
  const ranges = accept.split(',', MAX_ACCEPT_RANGES);
  for (const range of ranges) {
    const parts = range.split(';');
    const mediaType = (parts[0] ?? '').trim().toLowerCase();
    const q = quality(parts);
    if (q === undefined) continue;
    switch (mediaType) {
      case 'application/json':
        json.exact = Math.max(json.exact, q);
        break;
      case 'application/xml':
      case 'text/xml':
        xml.exact = Math.max(xml.exact, q);
        break;
      case 'application/*':
        json.type = Math.max(json.type, q);
        xml.type = Math.max(xml.type, q);
        break;
      case 'text/*':
        xml.type = Math.max(xml.type, q);
        break;
      case '*/*':
        json.any = Math.max(json.any, q);
        xml.any = Math.max(xml.any, q);
        break;
    }
  }
  if (json.exact < 0 && xml.exact < 0) return fallback;
  const qJson = effective(json);
  const qXml = effective(xml);
  if (qJson > qXml) return 'json';
  if (qXml > qJson) return 'xml';
  return fallback;
}

function effective(q: { exact: number; type: number; any: number }): number {
  if (q.exact >= 0) return q.exact;
  if (q.type >= 0) return q.type;
  return Math.max(q.any, 0);
}

/** The range's q parameter (1 when absent); undefined for an unreadable one, which drops the range. */
function quality(parts: readonly string[]): number | undefined {
  for (let i = 1; i < parts.length; i++) {
    const param = (parts[i] ?? '').trim();
    if (param.length < 2 || (param[0] !== 'q' && param[0] !== 'Q') || param[1] !== '=') continue;
    const value = param.slice(2).trim();
    if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) return undefined;
    return Number(value);
  }
  return 1;
}
