// Child processes of the benchmark: the Ties server under test (compiled JavaScript, as `ties serve`
// runs in production), the no-op HTTP baseline, and their peak memory read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TIES_BIN = `${ROOT}bin/ties.js`;
const NOOP = `${ROOT}bench/noop-server.mjs`;

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** Peak resident memory so far, in MiB (VmHWM), or NaN when /proc cannot tell. */
  peakRssMb(): number;
  /** CPU time (user + system) the process has used so far, in ms, or NaN when /proc cannot tell. */
  cpuMs(): number;
  /** The system part of cpuMs (system calls: reads of pages from the OS's file cache, fsync, …). */
  systemMs(): number;
  /** Bytes the process has read and written through system calls so far (/proc/<pid>/io). */
  ioBytes(): IoBytes;
  stop(): Promise<void>;
}

function waitForUrl(child: ChildProcess, what: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}${err}`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /(http:\/\/[\w.:[\]-]+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before listening: ${out}${err}`));
    });
  });
}

/** VmHWM of a process: the peak resident set size since it started. */
export function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export interface IoBytes {
  /** rchar: bytes asked of read()/pread() — SQLite's pages past its own cache, whether the OS had them or not. */
  readonly read: number;
  /** wchar: bytes given to write()/pwrite() — WAL frames, and pages a checkpoint copies into the file. */
  readonly written: number;
}

function ioBytes(pid: number): IoBytes {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? Number.NaN);
    return { read: field('rchar'), written: field('wchar') };
  } catch {
    return { read: Number.NaN, written: Number.NaN };
  }
}

/** utime and stime of a process from /proc/<pid>/stat, in ms (clock ticks are 1/100 s on Linux). */
function cpuTimes(pid: number): { user: number; system: number } {
  try {
    // The command name (field 2) may hold spaces: count fields from after its closing parenthesis.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
  } catch {
    return { user: Number.NaN, system: Number.NaN };
  }
}

/** utime + stime of a process, in ms. */
export function cpuMs(pid: number): number {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

function wrap(child: ChildProcess, url: string): ServerProcess {
  let peak = Number.NaN;
  const sample = () => {
    const now = peakRssMb(child.pid!);
    if (!Number.isNaN(now)) peak = Number.isNaN(peak) ? now : Math.max(peak, now);
    return peak;
  };
  return {
    url,
    pid: child.pid!,
    peakRssMb: sample,
    cpuMs: () => cpuMs(child.pid!),
    systemMs: () => cpuTimes(child.pid!).system,
    ioBytes: () => ioBytes(child.pid!),
    stop: () =>
      new Promise<void>((resolve) => {
        sample();
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Runs a slice and measures the CPU time the server spent on it, the system part, and its I/O. */
export async function measured<R>(
  server: ServerProcess,
  run: () => Promise<R>,
): Promise<R & { cpuMs: number; systemMs: number; io: IoBytes }> {
  const before = server.cpuMs();
  const systemBefore = server.systemMs();
  const ioBefore = server.ioBytes();
  const r = await run();
  const io = server.ioBytes();
  return {
    ...r,
    cpuMs: server.cpuMs() - before,
    systemMs: server.systemMs() - systemBefore,
    io: { read: io.read - ioBefore.read, written: io.written - ioBefore.written },
  };
}

/** `ties serve` on a database (file or postgres:// URL), on a free port, with the bench admin token. */
export async function startTies(
  db: string,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
  bin: string = TIES_BIN,
): Promise<ServerProcess> {
  const argv = [...nodeArgs, bin, 'serve', '--db', db, '--port', '0', '--log-level', 'warn'];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, ...env, TIES_ADMIN_TOKEN: BENCH_ADMIN_TOKEN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Warnings (store unavailable, …) would hide in a pipe nobody reads: pass them on.
  child.stderr!.on('data', (d) => process.stderr.write(`[ties] ${d}`));
  const url = await waitForUrl(child, 'ties serve');
  return wrap(child, url);
}

export async function startNoop(): Promise<ServerProcess> {
  const child = spawn(process.execPath, [NOOP], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await waitForUrl(child, 'noop server');
  return wrap(child, url);
}

/** bench/lean-attach-server.mjs on a Ties store file: attach's storage work and nothing else. */
export async function startLeanAttach(db: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [`${ROOT}bench/lean-attach-server.mjs`, db], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await waitForUrl(child, 'lean attach server');
  return wrap(child, url);
}

/** bench/pg-lean-attach-server.mjs on a copy of a PostgreSQL Ties store: attach's storage work and nothing else. */
export async function startPgLeanAttach(url: string, relId: number, layout = 'rows'): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [`${ROOT}bench/pg-lean-attach-server.mjs`, url, String(relId), layout],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stderr!.on('data', (d) => process.stderr.write(`[lean] ${d}`));
  const url2 = await waitForUrl(child, 'PostgreSQL lean attach server');
  return wrap(child, url2);
}

/** Runs a command to completion; rejects on a non-zero exit with its output. */
export function runCommand(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TIES_BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0
        ? resolve({ stdout, stderr })
        : reject(new Error(`ties ${args.join(' ')} exited with ${code}: ${stderr}`)),
    );
  });
}
