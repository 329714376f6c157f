// Serves the Explorer web page at / : its compiled scripts and styles from dist/explorer, and
// Cytoscape from the installed package — nothing is fetched from the internet, so it works offline.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The package root, from src/http (tsx) and dist/http (built) alike. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where `npm run build` puts the Explorer (scripts/build-explorer.mjs). */
export const EXPLORER_DIR = join(PACKAGE_ROOT, 'dist', 'explorer');

/** The one Cytoscape file the page loads: the minified UMD build, which defines window.cytoscape. */
const CYTOSCAPE_FILE = 'cytoscape.min.js';

// The page holds a token: it may run only its own scripts, talk only to its own server, and never
// be framed. Styles allow inline because Cytoscape sizes its canvas through style attributes.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
  // The page may be sent compressed (below): caches must key it by the encoding asked for.
  vary: 'accept-encoding',
} as const;

/**
 * Options of @fastify/static for files sent with `cacheControl` and nosniff, compressed when the
 * build made .br / .gz copies and the browser accepts them (`preCompressed`: no compression work
 * per request, and only these static files — API answers are never compressed, as Altcraft
 * clients expect them plain). The plugin's own cache-control is off: it is set after setHeaders
 * and would overwrite ours; it sets no Vary, so ours says the answer depends on Accept-Encoding.
 */
function assetHeaders(cacheControl: string) {
  return {
    cacheControl: false,
    preCompressed: true,
    setHeaders: (res: { setHeader(name: string, value: string): unknown }) => {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', cacheControl);
      res.setHeader('vary', 'accept-encoding');
    },
  } as const;
}

/** Cytoscape's dist folder (its package exports only the module entry points, not package.json). */
function cytoscapeDist(): string {
  return dirname(createRequire(import.meta.url).resolve('cytoscape'));
}

export interface ExplorerOptions {
  /** The built Explorer (index.html, explorer.css, *.js); defaults to dist/explorer. */
  readonly dir?: string;
}

/**
 * Registers the Explorer's routes. Not awaited on purpose: awaiting a registration inside buildApp
 * would load the routes declared so far before the app sets its error handler, and they would
 * answer with Fastify's own error bodies instead of envelopes.
 */
export function explorerRoutes(app: FastifyInstance, options: ExplorerOptions = {}): void {
  const dir = options.dir ?? EXPLORER_DIR;
  const built = existsSync(join(dir, 'index.html'));
  // The build's copy of Cytoscape comes with compressed siblings; without a build, the package's own.
  const vendor = existsSync(join(dir, 'vendor', CYTOSCAPE_FILE)) ? join(dir, 'vendor') : cytoscapeDist();

  app.register(async (scope) => {
    // A path the file server refuses (NUL, `..`, a malformed name) names no file: the app's 404
    // envelope, nothing logged. Anything else (a file that cannot be read) goes to the app's handler.
    scope.setErrorHandler((err, _request, reply) => {
      const status =
        (err as { statusCode?: unknown; status?: unknown }).statusCode ??
        (err as { status?: unknown }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) return reply.callNotFound();
      throw err;
    });
    if (built) {
      await scope.register(fastifyStatic, {
        root: dir,
        prefix: '/explorer/',
        index: false,
        decorateReply: true,
        // Rebuilt assets keep their names: the browser revalidates them.
        ...assetHeaders('no-cache'),
      });
    }
    await scope.register(fastifyStatic, {
      root: vendor,
      prefix: '/vendor/',
      decorateReply: !built,
      index: false,
      wildcard: false,
      allowedPath: (path) => path === `/${CYTOSCAPE_FILE}`,
      // Pinned by the lockfile: changes only with an upgrade.
      ...assetHeaders('public, max-age=86400'),
    });

    scope.get('/', { schema: { hide: true } }, (_request, reply: FastifyReply) => {
      reply.headers(PAGE_HEADERS);
      if (!built) {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(`The Explorer is not built (${dir} is missing): run npm run build. API docs: /docs\n`);
      }
      return reply.sendFile('index.html', dir);
    });
  });
}
