// Builds the Explorer web page into dist/explorer: compiles src/explorer/*.ts for the browser (its
// own tsconfig, DOM lib) and copies the page and its styles beside the scripts.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const SOURCE = 'src/explorer';
const OUT = 'dist/explorer';
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(SOURCE, 'tsconfig.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
mkdirSync(OUT, { recursive: true });
for (const name of readdirSync(SOURCE)) {
  if (name.endsWith('.html') || name.endsWith('.css')) copyFileSync(join(SOURCE, name), join(OUT, name));
}
