// Wire shape of a bash + curl bulk importer:
// github.com/aalenkin-uzum/altcraft-profiles-import at commit acc540bd.
//
// What it puts on the wire (described, not copied): psql writes each batch of profiles as one JSON
// array (json_agg of rows with nulls stripped, so a profile without a phone has no "phones" key;
// psql's unaligned output starts the array with a space and separates rows with ", " and a line
// break). The script pastes that file, unparsed, into a hand-built body
// {"token": …, "db_id": 1, "matching": "phone", "data": <the array>} and sends it with
// curl -X POST -H "Content-Type: application/json" -d "$body" to the configured URL, the
// profiles/import_batch call. Profiles are flat: _lname, _fname, _bdate (a date "YYYY-MM-DD"),
// email, _sex (1 or 2), phones (an array), _regdate and last_order (timestamps without an offset),
// order_address (a JSON array of ids), uzum_id, user_id (an integer) and language. The script
// reads nothing from the answer but prints it: the operator reads error and the per-item result.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../support/engines.js';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness.js';

/** A file as psql writes it with -t: a leading space, rows joined by ", " and a newline. */
function psqlJsonAgg(rows: readonly Record<string, unknown>[]): string {
  return ` [${rows.map((r) => JSON.stringify(r)).join(', \n ')}]`;
}

for (const engine of testEngines()) {
  describe(`${engine.name}: aalenkin-uzum/altcraft-profiles-import@acc540bd`, () => {
    let h: Harness;
    let dbId: number;
    before(async () => {
      h = await startHarness({ engine });
      const created = await h.call('databases/create', {
        name: 'customers',
        fields: [
          { name: 'order_address', type: 'json' },
          { name: 'last_order', type: 'datetime' },
          { name: 'uzum_id', type: 'string' },
          { name: 'user_id', type: 'int' },
          { name: 'language', type: 'string' },
        ],
      });
      dbId = created.body.data.id;
    });
    after(() => h.close());

    test('a batch file sent as the script sends it imports each profile, answered per item', async () => {
      const file = psqlJsonAgg([
        {
          _lname: 'Karimova',
          _fname: 'Dilnoza',
          _bdate: '1991-03-08',
          email: 'dilnoza@example.com',
          _sex: 2,
          order_address: [101, 205],
          last_order: '2024-05-01T12:34:56.123456',
          phones: ['+998901234567'],
          uzum_id: 'u-1',
          user_id: 1,
          language: 'uz',
          _regdate: '2023-01-15T08:30:00',
        },
        { _fname: 'Timur', _sex: 1, phones: ['+998907654321'], user_id: 2, language: 'ru' },
        { _fname: 'No phone', user_id: 3 },
      ]);
      // The body is built by string concatenation around the file, exactly as the script does.
      const body = `{"token":"${ADMIN_TOKEN}","db_id":${dbId},"matching":"phone","data":${file}}`;
      const answer = await h.send('/api/v1.1/profiles/import_batch', body, {
        'content-type': 'application/json',
        'user-agent': 'curl/8.5.0',
        accept: '*/*',
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.error, 0);
      const result = answer.body.result as { error: number; error_text: string; profile_id?: string }[];
      assert.deepEqual(
        result.map((r) => r.error),
        [0, 0, 400],
      );
      assert.match(result[2]!.error_text, /^data\[2\]\.phone: required for matching phone/);
      const got = await h.call('profiles/get', { db_id: dbId, profile_id: result[0]!.profile_id });
      assert.equal(got.body.data._bdate, '1991-03-08');
      assert.equal(got.body.data._sex, 2);
      assert.equal(got.body.data._regdate, '2023-01-15T08:30:00.000Z');
      assert.equal(got.body.data.last_order, '2024-05-01T12:34:56.123Z');
      assert.deepEqual(got.body.data.order_address, [101, 205]);

      // Running the same file again updates the profiles it matched by phone instead of adding them.
      const again = await h.send('/api/v1.1/profiles/import_batch', body, {
        'content-type': 'application/json',
      });
      const ids = (again.body.result as { profile_id?: string }[]).map((r) => r.profile_id);
      assert.deepEqual(
        ids.slice(0, 2),
        result.slice(0, 2).map((r) => r.profile_id),
      );
    });
  });
}
