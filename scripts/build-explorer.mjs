// Builds the Explorer web page into dist/explorer: typechecks src/explorer with its own tsconfig
// (DOM lib), bundles explorer-main.ts with esbuild — which pulls in the typed client `ties/client`
// (src/client) so the page calls the API through the same call table as every other client — and
// copies the page and its styles beside the bundle. Cytoscape stays a separate vendor file (see
// src/http/explorer-routes.ts): it changes only with an upgrade and is cached for a day.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const SOURCE = 'src/explorer';
const OUT = 'dist/explorer';
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const check = spawnSync(process.execPath, [tsc, '-p', join(SOURCE, 'tsconfig.json'), '--noEmit'], {
  stdio: 'inherit',
});
if (check.status !== 0) process.exit(check.status ?? 1);

// Earlier builds emitted one file per module: gone, so only the bundle can be loaded.
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: [join(SOURCE, 'explorer-main.ts')],
  outfile: join(OUT, 'explorer-main.js'),
  tsconfig: join(SOURCE, 'tsconfig.json'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
for (const name of readdirSync(SOURCE)) {
  if (name.endsWith('.html') || name.endsWith('.css')) copyFileSync(join(SOURCE, name), join(OUT, name));
}

// Cytoscape beside the page, so that it is sent compressed like the rest (src/http/explorer-routes.ts
// falls back to node_modules when this copy is missing).
const VENDOR = join(OUT, 'vendor');
mkdirSync(VENDOR, { recursive: true });
copyFileSync(
  join(dirname(require.resolve('cytoscape')), 'cytoscape.min.js'),
  join(VENDOR, 'cytoscape.min.js'),
);

// Precompressed copies (brotli and gzip, best ratio: made once per build, sent many times), which
// @fastify/static serves by Accept-Encoding (`preCompressed`); kept only where they are smaller.
for (const folder of [OUT, VENDOR]) {
  for (const name of readdirSync(folder)) {
    if (!/\.(js|css|html)$/.test(name)) continue;
    const path = join(folder, name);
    const plain = readFileSync(path);
    const br = brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    const gz = gzipSync(plain, { level: 9 });
    if (br.length < plain.length) writeFileSync(`${path}.br`, br);
    if (gz.length < plain.length) writeFileSync(`${path}.gz`, gz);
  }
}
