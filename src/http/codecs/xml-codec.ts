// XML request bodies in and answers out, in the Altcraft shape of SPEC §1 (root <xml>, repeated elements, nil="true").
import { XMLValidator } from 'fast-xml-parser';
import { TiesError } from '../../core/errors.js';
import { JsonText } from '../../core/json-text.js';

export interface XmlDecodeOptions {
  /**
   * Deepest element nesting accepted below the root: the root's children are level 1, so a document
   * holds as deep a structure as a JSON body with the same limit.
   */
  readonly maxDepth: number;
}

const MAX_REASON_LENGTH = 200;
// Requests only ever carry nil="…"; a cap keeps attribute-flooding bodies from reaching the validator.
const MAX_ATTRIBUTES = 64;

const DECLARATION = /<!(?:DOCTYPE|ENTITY)/i;
// Characters XML 1.0 forbids anywhere in a document (lone surrogates cannot come out of a UTF-8 decode).
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters refused
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const NON_BLANK = /[^ \t\r\n]/;
const ENTITY_REF = /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_:][\w.:-]*)?(;?)/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Decodes an `<xml>` document into plain objects, arrays, strings and nulls; the root's children form
 * the returned object. Values stay text: types come later from the endpoint's schema.
 */
export function decodeXml(text: string, opts: XmlDecodeOptions): Record<string, unknown> {
  // The cheap refusals run before any parser sees the text, so hostile bodies cost one linear scan.
  if (DECLARATION.test(text)) fail('DOCTYPE and entity declarations are not allowed');
  prescan(text, opts.maxDepth);
  const forbidden = text.search(FORBIDDEN_CHAR);
  if (forbidden !== -1) {
    const code = text.charCodeAt(forbidden).toString(16).toUpperCase().padStart(4, '0');
    fail(`character U+${code} is not allowed in XML (line ${lineOf(text, forbidden)})`);
  }
  const verdict = XMLValidator.validate(text);
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    fail(`malformed XML: ${msg} (line ${line}, column ${col})`);
  }
  return build(text, opts.maxDepth);
}

function fail(reason: string): never {
  const short = reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
  throw new TiesError('BAD_BODY', { reason: short });
}

function lineOf(text: string, pos: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

function tooDeep(maxDepth: number): never {
  fail(`nesting deeper than ${maxDepth} levels`);
}

const isBlankCode = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * Finds the root's name and the nesting depth with indexOf jumps and no recursion, tolerating any
 * malformation (the validator reports those): a 10,000-deep or unclosed document stops here.
 */
function prescan(text: string, maxDepth: number): void {
  const n = text.length;
  let open = 0;
  let rootSeen = false;
  let i = text.indexOf('<');
  while (i !== -1) {
    const c = text.charCodeAt(i + 1);
    let next: number;
    if (c === 0x21 /* ! */) {
      if (text.startsWith('<!--', i)) next = skipPast(text, '-->', i + 4);
      else if (text.startsWith('<![CDATA[', i)) next = skipPast(text, ']]>', i + 9);
      else next = i + 2;
    } else if (c === 0x3f /* ? */) {
      next = skipPast(text, '?>', i + 2);
    } else if (c === 0x2f /* / */) {
      open--;
      next = skipPast(text, '>', i + 2);
    } else {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x3e /* > */ || d === 0x2f || isBlankCode(d)) break;
        j++;
      }
      if (!rootSeen) {
        rootSeen = true;
        if (text.slice(i + 1, j) !== 'xml') fail('root element must be <xml>');
      }
      // Walk to the tag's end, stepping over quoted attribute values (they may hold '>').
      let attributes = 0;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x22 || d === 0x27) {
          if (++attributes > MAX_ATTRIBUTES) fail(`more than ${MAX_ATTRIBUTES} attributes on one element`);
          const close = text.indexOf(d === 0x22 ? '"' : "'", j + 1);
          j = close === -1 ? n : close + 1;
        } else if (d === 0x3e || d === 0x3c) {
          break;
        } else {
          j++;
        }
      }
      const selfClosing = text.charCodeAt(j) === 0x3e && text.charCodeAt(j - 1) === 0x2f;
      // The root is level 0: its children are the body's fields.
      if (open > maxDepth) tooDeep(maxDepth);
      if (!selfClosing) open++;
      next = text.charCodeAt(j) === 0x3e ? j + 1 : j;
    }
    i = next >= n ? -1 : text.indexOf('<', next);
  }
}

function skipPast(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at === -1 ? text.length : at + marker.length;
}

interface Frame {
  readonly name: string;
  readonly start: number;
  readonly nil: boolean;
  /** Set once the first child element appears. */
  obj: Record<string, unknown> | undefined;
  text: string;
  /** Text that is not indentation: non-blank characters, CDATA or references. */
  significant: boolean;
}

/** Builds the value from a document the validator accepted, still checking what it does not. */
function build(text: string, maxDepth: number): Record<string, unknown> {
  const n = text.length;
  const stack: Frame[] = [];
  let root: unknown;
  let rootDone = false;
  let i = 0;

  const mixed = (frame: Frame): never =>
    fail(`element <${frame.name}> mixes text and child elements (line ${lineOf(text, frame.start)})`);

  const addText = (start: number, end: number): void => {
    let seg = text.slice(start, end);
    const frame = stack[stack.length - 1];
    const hasRef = seg.includes('&');
    const significant = hasRef || NON_BLANK.test(seg);
    if (!frame) {
      if (significant) fail(`text outside the root element (line ${lineOf(text, start)})`);
      return;
    }
    if (frame.obj) {
      if (significant) mixed(frame);
      return;
    }
    if (significant) frame.significant = true;
    if (seg.includes('\r')) seg = seg.replace(/\r\n?/g, '\n');
    if (hasRef) seg = decodeReferences(seg, text, start);
    frame.text += seg;
  };

  const close = (frame: Frame): void => {
    let value: unknown;
    if (frame.nil) {
      if (frame.obj || frame.significant) {
        fail(`element <${frame.name}> has nil="true" and content (line ${lineOf(text, frame.start)})`);
      }
      value = null;
    } else if (frame.obj) {
      value = frame.obj;
    } else {
      // Blank text in a leaf is indentation around nothing: an empty element.
      value = frame.significant ? frame.text : '';
    }
    const parent = stack[stack.length - 1];
    if (!parent) {
      root = value;
      rootDone = true;
      return;
    }
    const obj = parent.obj as Record<string, unknown>;
    if (Object.hasOwn(obj, frame.name)) {
      const existing = obj[frame.name];
      if (Array.isArray(existing)) existing.push(value);
      else setOwn(obj, frame.name, [existing, value]);
    } else {
      setOwn(obj, frame.name, value);
    }
  };

  while (i < n) {
    const lt = text.indexOf('<', i);
    const end = lt === -1 ? n : lt;
    if (end > i) addText(i, end);
    if (lt === -1) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 0x21 /* ! */) {
      if (text.startsWith('<!--', lt)) {
        i = closeOf(text, '-->', lt + 4, 'comment');
      } else if (text.startsWith('<![CDATA[', lt)) {
        const endAt = text.indexOf(']]>', lt + 9);
        if (endAt === -1) fail(`unclosed CDATA section (line ${lineOf(text, lt)})`);
        const frame = stack[stack.length - 1];
        if (!frame) fail(`CDATA outside the root element (line ${lineOf(text, lt)})`);
        if (frame.obj) mixed(frame);
        frame.significant = true;
        frame.text += text.slice(lt + 9, endAt).replace(/\r\n?/g, '\n');
        i = endAt + 3;
      } else {
        fail(`unexpected "<!" (line ${lineOf(text, lt)})`);
      }
    } else if (c === 0x3f /* ? */) {
      i = closeOf(text, '?>', lt + 2, 'processing instruction');
    } else if (c === 0x2f /* / */) {
      const gt = text.indexOf('>', lt + 2);
      if (gt === -1) fail(`unclosed end tag (line ${lineOf(text, lt)})`);
      const name = text.slice(lt + 2, gt).trim();
      const frame = stack.pop();
      if (!frame || frame.name !== name) fail(`unexpected end tag </${name}> (line ${lineOf(text, lt)})`);
      close(frame);
      i = gt + 1;
    } else {
      i = openTag(lt);
    }
  }
  const unclosed = stack[stack.length - 1];
  if (unclosed) fail(`element <${unclosed.name}> is not closed (line ${lineOf(text, unclosed.start)})`);
  if (!rootDone) fail('no root element');
  if (root === '') return {};
  if (root === null || typeof root !== 'object') fail('top level must be an object');
  return root as Record<string, unknown>;

  function openTag(lt: number): number {
    let j = lt + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 0x3e || d === 0x2f || isBlankCode(d)) break;
      j++;
    }
    const name = text.slice(lt + 1, j);
    if (name === '') fail(`missing element name (line ${lineOf(text, lt)})`);
    if (rootDone) fail(`more than one root element (line ${lineOf(text, lt)})`);
    const parent = stack[stack.length - 1];
    if (!parent && name !== 'xml') fail('root element must be <xml>');
    if (stack.length > maxDepth) tooDeep(maxDepth);
    let nil = false;
    let selfClosing = false;
    for (;;) {
      while (j < n && isBlankCode(text.charCodeAt(j))) j++;
      if (j >= n) fail(`unclosed tag <${name}> (line ${lineOf(text, lt)})`);
      const d = text.charCodeAt(j);
      if (d === 0x3e) {
        j++;
        break;
      }
      if (d === 0x2f) {
        if (text.charCodeAt(j + 1) !== 0x3e) fail(`malformed tag <${name}> (line ${lineOf(text, lt)})`);
        j += 2;
        selfClosing = true;
        break;
      }
      const attrStart = j;
      while (j < n) {
        const e = text.charCodeAt(j);
        if (e === 0x3d || e === 0x3e || e === 0x2f || isBlankCode(e)) break;
        j++;
      }
      const attr = text.slice(attrStart, j);
      while (j < n && isBlankCode(text.charCodeAt(j))) j++;
      if (attr === '' || text[j] !== '=') fail(`malformed attribute in <${name}> (line ${lineOf(text, lt)})`);
      j++;
      while (j < n && isBlankCode(text.charCodeAt(j))) j++;
      const q = text[j];
      if (q !== '"' && q !== "'") fail(`unquoted attribute value in <${name}> (line ${lineOf(text, lt)})`);
      const valueEnd = text.indexOf(q, j + 1);
      if (valueEnd === -1) fail(`unclosed attribute value in <${name}> (line ${lineOf(text, lt)})`);
      let value = text.slice(j + 1, valueEnd);
      if (value.includes('<')) fail(`"<" in an attribute value of <${name}> (line ${lineOf(text, lt)})`);
      if (value.includes('&')) value = decodeReferences(value, text, j);
      // xsi:nil and other prefixed spellings are the same null marker.
      if (attr === 'nil' || attr.endsWith(':nil')) {
        const flag = value.trim();
        nil = flag === 'true' || flag === '1';
      }
      j = valueEnd + 1;
    }
    if (parent) {
      if (parent.significant) mixed(parent);
      if (!parent.obj) {
        parent.obj = {};
        parent.text = '';
      }
    }
    const frame: Frame = { name, start: lt, nil, obj: undefined, text: '', significant: false };
    if (selfClosing) close(frame);
    else stack.push(frame);
    return j;
  }
}

function closeOf(text: string, marker: string, from: number, what: string): number {
  const at = text.indexOf(marker, from);
  if (at === -1) fail(`unclosed ${what} (line ${lineOf(text, from)})`);
  return at + marker.length;
}

/** Assigns an own data property even for `__proto__`, which plain assignment would treat as the prototype. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Replaces the five predefined entities and character references; anything else is refused. */
function decodeReferences(seg: string, text: string, pos: number): string {
  return seg.replace(ENTITY_REF, (whole, ref: string | undefined, semicolon: string) => {
    if (ref === undefined || semicolon === '') {
      fail(`"&" must start an entity reference such as &amp; (line ${lineOf(text, pos)})`);
    }
    if (ref.charCodeAt(0) === 0x23 /* # */) {
      const hex = ref.charCodeAt(1) === 0x78;
      const digits = ref.slice(hex ? 2 : 1);
      const cp = digits.length > 8 ? -1 : Number.parseInt(digits, hex ? 16 : 10);
      if (!isXmlChar(cp))
        fail(`character reference ${whole.slice(0, 20)} is not allowed (line ${lineOf(text, pos)})`);
      return String.fromCodePoint(cp);
    }
    const replacement = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
    if (replacement === undefined) {
      fail(`unknown entity &${ref.slice(0, 40)}; (line ${lineOf(text, pos)})`);
    }
    return replacement;
  });
}

// --- encoding ----------------------------------------------------------------------------------

// The ASCII subset of XML names, without ':' (namespaces): all our keys fit it.
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that need escaping or replacing
const NEEDS_ESCAPE = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/;
const ESCAPE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that need escaping or replacing
  /[&<>\r]|[\uD800-\uDBFF][\uDC00-\uDFFF]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF\uD800-\uDFFF]/g;
const BLANK_ONLY = /^[ \t\r\n]+$/;

export const XML_PROLOG = '<?xml version="1.0" encoding="UTF-8"?>';

/** Encodes an answer as `<xml>…</xml>`; the inverse of decodeXml up to the text-only nature of XML. */
export function encodeXml(value: Record<string, unknown>): string {
  const out: string[] = [XML_PROLOG, '<xml>'];
  for (const key of Object.keys(value)) encodeField(out, key, value[key]);
  out.push('</xml>');
  return out.join('');
}

/**
 * Whether a value maps onto Altcraft's XML shape: every key a valid element name and no array
 * directly inside an array. A `json` profile field may hold anything; such a value is answered
 * as JSON text in one element instead (docs/decisions.md).
 */
function representable(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > 64) return false;
  if (Array.isArray(value))
    return value.every((item) => !Array.isArray(item) && representable(item, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  const record = value as Record<string, unknown>;
  return Object.keys(record).every((key) => XML_NAME.test(key) && representable(record[key], depth + 1));
}

function encodeField(out: string[], name: string, field: unknown): void {
  // A value written as JSON text (relations/get's rows) is read back: XML answers the same values.
  const value = field instanceof JsonText ? field.value() : field;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return;
  if (!XML_NAME.test(name)) {
    throw new Error(`encodeXml: ${JSON.stringify(name).slice(0, 80)} is not a valid XML element name`);
  }
  if (!representable(value)) {
    out.push(`<${name}>${escapeText(JSON.stringify(value))}</${name}>`);
    return;
  }
  if (!Array.isArray(value)) {
    encodeElement(out, name, value);
    return;
  }
  // An empty array still says the field is there: one empty element.
  if (value.length === 0) {
    out.push(`<${name}/>`);
    return;
  }
  for (const item of value) {
    if (Array.isArray(item))
      throw new Error(`encodeXml: ${name} holds an array of arrays, which XML cannot repeat`);
    encodeElement(out, name, item === undefined ? null : item);
  }
}

function encodeElement(out: string[], name: string, value: unknown): void {
  switch (typeof value) {
    case 'string':
      out.push(value === '' ? `<${name}/>` : `<${name}>${escapeText(value)}</${name}>`);
      return;
    case 'number':
      // Like JSON.stringify, which writes NaN and Infinity as null.
      out.push(Number.isFinite(value) ? `<${name}>${String(value)}</${name}>` : `<${name} nil="true"/>`);
      return;
    case 'bigint':
      out.push(`<${name}>${String(value)}</${name}>`);
      return;
    case 'boolean':
      out.push(`<${name}>${value ? 'true' : 'false'}</${name}>`);
      return;
    case 'object': {
      if (value === null) {
        out.push(`<${name} nil="true"/>`);
        return;
      }
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') {
        encodeElement(out, name, toJSON.call(value));
        return;
      }
      const record = value as Record<string, unknown>;
      out.push(`<${name}>`);
      const before = out.length;
      for (const key of Object.keys(record)) encodeField(out, key, record[key]);
      if (out.length === before) out[before - 1] = `<${name}/>`;
      else out.push(`</${name}>`);
      return;
    }
    default:
      out.push(`<${name} nil="true"/>`);
  }
}

function escapeText(s: string): string {
  // Blank text would decode as an empty element, so it is written as references, which decode as written.
  if (BLANK_ONLY.test(s)) {
    let refs = '';
    for (let i = 0; i < s.length; i++) refs += `&#${s.charCodeAt(i)};`;
    return refs;
  }
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(ESCAPE, (ch) => {
    switch (ch) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '\r':
        // A raw CR would be read back as a line feed.
        return '&#13;';
      default:
        // A valid surrogate pair stays; anything XML 1.0 cannot carry becomes U+FFFD.
        return ch.length === 2 ? ch : '\uFFFD';
    }
  });
}
