// Turns a request's bytes and Content-Type into the parameters object (SPEC §1): JSON, XML or sniffed.
import { TiesError } from '../../core/errors.js';
import { bodyText } from './charset.js';
import { decodeJson } from './json-codec.js';
import { decodeXml } from './xml-codec.js';

export type BodyFormat = 'json' | 'xml';

export interface BodyDecodeOptions {
  readonly maxDepth: number;
}

export interface DecodedBody {
  readonly format: BodyFormat;
  readonly value: unknown;
}

/** What the Content-Type says: a format, 'sniff' (the body's first character decides) or unsupported. */
type Declared = BodyFormat | 'sniff' | 'unsupported';

// Types that carry no format of their own: what curl -d and naive clients send.
const SNIFFED_TYPES = new Set(['', 'application/x-www-form-urlencoded', 'text/plain']);

export function decodeBody(
  raw: Buffer | string | undefined,
  contentType: string | undefined,
  opts: BodyDecodeOptions,
): DecodedBody {
  const mediaType = mediaTypeOf(contentType);
  const declared = classify(mediaType);
  if (declared === 'unsupported') {
    throw new TiesError('UNSUPPORTED_MEDIA_TYPE', {
      reason: `${mediaType.slice(0, 100)} is not supported; send application/json or application/xml`,
    });
  }
  const text = toText(raw, contentType, declared !== 'json');
  const first = firstNonBlank(text);
  if (first === -1) return { format: declared === 'xml' ? 'xml' : 'json', value: {} };

  let format: BodyFormat;
  if (declared === 'sniff') {
    const c = text.charCodeAt(first);
    if (c === 0x7b /* { */) format = 'json';
    else if (c === 0x3c /* < */) format = 'xml';
    else throw new TiesError('UNSUPPORTED_MEDIA_TYPE', { reason: 'body must be JSON or XML' });
  } else {
    format = declared;
  }

  if (format === 'xml') {
    // An XML declaration must open the document; blank lines a client put before it are forgiven.
    const doc = first > 0 && text.startsWith('<?xml', first) ? text.slice(first) : text;
    return { format, value: decodeXml(doc, opts) };
  }
  const value = decodeJson(text, opts);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TiesError('BAD_BODY', { reason: 'top level must be an object' });
  }
  return { format, value };
}

/** The request's format as far as it can be told without decoding; for answering a body that failed. */
export function sniffFormat(
  raw: Buffer | string | undefined,
  contentType: string | undefined,
): BodyFormat | undefined {
  try {
    const declared = classify(mediaTypeOf(contentType));
    if (declared === 'json' || declared === 'xml') return declared;
    if (declared === 'unsupported') return undefined;
    // Only the start of the body matters; a partial decode of a huge buffer is enough.
    const head =
      typeof raw === 'string'
        ? raw.slice(0, 1024)
        : raw
          ? bodyText(raw.subarray(0, 1024), contentType, true)
          : '';
    const text = stripBom(head);
    const first = firstNonBlank(text);
    if (first === -1) return undefined;
    const c = text.charCodeAt(first);
    return c === 0x7b ? 'json' : c === 0x3c ? 'xml' : undefined;
  } catch {
    return undefined;
  }
}

function mediaTypeOf(contentType: string | undefined): string {
  if (typeof contentType !== 'string') return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function classify(mediaType: string): Declared {
  if (SNIFFED_TYPES.has(mediaType)) return 'sniff';
  if (mediaType === 'application/json' || (mediaType.endsWith('+json') && mediaType.includes('/')))
    return 'json';
  if (
    mediaType === 'application/xml' ||
    mediaType === 'text/xml' ||
    (mediaType.endsWith('+xml') && mediaType.includes('/'))
  ) {
    return 'xml';
  }
  return 'unsupported';
}

function toText(
  raw: Buffer | string | undefined,
  contentType: string | undefined,
  mayBeXml: boolean,
): string {
  if (raw === undefined) return '';
  // Decoded by its declared charset (charset.ts); invalid sequences become U+FFFD.
  return stripBom(typeof raw === 'string' ? raw : bodyText(raw, contentType, mayBeXml));
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function firstNonBlank(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
  }
  return -1;
}
