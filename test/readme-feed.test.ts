// The README's "Following changes" examples run as written against a real server: each curl
// command (with its TOKEN and host) and the client snippet (with `ties/client` pointing at the
// source), while another client makes changes. A broken example fails here, not in a user's hands.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { ADMIN, caller } from './outbound/support.js';

const readme = readFileSync('README.md', 'utf8');
const section = readme.slice(
  readme.indexOf('## Following changes'),
  readme.indexOf('\n## ', readme.indexOf('## Following changes') + 1),
);
const blocks = (lang: string) =>
  [...section.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
/** The curl commands of the section, continuation lines joined. */
const curls = blocks('bash')
  .flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'))
  .filter((line) => line.startsWith('curl '));

let server: RunningServer;
let host: string;
let changes = 0;
let call: ReturnType<typeof caller>;
const dir = mkdtempSync(join(tmpdir(), 'ties-readme-feed-'));

/** One more relation of type 1 (the type the README's examples filter on). */
async function change(): Promise<void> {
  const add = async () => (await call('profiles/add', { db_id: 1, data: {} })).profile_id as string;
  await call('relations/attach', {
    rel_id: 1,
    profile_a: { profile_id: await add() },
    profile_b: { profile_id: await add() },
    weights: { donate: ++changes },
  });
}

/** Runs a child until its output matches, making changes meanwhile (it may start at the head). */
async function outputOf(child: ChildProcess, pattern: RegExp): Promise<string> {
  let out = '';
  let err = '';
  let exited = false;
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 60_000;
  try {
    while (!pattern.test(out)) {
      if (Date.now() > deadline || (exited && !pattern.test(out)))
        assert.fail(`no ${pattern} in the output: ${out}${err}`);
      await change();
      await new Promise((r) => setTimeout(r, 200));
    }
    return out;
  } finally {
    child.kill();
  }
}

before(async () => {
  server = await startServer(
    loadConfig({ TIES_ADMIN_TOKEN: ADMIN, TIES_DB: ':memory:', TIES_LOG_LEVEL: 'silent' }, ['--port', '0']),
  );
  host = new URL(server.url).host;
  call = caller(server.url);
  await call('databases/create', { name: 'people' });
  await call('relations/types/create', {
    name: 'donates',
    db_a: 1,
    db_b: 1,
    properties: [{ name: 'donate', type: 'int', sum: true }],
  });
  await change();
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the section shows relations/changes from the oldest and from the head, the stream, and the client', () => {
  assert.equal(curls.length, 3, curls.join('\n'));
  assert.match(curls[0]!, /relations\/changes .*"after": 0/);
  assert.match(curls[1]!, /relations\/changes .*"after": "latest"/);
  assert.match(curls[2]!, /relations\/changes\/stream\?token=\$TOKEN&after=latest/);
  assert.equal(blocks('ts').length, 1);
});

test('each curl command works as written', async () => {
  const run = (command: string) =>
    spawn('bash', ['-c', command.replaceAll('localhost:8080', host)], {
      env: { ...process.env, TOKEN: ADMIN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const fromOldest = JSON.parse(await outputOf(run(curls[0]!), /\}\s*$/));
  assert.equal(fromOldest.error, 0);
  assert.ok(fromOldest.data.length > 0);
  assert.equal(fromOldest.data[0].call, 'relations/attach');
  assert.equal(typeof fromOldest.head_seq, 'number');

  const fromHead = JSON.parse(await outputOf(run(curls[1]!), /\}\s*$/));
  assert.equal(fromHead.error, 0);
  assert.ok(fromHead.data.length > 0, 'the long-poll from the head answers the next change');
  assert.ok(fromHead.data[0].seq > fromOldest.data[0].seq);

  const stream = await outputOf(run(curls[2]!), /\ndata: \{.*\}\n/);
  assert.match(stream, /^retry: 2000\nid: \d+\n\n/);
  const data = JSON.parse(/\ndata: (\{.*\})\n/.exec(stream)![1]!);
  assert.equal(data.rel_id, 1);
});

test('the client snippet works as written', async () => {
  const client = resolve('src/client/index.ts');
  const source = blocks('ts')[0]!
    .replace("'ties/client'", JSON.stringify(client))
    .replace("'http://localhost:8080'", JSON.stringify(server.url));
  // .mts: an ES module, as in a project with "type": "module" (the snippet awaits at top level).
  const file = join(dir, 'follow.mts');
  writeFileSync(file, source);
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, TOKEN: ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = await outputOf(child, /\n/);
  // console.log(event.seq, event.call, event.profile_a, event.profile_b, event.before, event.after)
  assert.match(out, /^\d+ relations\/attach [0-9a-f]{24} [0-9a-f]{24} null \{ donate: \d+ \}\n/);
});
