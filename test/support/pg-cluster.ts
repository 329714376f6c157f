// A private PostgreSQL cluster for tests that stop and start the server: initdb into a temporary
// directory, a spare port, trust auth, run as the `postgres` OS user when the tests run as root
// (initdb refuses root). Never touches the machine's shared server.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PgCluster {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly dir: string;
  start(): Promise<void>;
  /** `immediate` is a crash as far as clients can tell: connections drop, no checkpoint. */
  stop(mode?: 'immediate' | 'fast'): Promise<void>;
  /** Stops the server if it runs and removes its directory. */
  destroy(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: TIES_TEST_PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function pgBinDir(): string | undefined {
  const fromEnv = process.env.TIES_TEST_PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((x, y) => Number(y) - Number(x));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** Why a private cluster cannot be made here, or undefined when it can. */
export function pgClusterUnavailable(): string | undefined {
  if (!pgBinDir()) return 'no PostgreSQL server binaries (initdb, pg_ctl) found; set TIES_TEST_PG_BIN';
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
    return 'running as root without runuser to drop to the postgres user';
  }
  return undefined;
}

async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a PostgreSQL binary, as the postgres user when this process is root. */
async function pgRun(bin: string, args: readonly string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
  await run(file, argv, { timeout: 60_000 });
}

export async function createPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error(pgClusterUnavailable());
  const dir = mkdtempSync(join(tmpdir(), 'ties-pg-cluster-'));
  if (process.getuid?.() === 0) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const port = await sparePort();
  await pgRun(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  // Small and fast: the tests need availability, not durability across a machine crash.
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c max_connections=40',
    '-c shared_buffers=16MB',
  ].join(' ');
  let running = false;
  const cluster: PgCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async start() {
      await pgRun(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        join(dir, 'log'),
        '-w',
        '-t',
        '60',
        '-o',
        settings,
        'start',
      ]);
      running = true;
    },
    async stop(mode = 'immediate') {
      await pgRun(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await cluster.stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
