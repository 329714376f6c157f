// Builds the Explorer web page into dist/explorer: typechecks src/explorer with its own tsconfig
// (DOM lib), bundles explorer-main.ts with esbuild — which pulls in the typed client `ties/client`
// (src/client) so the page calls the API through the same call table as every other client — and
// copies the page and its styles beside the bundle. Cytoscape stays a separate vendor file (see
// src/http/explorer-routes.ts): it changes only with an upgrade and is cached for a day.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
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
