// Another process holding a SQLite file's write lock (`BEGIN IMMEDIATE`), as a second server, a
// `ties import` or an operator's sqlite3 shell would: a real child process, so that its lock is a
// real POSIX lock the server's connection must contend with. It holds the lock until told to
// release it (or until its parent goes away).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

// Plain CommonJS run by `node -e`: no tsx, so it starts fast and depends on nothing of Ties.
const HOLDER = `
const Database = require(${JSON.stringify(DRIVER)});
const db = new Database(process.argv[1], { timeout: 30000 });
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
let done = false;
const release = () => {
  if (done) return;
  done = true;
  db.exec('ROLLBACK');
  db.close();
  process.stdout.write('released\\n');
  process.exit(0);
};
process.stdin.on('data', release);
process.stdin.on('end', release);
`;

export interface LockHolder {
  readonly pid: number;
  /** Rolls the holder's transaction back, closes its connection and waits for it to exit. */
  release(): Promise<void>;
}

/** Starts a process that takes the write lock of the SQLite file at `path`; resolves once it holds it. */
export async function holdWriteLock(path: string): Promise<LockHolder> {
  const child: ChildProcess = spawn(process.execPath, ['-e', HOLDER, path], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('locked\n')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`the lock holder exited (${code}) before locking: ${err}`)),
    );
  });
  return {
    pid: child.pid!,
    async release() {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end('release\n');
      await exited;
      if (!out.includes('released\n')) throw new Error(`the lock holder did not release cleanly: ${err}`);
    },
  };
}
