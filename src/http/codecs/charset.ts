// Turns a body's bytes into text by the charset it declares: the Content-Type's `charset=`, else a
// byte order mark, else (XML) the declaration's `encoding=`, else UTF-8. Every charset the WHATWG
// Encoding Standard names is decoded (TextDecoder: windows-1251, KOI8-R, ISO-8859-x, UTF-16, …);
// any other is refused with 415 naming it, rather than guessed as UTF-8 and stored with U+FFFD.
import { TextDecoder } from 'node:util';
import { TiesError } from '../../core/errors.js';

/** The `charset` parameter of a Content-Type, lower case, or undefined. */
export function charsetOf(contentType: string | undefined): string | undefined {
  if (typeof contentType !== 'string') return undefined;
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(contentType);
  const value = (match?.[1] ?? match?.[2])?.trim().toLowerCase();
  return value === '' ? undefined : value;
}

/** UTF-16 told by its byte order mark, or by `<?` in either byte order (an XML declaration). */
function utf16Of(raw: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  if (raw.length < 2) return undefined;
  if (raw[0] === 0xff && raw[1] === 0xfe) return 'utf-16le';
  if (raw[0] === 0xfe && raw[1] === 0xff) return 'utf-16be';
  if (raw.length >= 4) {
    if (raw[0] === 0x3c && raw[1] === 0 && raw[2] === 0x3f && raw[3] === 0) return 'utf-16le';
    if (raw[0] === 0 && raw[1] === 0x3c && raw[2] === 0 && raw[3] === 0x3f) return 'utf-16be';
  }
  return undefined;
}

/** The `encoding` of an XML declaration at the start of ASCII-compatible bytes. */
function xmlDeclaredEncoding(raw: Buffer): string | undefined {
  const start = raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0;
  const head = raw.subarray(start, start + 200).toString('latin1');
  if (!head.startsWith('<?xml')) return undefined;
  const end = head.indexOf('?>');
  const declaration = end === -1 ? head : head.slice(0, end);
  return /\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(declaration)?.[1]?.toLowerCase();
}

function decoderFor(label: string): TextDecoder {
  try {
    return new TextDecoder(label);
  } catch {
    throw new TiesError('UNSUPPORTED_MEDIA_TYPE', {
      reason: `charset "${label.slice(0, 40)}" is not supported; send UTF-8 (or a charset of the WHATWG Encoding Standard, e.g. windows-1251, koi8-r, utf-16)`,
    });
  }
}

/**
 * The body's text. `xml` says the body may be XML, whose declaration can name its encoding. A BOM
 * is dropped; bytes invalid in their charset become U+FFFD (as UTF-8 always did).
 */
export function bodyText(raw: Buffer, contentType: string | undefined, xml: boolean): string {
  const declared = charsetOf(contentType);
  const label = declared ?? utf16Of(raw) ?? (xml ? xmlDeclaredEncoding(raw) : undefined) ?? 'utf-8';
  if (label === 'utf-8' || label === 'utf8') return raw.toString('utf8');
  return decoderFor(label).decode(raw);
}
