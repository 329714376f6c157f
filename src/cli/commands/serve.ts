// `ties serve`: starts the server, prints where it listens (and the demo token), stops on SIGTERM/SIGINT.
import { ConfigError, loadConfig, SETTING_KEYS, settingsHelp } from '../../config.js';
import { seedAttachRequest } from '../../demo.js';
import { startServer } from '../../server.js';

/** `ties serve --help`: what it does, then every setting from the declaration in src/config.ts. */
export function serveHelp(): string {
  return `Usage: ties serve [settings…]
  Runs the server. A file path in --db means the embedded SQLite store (created if missing), a
  postgres:// URL PostgreSQL; migrations run at start. Stops on SIGTERM or Ctrl-C after answering
  the calls in flight.

Settings (a flag wins over its environment variable):
${settingsHelp(SETTING_KEYS)}
`;
}

export async function serveCommand(argv: readonly string[]): Promise<number> {
  let config: ReturnType<typeof loadConfig>;
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(serveHelp());
      return 0;
    }
    config = loadConfig(process.env, argv);
  } catch (err) {
    process.stderr.write(
      `ties serve: ${err instanceof ConfigError || err instanceof TypeError ? err.message : String(err)}\n`,
    );
    return 2;
  }
  const server = await startServer(config);
  const engine = server.ties.store.engine === 'sqlite' ? `SQLite ${config.db}` : 'PostgreSQL';
  const lines = [
    `Ties is listening on ${server.url} (${engine}); Explorer at ${server.url}/, API docs at ${server.url}/docs`,
  ];
  if (server.demo) {
    const body = JSON.stringify(seedAttachRequest(server.demo.token));
    lines.push(
      server.demo.loaded
        ? 'Demo workspace loaded (databases 1-2, relation types 1-3).'
        : 'Demo workspace present.',
      `Demo token (replaced at every demo start): ${server.demo.token}`,
      `Explore the demo relations in a browser: ${server.url}/ (sign in with the demo token)`,
      "Try the attach example of Altcraft's page:",
      `  curl -s ${server.url}/api/v1.1/relations/attach -H 'Content-Type: application/json' -d '${body}'`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.app.log.info({ signal }, 'stopping: finishing calls in flight');
      server.close().then(resolve, (err) => {
        server.app.log.error({ err }, 'error while stopping');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
