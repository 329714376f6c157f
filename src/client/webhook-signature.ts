// Signing and checking webhook requests (issue #16), the one implementation: the server's sender
// signs with it and receivers verify with it (exported from `ties/client`). As Stripe does: the
// header `Ties-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; the
// timestamp is signed so a captured request cannot be replayed later than the tolerance. Web
// Crypto (globalThis.crypto.subtle), so the client keeps no dependency and runs in browsers too.

export const SIGNATURE_HEADER = 'ties-signature';
/** How old a signature verifyWebhookSignature accepts by default (seconds), as Stripe's default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const utf8 = new TextEncoder();

async function hmacHex(secret: string, timestamp: number, body: string | Uint8Array): Promise<string> {
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    utf8.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const prefix = utf8.encode(`${timestamp}.`);
  const content = typeof body === 'string' ? utf8.encode(body) : body;
  const message = new Uint8Array(prefix.length + content.length);
  message.set(prefix, 0);
  message.set(content, prefix.length);
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, message));
  let hex = '';
  for (const byte of mac) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Compares two strings of equal length in time independent of where they differ. */
function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The Ties-Signature header value for a body sent at `timestamp` (unix seconds). */
export async function signWebhookBody(
  secret: string,
  body: string | Uint8Array,
  timestamp: number,
): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex(secret, timestamp, body)}`;
}

export interface VerifyOptions {
  /** The raw request body exactly as received (not re-serialised JSON). */
  readonly body: string | Uint8Array;
  /** The Ties-Signature header. */
  readonly header: string | readonly string[] | null | undefined;
  readonly secret: string;
  /** Oldest signature accepted, in seconds (default 300); 0 turns the age check off. */
  readonly toleranceSeconds?: number | undefined;
  /** Unix seconds now (tests). */
  readonly now?: number | undefined;
}

/**
 * True when the header carries a v1 signature of this body under this secret, made within the
 * tolerance. Constant-time comparison; several v1 entries (a secret being rotated) are each tried.
 */
export async function verifyWebhookSignature(options: VerifyOptions): Promise<boolean> {
  const header = typeof options.header === 'string' ? options.header : options.header?.[0];
  if (typeof header !== 'string') return false;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (tolerance > 0 && Math.abs(now - timestamp) > tolerance) return false;
  const expected = await hmacHex(options.secret, timestamp, options.body);
  let ok = false;
  for (const s of signatures) ok = constantTimeEqual(s, expected) || ok;
  return ok;
}
