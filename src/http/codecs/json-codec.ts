// JSON request bodies in and answers out, refusing malformed or too deeply nested input as BAD_BODY.
import { TiesError } from '../../core/errors.js';
import { JsonText } from '../../core/json-text.js';

export interface JsonDecodeOptions {
  /** Deepest nesting of objects and arrays accepted; the top-level object is level 1. */
  readonly maxDepth: number;
}

// Error texts reach clients; V8's messages can quote a slice of the input, so keep them short.
const MAX_REASON_LENGTH = 120;

export function decodeJson(text: string, opts: JsonDecodeOptions): unknown {
  // Scanned before parsing so that a hostile body is refused without building its nested values.
  checkDepth(text, opts.maxDepth);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TiesError('BAD_BODY', { reason: `malformed JSON: ${shortReason(err)}` });
  }
}

export function encodeJson(value: unknown): string {
  if (hasJsonText(value)) return spliceJsonText(value);
  // JSON.stringify answers undefined (not a string) for undefined and functions.
  return JSON.stringify(value) ?? 'null';
}

/** Whether an envelope holds a field already written as JSON text (relations/get's rows). */
function hasJsonText(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const key in value) if ((value as Record<string, unknown>)[key] instanceof JsonText) return true;
  return false;
}

/**
 * The envelope's fields in order, as JSON.stringify writes them, with JsonText fields spliced in
 * as they are rather than parsed and written again. Only top-level fields are spliced; JsonText
 * deeper down still encodes correctly, through its toJSON.
 */
function spliceJsonText(envelope: Record<string, unknown>): string {
  let text = '{';
  for (const key of Object.keys(envelope)) {
    const field = envelope[key];
    const encoded = field instanceof JsonText ? field.text : JSON.stringify(field);
    // Like JSON.stringify, fields whose value has no JSON form (undefined, functions) are left out.
    if (encoded === undefined) continue;
    text += `${text === '{' ? '' : ','}${JSON.stringify(key)}:${encoded}`;
  }
  return `${text}}`;
}

/** One pass over the text counting brackets outside strings: no recursion, so no stack to overflow. */
function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string; an unterminated one just runs to the end and JSON.parse reports it.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) {
        throw new TiesError('BAD_BODY', { reason: `nesting deeper than ${maxDepth} levels` });
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
}

function shortReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being removed
  const clean = message.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim() || 'unreadable';
  return clean.length > MAX_REASON_LENGTH ? `${clean.slice(0, MAX_REASON_LENGTH - 1)}…` : clean;
}
