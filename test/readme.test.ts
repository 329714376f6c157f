import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { replaceConfigTable } from '../scripts/config-table.js';
import { USAGE } from '../src/cli/main.js';
import { SETTINGS } from '../src/config.js';

const readme = readFileSync('README.md', 'utf8');

test('the README configuration table is generated from the settings', () => {
  assert.equal(readme, replaceConfigTable(readme), 'run npm run docs:config');
  for (const s of SETTINGS) assert.ok(readme.includes(`\`${s.env}\``), s.env);
});

test('README shows the two commands and --help names every serve flag the README table has', () => {
  assert.ok(readme.includes('npm ci && npm start'));
  assert.ok(readme.includes('npm ci && npm test'));
  for (const s of SETTINGS) if (s.flag) assert.ok(USAGE.includes(s.flag), `--help lacks ${s.flag}`);
});
