// The demo workspace `npm start` loads into an empty store: two databases, three relation types
// and a few profiles, built so that the attach example of Altcraft's page works verbatim (but for
// the token): relation type 3 with user_like, donate and is_online, and profiles with its two ids.
import type { Ties } from './core/ties.js';

export const DEMO_TOKEN_NAME = 'demo';
export const DEMO_AUTHOR_ID = '5d63dbdb439e7306b596c5d0';
export const DEMO_READER_ID = '5d441038439e7363f3c26539';

/** The attach request of Altcraft's page, with a token. */
export function seedAttachRequest(token: string) {
  return {
    token,
    rel_id: 3,
    profile_a: { profile_id: DEMO_AUTHOR_ID },
    profile_b: { profile_id: DEMO_READER_ID },
    weights: { user_like: 2, donate: 343, is_online: true },
  };
}

export function seedAttachXml(token: string): string {
  return [
    '<xml>',
    `<token>${token}</token>`,
    '<rel_id>3</rel_id>',
    '<profile_a>',
    `<profile_id>${DEMO_AUTHOR_ID}</profile_id>`,
    '</profile_a>',
    '<profile_b>',
    `<profile_id>${DEMO_READER_ID}</profile_id>`,
    '</profile_b>',
    '<weights>',
    '<user_like>2</user_like>',
    '<donate>343</donate>',
    '<is_online>true</is_online>',
    '</weights>',
    '</xml>',
  ].join('\n');
}

/** Loads the demo workspace when the store has no database yet; answers whether it did. */
export async function loadDemo(ties: Ties): Promise<boolean> {
  if ((await ties.store.listDatabases(0, 1)).total > 0) return false;
  const { catalog, profiles, relations } = ties;
  const readers = (
    await catalog.createDatabase({
      name: 'Readers',
      description: 'People who read, like and donate',
      fields: [
        { name: 'CRM_ID', type: 'string' },
        { name: 'interests', type: 'tags' },
      ],
    })
  ).data.id;
  const authors = (
    await catalog.createDatabase({
      name: 'Authors',
      description: 'People who write',
      fields: [
        { name: 'CRM_ID', type: 'string' },
        { name: 'genres', type: 'tags' },
      ],
    })
  ).data.id;
  await catalog.createResource({
    name: 'Newsletter',
    channels: ['email', 'sms'],
    dbs_ids: [readers, authors],
  });
  const referred = (
    await catalog.createRelationType({
      name: 'referred',
      db_a: readers,
      db_b: readers,
      properties: [{ name: 'bonus', type: 'int', sum: true }],
    })
  ).data.rel_id;
  const household = (
    await catalog.createRelationType({
      name: 'household',
      db_a: readers,
      db_b: readers,
      properties: [
        { name: 'role', type: 'string' },
        { name: 'since', type: 'int' },
      ],
    })
  ).data.rel_id;
  const donates = (
    await catalog.createRelationType({
      name: 'donates',
      db_a: authors,
      db_b: readers,
      properties: [
        { name: 'user_like', type: 'int', top: 5, sum: true },
        { name: 'donate', type: 'int', top: 5, sum: true },
        { name: 'is_online', type: 'bool' },
      ],
    })
  ).data.rel_id;
  if (donates !== 3)
    throw new Error(`demo: expected the third relation type to get rel_id 3, got ${donates}`);

  const person = (db: number, id: string, data: Record<string, unknown>) =>
    profiles.addWithId({ db_id: db, data }, id);
  await person(authors, DEMO_AUTHOR_ID, {
    email: 'anna@example.com',
    _fname: 'Anna',
    _lname: 'Author',
    CRM_ID: 'A-1',
    genres: ['poetry'],
  });
  await person(authors, '5c910f6bc484d023b1309bee', {
    email: 'boris@example.com',
    _fname: 'Boris',
    _lname: 'Writer',
    CRM_ID: 'A-2',
    genres: ['crime', 'essays'],
  });
  await person(readers, DEMO_READER_ID, {
    email: 'ivan@example.com',
    phones: ['+7 900 000-00-01'],
    _fname: 'Ivan',
    _lname: 'Reader',
    CRM_ID: 'R-1',
    interests: ['poetry', 'jazz'],
    subscriptions: [{ resource_id: 1, channel: 'email', email: 'ivan@example.com', status: 'subscribed' }],
  });
  await person(readers, '669e6968ebf4ac52b623a997', {
    email: 'olga@example.com',
    _fname: 'Olga',
    CRM_ID: 'R-2',
    interests: ['poetry'],
  });
  await person(readers, '6751b8f1c5e3db9bcb75befa', {
    email: 'petr@example.com',
    _fname: 'Petr',
    CRM_ID: 'R-3',
    interests: ['crime'],
  });
  await person(readers, '5c910938c484d023b1309bac', {
    email: 'maria@example.com',
    _fname: 'Maria',
    CRM_ID: 'R-4',
  });

  const ctx = { encoding: 'typed' } as const;
  const link = (rel_id: number, a: string, b: string, weights: Record<string, unknown>) =>
    relations.attach({ rel_id, profile_a: { profile_id: a }, profile_b: { profile_id: b }, weights }, ctx);
  // Other readers already donate to Anna, so get and get_counter have something to show; the
  // seed pair (Ivan → Anna) is left for the newcomer's first attach.
  await link(donates, DEMO_AUTHOR_ID, '669e6968ebf4ac52b623a997', {
    user_like: 5,
    donate: 120,
    is_online: false,
  });
  await link(donates, DEMO_AUTHOR_ID, '6751b8f1c5e3db9bcb75befa', {
    user_like: 1,
    donate: 40,
    is_online: true,
  });
  await link(donates, DEMO_AUTHOR_ID, '5c910938c484d023b1309bac', { user_like: 3, donate: 500 });
  await link(donates, '5c910f6bc484d023b1309bee', DEMO_READER_ID, {
    user_like: 4,
    donate: 75,
    is_online: true,
  });
  await link(referred, '669e6968ebf4ac52b623a997', DEMO_READER_ID, { bonus: 100 });
  await link(referred, '6751b8f1c5e3db9bcb75befa', DEMO_READER_ID, { bonus: 100 });
  await link(household, '5c910938c484d023b1309bac', DEMO_READER_ID, { role: 'spouse', since: 2015 });
  return true;
}

/** A fresh demo token with every right; earlier demo tokens stop working. */
export function rotateDemoToken(ties: Ties): Promise<string> {
  return ties.access.rotateNamed(DEMO_TOKEN_NAME, ['read', 'write', 'delete', 'admin']);
}
