// Runs the `ties` command from source (through tsx) in a child process, for CLI tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns `ties <args>` (`nodeArgs`: Node's own options); the caller waits for it or signals it. */
export function spawnTies(
  args: readonly string[],
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): ChildProcess {
  const script = `import(${JSON.stringify(MAIN)}).then((m) => m.main(${JSON.stringify(args)})).then((c) => { process.exitCode = c; })`;
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '-e', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function runTies(
  args: readonly string[],
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<CliResult> {
  const child = spawnTies(args, env, nodeArgs);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Resolves with everything printed once `pattern` appears on standard output. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; got: ${out}`)),
      timeoutMs,
    );
    child.stdout!.on('data', (d) => {
      out += d;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; got: ${out}`));
    });
  });
}
