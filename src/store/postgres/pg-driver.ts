// node-postgres, loaded without making Node 20 load its bundled undici. pg's lib/stream.js asks at
// load whether it runs in a Cloudflare Worker: without a `navigator` global (Node 20 has none) it
// builds a `Response`, and Node's lazy `Response` getter loads undici (~15 ms of CPU at every start
// of `ties import` or `ties serve` on PostgreSQL, for a class Ties never uses). `Response` reads as
// undefined only while pg's modules run (a synchronous require: no other code runs meanwhile), so
// pg takes its Node sockets, as it would anyway, and the global is put back as it was.
import { createRequire } from 'node:module';
import type pg from 'pg';

function loadPg(): typeof pg {
  const require = createRequire(import.meta.url);
  const response = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  if (!response?.configurable) return require('pg');
  Object.defineProperty(globalThis, 'Response', { value: undefined, configurable: true, writable: true });
  try {
    return require('pg');
  } finally {
    Object.defineProperty(globalThis, 'Response', response);
  }
}

/** The `pg` module (its default export, as `import pg from 'pg'` gives it). */
export const pgDriver = loadPg();
