import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { replaceConfigTable } from '../scripts/config-table.js';
import { storeCommandHelp } from '../src/cli/command-line.js';
import { BACKUP_COMMAND, RESTORE_COMMAND } from '../src/cli/commands/backup.js';
import { CHECK_COMMAND } from '../src/cli/commands/check.js';
import { EXPORT_COMMAND } from '../src/cli/commands/export.js';
import { IMPORT_COMMAND } from '../src/cli/commands/import.js';
import { serveHelp } from '../src/cli/commands/serve.js';
import { TOKEN_COMMAND } from '../src/cli/commands/token.js';
import { USAGE } from '../src/cli/main.js';
import { SETTING_KEYS, SETTINGS, type Setting, STORE_KEYS, shownDefault } from '../src/config.js';

const readme = readFileSync('README.md', 'utf8');
const settings = SETTING_KEYS.map((k) => SETTINGS[k] as Setting<unknown>);

test('the README configuration table is generated from the settings', () => {
  assert.equal(readme, replaceConfigTable(readme), 'run npm run docs:config');
  for (const s of settings) assert.ok(readme.includes(`\`${s.env}\``), s.env);
});

test('README shows the two commands', () => {
  assert.ok(readme.includes('npm ci && npm start'));
  assert.ok(readme.includes('npm ci && npm test'));
});

test('serve --help names every setting: flag, variable and default', () => {
  const help = serveHelp();
  for (const s of settings) {
    if (s.flag) assert.ok(help.includes(`--${s.flag}`), `serve --help lacks --${s.flag}`);
    assert.ok(help.includes(`${s.env} (default ${shownDefault(s)})`), `serve --help lacks ${s.env}`);
  }
});

test('every command that opens the store lists in its --help the store settings it reads, and no other', () => {
  for (const command of [
    TOKEN_COMMAND,
    IMPORT_COMMAND,
    CHECK_COMMAND,
    EXPORT_COMMAND,
    BACKUP_COMMAND,
    RESTORE_COMMAND,
  ]) {
    const help = storeCommandHelp(command);
    const reads = new Set<string>(command.settings ?? STORE_KEYS);
    for (const [key, s] of Object.entries(SETTINGS)) {
      const listed = help.includes(`${s.env} (default`);
      assert.equal(listed, s.scope === 'store' && reads.has(key), `${command.name} --help and ${s.env}`);
    }
  }
  assert.match(USAGE, /ties <command> --help/);
});

test('the README moves an existing SQLite store to PostgreSQL in one command', () => {
  const section = readme.slice(readme.indexOf('## Running on PostgreSQL'));
  assert.match(section, /npx ties copy --from \.\/data\/ties\.db --to postgres:\/\//);
  assert.match(section, /Switching over without losing a write/);
});
