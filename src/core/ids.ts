// Profile ids (24 lowercase hex: 4-byte creation time + 8 random bytes, like a MongoDB ObjectId)
// and `_xxh`, the XXH64 (seed 0) of the id string, as Altcraft computes it.
import { randomBytes } from 'node:crypto';
import xxhash from 'xxhash-wasm';

// xxhash-wasm compiles its WebAssembly module once; every hash after that is synchronous.
const hasher = await xxhash();

export const PROFILE_ID_PATTERN = /^[0-9a-f]{24}$/;

export function newProfileId(nowMs: number = Date.now()): string {
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}

/** `_xxh` of a profile: 16 lowercase hex digits. */
export function profileXxh(id: string): string {
  return hasher.h64ToString(id);
}
