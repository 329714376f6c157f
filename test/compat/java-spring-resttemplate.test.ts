// Wire shape of a Java/Spring service that imports profiles into Altcraft:
// github.com/RuslonPy/Failure at commit ba359f0d.
//
// What it puts on the wire (described, not copied): Spring's RestTemplate (Jackson for JSON) POSTs
// to the configured profiles/import URL a body with db_id 1, the token, matching "phone",
// field_name "phone", detect_geo true and data: the user as a flat object (user_ID, phones as an
// array, lang, appVersion, identification as an array, _regdate as epoch milliseconds, _city,
// _bdate as a java.sql.Timestamp, which Jackson writes as epoch milliseconds). There is no phone
// beside data: the number is only in data.phones. Content-Type is application/json; the token is
// in the body. It reads error, error_text and profile_id. Its request wrapper catches the
// exception RestTemplate raises for a 4xx/5xx status and returns an empty response object instead,
// whose error is null; the service records a failed import only when it read a non-zero error. So
// with Ties' default status mirroring a refusal is never recorded, and with always200 it is.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpStatusMode } from '../../src/config.js';
import { testEngines } from '../support/engines.js';
import { ADMIN_TOKEN, type Harness, startHarness } from '../support/harness.js';

interface ImportResponse {
  readonly error: number | null;
  readonly error_text: string | null;
  readonly profile_id: string | null;
}

/** RestTemplate.exchange with the default error handler, inside the service's wrapper. */
async function exchange(h: Harness, body: object): Promise<ImportResponse> {
  const answer = await h.send('/api/v1.1/profiles/import', JSON.stringify(body), {
    'content-type': 'application/json',
    accept: 'application/json, application/*+json',
    'user-agent': 'Apache-HttpClient/5.2.1 (Java/17)',
  });
  // The default error handler raises on 4xx and 5xx; the wrapper swallows it and answers an empty object.
  if (answer.status >= 400) return { error: null, error_text: null, profile_id: null };
  return {
    error: answer.body.error ?? null,
    error_text: answer.body.error_text ?? null,
    profile_id: answer.body.profile_id ?? null,
  };
}

/** The service: sends one user; records the user as failed when it read a non-zero error. */
async function sendUser(h: Harness, dbId: number, user: Record<string, unknown>, failed: unknown[]) {
  const response = await exchange(h, {
    db_id: dbId,
    token: ADMIN_TOKEN,
    data: user,
    matching: 'phone',
    field_name: 'phone',
    detect_geo: true,
  });
  // Java compares a null Integer with 0 by unboxing it, which throws inside an @Async method: the
  // failure is lost. Only a real non-zero error reaches the failed-request table.
  if (response.error !== null && response.error !== 0) failed.push(user.user_ID);
  return response;
}

for (const engine of testEngines()) {
  for (const httpStatus of ['mirror', 'always200'] as HttpStatusMode[]) {
    describe(`${engine.name}, http_status ${httpStatus}: RuslonPy/Failure@ba359f0d`, () => {
      let h: Harness;
      let dbId: number;
      before(async () => {
        h = await startHarness({ engine, config: { httpStatus } });
        const created = await h.call('databases/create', {
          name: 'listeners',
          fields: [
            { name: 'user_ID', type: 'int' },
            { name: 'lang', type: 'string' },
            { name: 'appVersion', type: 'string' },
            { name: 'identification', type: 'tags' },
          ],
        });
        dbId = created.body.data.id;
      });
      after(() => h.close());

      const user = (id: number, extra: Record<string, unknown> = {}) => ({
        user_ID: id,
        phones: [`+99890123456${id}`],
        lang: 'UZ',
        appVersion: '2.4.1',
        identification: ['passport'],
        _regdate: Date.UTC(2024, 0, 2, 3, 4, 5),
        _city: 'Tashkent',
        _bdate: Date.UTC(1995, 6, 14),
        ...extra,
      });

      test('an accepted import answers profile_id, matched by the phone in data.phones', async () => {
        const failed: unknown[] = [];
        const first = await sendUser(h, dbId, user(1), failed);
        assert.equal(first.error, 0);
        assert.match(String(first.profile_id), /^[0-9a-f]{24}$/);
        const again = await sendUser(h, dbId, user(1, { _city: 'Samarkand' }), failed);
        assert.equal(again.profile_id, first.profile_id, 'the same phone updates the same profile');
        const got = await h.call('profiles/get', { db_id: dbId, profile_id: first.profile_id });
        assert.equal(got.body.data._city, 'Samarkand');
        assert.equal(got.body.data._bdate, '1995-07-14');
        assert.deepEqual(failed, []);
      });

      test(
        httpStatus === 'mirror'
          ? 'a refused import is lost: the client throws on the 400 and never reads error'
          : 'a refused import is recorded: the client reads error 400 from an HTTP 200',
        async () => {
          const failed: unknown[] = [];
          // appVersion must be a string: the import is refused (400) and changes nothing.
          const response = await sendUser(h, dbId, user(2, { appVersion: 241 }), failed);
          if (httpStatus === 'mirror') {
            assert.equal(response.error, null);
            assert.deepEqual(failed, [], 'the failure never reaches the failed-request table');
          } else {
            assert.equal(response.error, 400);
            assert.match(String(response.error_text), /^data\.appVersion: /);
            assert.deepEqual(failed, [2]);
          }
        },
      );
    });
  }
}
