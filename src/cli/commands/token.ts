// `ties token create`: mints a token straight into the store, so a restart never locks anyone out.
import { isTiesError } from '../../core/errors.js';
import { createTies } from '../../core/ties.js';
import { openConfiguredStore } from '../../store/configured-store.js';
import { parseStoreCommand, type StoreCommand, storeCommandHelp, usageError } from '../command-line.js';

export const TOKEN_COMMAND: StoreCommand = {
  name: 'token create',
  usage:
    'Usage: ties token create --rights read,write[,delete,admin] [--name NAME] [--db PATH|URL]\n' +
    '  Mints a token offline (works while the server runs); the token is shown once.\n',
  options: { rights: { type: 'string' }, name: { type: 'string' } },
};

export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    process.stdout.write(storeCommandHelp(TOKEN_COMMAND));
    return 0;
  }
  if (sub !== 'create') return usageError(TOKEN_COMMAND, `unknown subcommand "${sub ?? ''}"`);
  const parsed = parseStoreCommand(TOKEN_COMMAND, rest, process.env);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals, store } = parsed;
  if (positionals.length > 0) return usageError(TOKEN_COMMAND, `unexpected argument "${positionals[0]}"`);
  if (typeof values.rights !== 'string' || values.rights === '') {
    return usageError(TOKEN_COMMAND, '--rights is required');
  }
  const ties = createTies({ store: await openConfiguredStore(store) });
  try {
    const rights = values.rights
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    const { data } = await ties.access.create({
      name: typeof values.name === 'string' ? values.name : `cli ${new Date().toISOString()}`,
      rights,
    });
    process.stdout.write(
      `Token ${data.id} "${data.name}" with rights ${data.rights.join(',')} (shown once):\n${data.token}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`ties token create: ${isTiesError(err) ? err.message : String(err)}\n`);
    return 2;
  } finally {
    await ties.close();
  }
}
