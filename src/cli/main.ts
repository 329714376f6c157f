// The `ties` command: parses the subcommand and runs it. Each command calls the same core as HTTP.
import { VERSION } from '../version.js';
import { backupCommand, restoreCommand } from './commands/backup.js';
import { checkCommand } from './commands/check.js';
import { copyCommand } from './commands/copy.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';

export const USAGE = `ties ${VERSION} — relations between customer profiles (Altcraft API v1.1)

Usage:
  ties serve [--db ./data/ties.db | postgres://…] [--port N] [--demo] [settings…]
      Run the server. A file path means the embedded SQLite store. Migrations run at start.
      --demo loads the demo workspace into an empty store and prints a fresh demo token.
  ties token create --rights read,write[,delete,admin] [--name NAME] [--db PATH|URL]
      Mint a token offline (works while the server runs); the token is shown once.
  ties import relations FILE.csv|FILE.ndjson --rel-id N [--db PATH|URL] [--errors FILE]
      Load relations from a file, streamed, in batches of one commit each; re-run to resume.
  ties check [--db PATH|URL]
      Check the store without changing it (SQLite integrity_check, PostgreSQL tables, schema
      version); exit 0 when sound, 1 listing the problems.
  ties export relations --rel-id N [--format csv|ndjson] [--out FILE] [--db PATH|URL]
      Write a relation type's relations as \`ties import relations\` reads them.
  ties copy --from PATH|URL --to PATH|URL [--resume | --overwrite]
      Copy a whole store (SQLite ⇄ PostgreSQL, file to file) from one snapshot, verified at the end.
  ties backup --db FILE --to FILE [--force]
      Online, consistent backup of a SQLite store while the server runs (PostgreSQL: pg_dump).
  ties restore --from BACKUP --db FILE [--force]
      Check a backup and put it in place of a SQLite store (stop the server first).
  ties --version | --help

Every setting is a flag and an environment variable (TIES_DB, TIES_PORT, …; flags win):
\`ties <command> --help\` lists a command's settings with their defaults; the README has them all.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'serve':
      return serveCommand(rest);
    case 'token':
      return tokenCommand(rest);
    case 'import':
      return importCommand(rest);
    case 'check':
      return checkCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'copy':
      return copyCommand(rest);
    case 'backup':
      return backupCommand(rest);
    case 'restore':
      return restoreCommand(rest);
    default:
      process.stderr.write(`ties: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}
