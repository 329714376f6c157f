// `ties token create`: mints a token straight into the store, so a restart never locks anyone out.
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG } from '../../config.js';
import { isTiesError } from '../../core/errors.js';
import { createTies } from '../../core/ties.js';
import { openStore } from '../../store/open-store.js';

const USAGE = 'Usage: ties token create --rights read,write[,delete,admin] [--name NAME] [--db PATH|URL]\n';

export async function tokenCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'create') {
    process.stderr.write(USAGE);
    return 2;
  }
  let values: { rights?: string; name?: string; db?: string };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: { rights: { type: 'string' }, name: { type: 'string' }, db: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`ties token create: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.rights) {
    process.stderr.write(`ties token create: --rights is required\n${USAGE}`);
    return 2;
  }
  const ties = createTies({ store: await openStore(values.db ?? process.env.TIES_DB ?? DEFAULT_CONFIG.db) });
  try {
    const rights = values.rights
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    const { data } = await ties.access.create({
      name: values.name ?? `cli ${new Date().toISOString()}`,
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
