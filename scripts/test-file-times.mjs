// A test reporter for `node --test` (scripts/run-tests.mjs adds it when TIES_TEST_TIMES names a
// file): per file, the sum of its top-level tests' and suites' durations, how many tests it ran
// and how many of those failed, slowest first: what to look at when the suite gets slow, and the
// list to keep LONG_FIRST in run-tests.mjs by. A test counts for the file that declares it: the
// shared contracts (src/store/*-contract.case.ts) gather the tests every engine's file runs.
export default async function* fileTimes(source) {
  const files = new Map();
  for await (const event of source) {
    const data = event.data ?? {};
    if (!data.file || (event.type !== 'test:pass' && event.type !== 'test:fail')) continue;
    let f = files.get(data.file);
    if (!f) {
      f = { ms: 0, tests: 0, failed: 0 };
      files.set(data.file, f);
    }
    if (data.nesting === 0) f.ms += data.details?.duration_ms ?? 0;
    if (data.details?.type !== 'suite') {
      f.tests++;
      if (event.type === 'test:fail') f.failed++;
    }
  }
  const rows = [...files].sort((a, b) => b[1].ms - a[1].ms);
  yield 'seconds\ttests\tfailed\tfile\n';
  for (const [file, f] of rows) {
    const name = file.startsWith(`${process.cwd()}/`) ? file.slice(process.cwd().length + 1) : file;
    yield `${(f.ms / 1000).toFixed(1)}\t${f.tests}\t${f.failed}\t${name}\n`;
  }
}
