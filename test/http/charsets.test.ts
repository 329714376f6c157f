// Bodies in the charset they declare (issue #12, item 11): JSON and XML in windows-1251, KOI8-R and
// ISO-8859-1 (Content-Type charset=, or XML's encoding=), UTF-16 XML with or without a byte order
// mark, are stored as the text they carry; a charset TextDecoder does not know is refused with 415
// naming it. On every engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TextDecoder } from 'node:util';
import { testEngines } from '../support/engines.js';
import { type Harness, startHarness, toXml } from '../support/harness.js';
import { createWorkspace, type Workspace } from './helpers.js';

/** Encodes text in a single-byte charset, by inverting TextDecoder's table of that charset. */
function encodeSingleByte(text: string, charset: string): Buffer {
  const decoder = new TextDecoder(charset);
  const table = new Map<string, number>();
  for (let b = 0; b < 256; b++) table.set(decoder.decode(Uint8Array.of(b)), b);
  return Buffer.from(
    [...text].map((ch) => {
      const b = table.get(ch);
      if (b === undefined) throw new Error(`${ch} is not in ${charset}`);
      return b;
    }),
  );
}

function utf16be(text: string): Buffer {
  const le = Buffer.from(text, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return le;
}

const RUSSIAN = 'Привет, Ёжик';
const FRENCH = 'Café crème';

for (const engine of testEngines()) {
  describe(engine.name, () => {
    let h: Harness;
    let w: Workspace;

    before(async () => {
      h = await startHarness({ engine });
      w = await createWorkspace(h);
    });
    after(() => h.close());

    /** Adds a profile whose first name is `name`, sent as `body(params)` bytes; answers its stored name. */
    async function roundTrip(
      bytes: (params: Record<string, unknown>) => Buffer,
      contentType: string,
      name: string,
    ) {
      const params = { token: h.admin, db_id: w.dbA, data: { _fname: name } };
      const added = await h.send('/api/v1.1/profiles/add', bytes(params), { 'content-type': contentType });
      assert.equal(added.status, 200, `${contentType}: ${added.raw}`);
      const got = await h.call('profiles/get', { db_id: w.dbA, profile_id: added.body.profile_id });
      return got.body.data._fname as string;
    }

    for (const charset of ['windows-1251', 'koi8-r']) {
      test(`JSON and XML in ${charset} are stored as the text they carry`, async () => {
        const json = (p: Record<string, unknown>) => encodeSingleByte(JSON.stringify(p), charset);
        assert.equal(await roundTrip(json, `application/json; charset=${charset}`, RUSSIAN), RUSSIAN);
        assert.equal(
          await roundTrip(json, `application/json;charset="${charset.toUpperCase()}"`, RUSSIAN),
          RUSSIAN,
        );
        const xmlByHeader = (p: Record<string, unknown>) => encodeSingleByte(toXml(p), charset);
        assert.equal(await roundTrip(xmlByHeader, `application/xml; charset=${charset}`, RUSSIAN), RUSSIAN);
        const xmlByDeclaration = (p: Record<string, unknown>) =>
          encodeSingleByte(toXml(p).replace('encoding="UTF-8"', `encoding="${charset}"`), charset);
        assert.equal(await roundTrip(xmlByDeclaration, 'application/xml', RUSSIAN), RUSSIAN);
      });
    }

    test('ISO-8859-1 JSON and XML', async () => {
      const json = (p: Record<string, unknown>) => encodeSingleByte(JSON.stringify(p), 'iso-8859-1');
      assert.equal(await roundTrip(json, 'application/json; charset=ISO-8859-1', FRENCH), FRENCH);
      const xml = (p: Record<string, unknown>) =>
        encodeSingleByte(toXml(p).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), 'iso-8859-1');
      assert.equal(await roundTrip(xml, 'text/xml', FRENCH), FRENCH);
    });

    test('UTF-16 XML: with a byte order mark, and big-endian without one', async () => {
      const le = (p: Record<string, unknown>) =>
        Buffer.concat([
          Buffer.from([0xff, 0xfe]),
          Buffer.from(toXml(p).replace('UTF-8', 'UTF-16'), 'utf16le'),
        ]);
      assert.equal(await roundTrip(le, 'application/xml', RUSSIAN), RUSSIAN);
      const be = (p: Record<string, unknown>) => utf16be(toXml(p).replace('UTF-8', 'UTF-16'));
      assert.equal(await roundTrip(be, 'application/xml', RUSSIAN), RUSSIAN);
    });

    test('a charset TextDecoder does not know is refused with 415 naming it, nothing stored', async () => {
      const before = await h.call('profiles/get', { db_id: w.dbA, email: 'ebcdic@example.com' });
      const body = JSON.stringify({ token: h.admin, db_id: w.dbA, data: { email: 'ebcdic@example.com' } });
      const json = await h.send('/api/v1.1/profiles/add', body, {
        'content-type': 'application/json; charset=ebcdic',
      });
      assert.equal(json.status, 415, json.raw);
      assert.match(json.body.error_text, /charset "ebcdic" is not supported/);
      const xml = await h.send(
        '/api/v1.1/profiles/add',
        toXml({ token: h.admin, db_id: w.dbA, data: { email: 'ebcdic@example.com' } }).replace(
          'UTF-8',
          'x-mac-klingon',
        ),
        { 'content-type': 'application/xml' },
      );
      assert.equal(xml.status, 415, xml.raw);
      assert.match(xml.contentType, /xml/);
      assert.match(xml.body.error_text, /charset "x-mac-klingon" is not supported/);
      const afterward = await h.call('profiles/get', { db_id: w.dbA, email: 'ebcdic@example.com' });
      assert.equal(afterward.status, before.status, 'nothing stored');
    });
  });
}
