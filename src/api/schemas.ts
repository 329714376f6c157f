// TypeBox schemas of every call's parameters and answer: the one definition that validates
// requests (api/coerce.ts), documents them (/openapi.json) and types the client.
import { type TLiteral, type TSchema, type TUnion, Type } from 'typebox';
import { CHANGE_CALLS, LATEST, MAX_CHANGES_LIMIT, MAX_WAIT_MS } from '../core/change-feed.js';
import { MATCHING_MODES } from '../core/matching.js';
import {
  CHANNELS,
  CUSTOM_FIELD_TYPES,
  PROPERTY_TYPES,
  RIGHTS,
  SUBSCRIPTION_STATUSES,
} from '../core/model.js';
import { MAX_TOP } from '../core/property-types.js';
import { MAX_OFFSET, MAX_PAGE } from '../core/relation-service.js';
import { MAX_BATCH_ITEMS } from './limits.js';

// The cast keeps the value types: `values.map` yields an array, not a tuple, whose Static is never
// (the client and the services would see no valid matching, side, rights…). One literal of the
// union of the values has the same Static as the union of one literal per value.
type OneOf<T extends readonly string[]> = TUnion<[TLiteral<T[number]>]>;

function oneOf<const T extends readonly string[]>(values: T, description?: string): OneOf<T> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  ) as unknown as OneOf<T>;
}

const Id = (description: string) =>
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
const Name = Type.String({ minLength: 1, maxLength: 255 });

/** Parameters every call accepts; unknown top-level parameters are accepted and ignored (SPEC §1). */
const common = {
  token: Type.Optional(
    Type.String({ maxLength: 512, description: 'API token (or Authorization: Bearer, or ?token=)' }),
  ),
  format: Type.Optional(oneOf(['json', 'xml'], 'Answer format; defaults to the request format')),
};

export const MatchingMode = oneOf(MATCHING_MODES, 'How the profile is searched (SPEC §4)');

const identificationFields = {
  matching: Type.Optional(MatchingMode),
  email: Type.Optional(
    Type.String({ maxLength: 320, description: 'matching email, email_profile, email_sub' }),
  ),
  phone: Type.Optional(Type.String({ maxLength: 64, description: 'matching phone, phone_sub' })),
  profile_id: Type.Optional(Type.String({ maxLength: 64, description: 'matching profile_id' })),
  field_name: Type.Optional(Type.String({ maxLength: 64, description: 'matching custom: the custom field' })),
  field_value: Type.Optional(
    Type.Union([Type.String({ maxLength: 65_536 }), Type.Number(), Type.Boolean()], {
      description:
        'matching custom: the value; for a tags field, comma-separated tags that must all be present',
    }),
  ),
  resource_id: Type.Optional(Id('Limits subscription searches to this resource')),
  subscription_id: Type.Optional(
    Type.String({ maxLength: 1024, description: 'matching push_sub, custom_sub: the subscription id' }),
  ),
};

/** profile_a / profile_b: only identification fields; unknown names are refused. */
export const Identification = Type.Object(identificationFields, { additionalProperties: false });

/** Top-level matching, resource_id and field_name serve as defaults for profile_a and profile_b. */
const sideDefaults = {
  matching: identificationFields.matching,
  resource_id: identificationFields.resource_id,
  field_name: identificationFields.field_name,
};

const open = { additionalProperties: true } as const;

const WeightsRecord = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

export const RelationParams = Type.Object(
  {
    ...common,
    rel_id: Id('Relation type'),
    profile_a: Identification,
    profile_b: Identification,
    ...sideDefaults,
  },
  open,
);

export const WeightedRelationParams = Type.Object(
  {
    ...common,
    rel_id: Id('Relation type'),
    profile_a: Identification,
    profile_b: Identification,
    weights: WeightsRecord('Property name → value, typed by the relation type'),
    ...sideDefaults,
  },
  open,
);

export const RelationAnswer = Type.Object({
  profile_a: Type.String({ description: 'Id of profile A' }),
  profile_b: Type.String({ description: 'Id of profile B' }),
  relation_id: Type.Integer({ description: 'The rel_id' }),
});

export { MAX_BATCH_ITEMS };

/** One item of a batch call: the single call's parameters but the token (docs/decisions.md). */
export const BatchItem = Type.Object(
  {
    rel_id: Type.Optional(Id('Relation type of this item; defaults to the top-level rel_id')),
    profile_a: Identification,
    profile_b: Identification,
    weights: WeightsRecord('Property name → value, typed by the relation type'),
    ...sideDefaults,
  },
  open,
);

export const BatchParams = Type.Object(
  {
    ...common,
    rel_id: Id('Relation type of every item that does not name its own'),
    ...sideDefaults,
    items: Type.Array(BatchItem, {
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
      description: 'Each item is its own call, answered in order; in XML, repeated <items> elements',
    }),
  },
  open,
);

export const BatchAnswer = Type.Object({
  data: Type.Array(
    Type.Object({
      error: Type.Integer({ description: "The item's own error code: 0, 400, 404, 409, …" }),
      error_text: Type.String(),
      profile_a: Type.Optional(Type.String({ description: 'Id of profile A, when it was found' })),
      profile_b: Type.Optional(Type.String({ description: 'Id of profile B, when it was found' })),
      relation_id: Type.Integer({ description: "The item's rel_id" }),
    }),
    { description: 'One answer per item, in order' },
  ),
});

export const GetParams = Type.Object(
  {
    ...common,
    rel_id: Id('Relation type'),
    ...identificationFields,
    side: Type.Optional(oneOf(['a', 'b'], '"b": list the relations the profile initiated (profile B)')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: 'Rows per page' })),
    from: Type.Optional(Type.String({ maxLength: 64, description: 'next_from of the previous page' })),
    sort: Type.Optional(
      Type.String({
        maxLength: 64,
        description:
          'Ties: order rows by this property of the type (rows without it last), ties by the other profile id; page with offset',
      }),
    ),
    order: Type.Optional(oneOf(['asc', 'desc'], 'Ties: direction of sort (default asc)')),
    offset: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_OFFSET,
        description: 'Ties: rows to skip (next_offset of the previous page)',
      }),
    ),
    id_prefix: Type.Optional(
      Type.String({
        maxLength: 24,
        description: "Ties: only rows whose other profile's id starts with these hexadecimal digits",
      }),
    ),
    min: Type.Optional(Type.Number({ description: 'Ties: only rows whose sort property is at least this' })),
    max: Type.Optional(Type.Number({ description: 'Ties: only rows whose sort property is at most this' })),
  },
  open,
);

const PropValue = Type.Union([Type.Number(), Type.Boolean(), Type.String()]);

export const GetAnswer = Type.Object({
  data: Type.Array(
    Type.Object({
      profile_id_a: Type.String(),
      xxh_a: Type.String(),
      profile_id_b: Type.String(),
      xxh_b: Type.String(),
      db_b: Type.Optional(Type.Integer({ description: 'side a' })),
      db_a: Type.Optional(Type.Integer({ description: 'side b' })),
      props: Type.Record(Type.String(), Type.Object({ value: PropValue })),
    }),
  ),
  total_count: Type.Integer(),
  filtered_count: Type.Optional(
    Type.Integer({ description: 'Ties: relations passing id_prefix/min/max (given with one of them)' }),
  ),
  next_from: Type.Optional(Type.String({ description: 'Pass as from while rows remain (not with sort)' })),
  next_offset: Type.Optional(
    Type.Integer({ description: 'Ties: pass as offset while rows remain (given with sort or offset)' }),
  ),
});

export const CounterParams = Type.Object(
  { ...common, rel_id: Id('Relation type'), ...identificationFields },
  open,
);

export const CounterAnswer = Type.Object({
  data: Type.Object({
    profile_id: Type.String(),
    profile_xxh: Type.String(),
    total: Type.Integer(),
    props: Type.Record(
      Type.String(),
      Type.Object({
        total: Type.Integer(),
        top: Type.Union([
          Type.Array(Type.Object({ profile_id: Type.String(), value: Type.Number() })),
          Type.Null(),
        ]),
        sum: Type.Union([Type.Number(), Type.Null()]),
      }),
    ),
  }),
});

export const ChangesParams = Type.Object(
  {
    ...common,
    after: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Literal(LATEST)], {
        description:
          'Cursor: events with a larger seq (next_after of the previous answer); 0, the default, starts at the oldest event kept; "latest" starts at the head (only changes from now on)',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_CHANGES_LIMIT,
        description: 'Events per answer (default 100)',
      }),
    ),
    rel_id: Type.Optional(Id('Only events of this relation type')),
    profile_id: Type.Optional(
      Type.String({ pattern: '^[0-9a-fA-F]{24}$', description: 'Only events where this profile is A or B' }),
    ),
    wait_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_MS,
        description: 'Long-poll: with no event to answer, wait up to this long for one (default 0)',
      }),
    ),
  },
  open,
);

const Weights = Type.Record(Type.String(), PropValue);

export const ChangeEventSchema = Type.Object({
  seq: Type.Integer({ description: 'Position in the feed, increasing in commit order' }),
  at: Type.String({ description: 'Time of the change (ISO-8601 UTC)' }),
  call: oneOf(CHANGE_CALLS, 'The call that made the change (batch items carry the batch call)'),
  rel_id: Type.Integer(),
  profile_a: Type.String(),
  db_a: Type.Integer(),
  profile_b: Type.String(),
  db_b: Type.Integer(),
  before: Type.Union([Weights, Type.Null()], { description: 'null: the relation did not exist' }),
  after: Type.Union([Weights, Type.Null()], { description: 'null: the relation no longer exists' }),
});

export const ChangesAnswer = Type.Object({
  data: Type.Array(ChangeEventSchema),
  next_after: Type.Integer({ description: 'Pass as after to continue; moves on even when no event matched' }),
  oldest_seq: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The oldest event the feed still keeps (null: none)',
  }),
  head_seq: Type.Integer({
    description:
      'The newest event of the whole feed now (0: none yet); head_seq − next_after is how far behind a reader is',
  }),
});

// --- profiles --------------------------------------------------------------------------------

const ProfileData = Type.Record(Type.String(), Type.Unknown(), {
  description:
    'Field values by field name, each a value or an update function {action, value}: set, unset, incr (int and float fields; a negative value decrements), add and delete (tags fields); may contain subscriptions: [{resource_id, channel, email|phone, status, priority}]',
});

export const ProfileWriteParams = Type.Object(
  { ...common, db_id: Id('Database'), ...identificationFields, data: Type.Optional(ProfileData) },
  open,
);
export const ProfileAddParams = Type.Object(
  { ...common, db_id: Id('Database'), data: Type.Optional(ProfileData) },
  open,
);
export const ProfileLookupParams = Type.Object(
  { ...common, db_id: Id('Database'), ...identificationFields },
  open,
);

/** Most profiles profiles/get_batch reads in one call (Ties extension). */
export const MAX_GET_BATCH = 1000;

export const ProfileGetBatchParams = Type.Object(
  {
    ...common,
    db_id: Id('Database'),
    profile_ids: Type.Array(Type.String({ maxLength: 64 }), {
      minItems: 1,
      maxItems: MAX_GET_BATCH,
      description:
        'Profile ids (24 hexadecimal characters), answered in this order. In XML, repeated <profile_ids>',
    }),
    fields: Type.Optional(
      Type.Array(Type.String({ maxLength: 255 }), {
        maxItems: 1000,
        description: "Only these fields of each profile (default: all the database's fields)",
      }),
    ),
  },
  open,
);

export const ProfileGetBatchAnswer = Type.Object({
  data: Type.Array(
    Type.Object({
      profile_id: Type.String({ description: 'The id asked for (lower case)' }),
      found: Type.Boolean(),
      profile: Type.Optional(
        Type.Object(
          { id: Type.String(), db_id: Type.Integer() },
          { additionalProperties: true, description: 'id, db_id and the fields asked for that have a value' },
        ),
      ),
    }),
    { description: 'One entry per id asked for, in order' },
  ),
});

/** Most profiles one batch call takes: Altcraft's recommended maximum per request. */
export const MAX_PROFILE_BATCH = 10_000;

const ProfileBatchItems = (description: string) =>
  Type.Array(Type.Record(Type.String(), Type.Unknown()), {
    minItems: 1,
    maxItems: MAX_PROFILE_BATCH,
    description,
  });

/** profiles/import_batch and update_batch: flat profiles, each matched by its own fields. */
export const ProfileBatchParams = Type.Object(
  {
    ...common,
    db_id: Id('Database'),
    matching: identificationFields.matching,
    resource_id: identificationFields.resource_id,
    field_name: identificationFields.field_name,
    data: ProfileBatchItems(
      'Profiles: field values and subscriptions, plus the fields matching needs (email, phone or the first of phones, profile_id, or the field_name field); matching, resource_id and field_name default to the top-level ones. In XML, repeated <data> elements',
    ),
  },
  open,
);
export const ProfileAddBatchParams = Type.Object(
  {
    ...common,
    db_id: Id('Database'),
    data: ProfileBatchItems(
      'Profiles to create: field values and subscriptions. In XML, repeated <data> elements',
    ),
  },
  open,
);
export const ProfileBatchAnswer = Type.Object({
  result: Type.Array(
    Type.Object({
      error: Type.Integer({ description: "The item's own error code: 0, 400, 404, 409, …" }),
      error_text: Type.String(),
      profile_id: Type.Optional(Type.String({ description: 'On success' })),
    }),
    { description: 'One answer per item, in order (Altcraft names this list result)' },
  ),
});

export const ProfileIdAnswer = Type.Object({ profile_id: Type.String() });
export const ProfileGetAnswer = Type.Object({
  data: Type.Object(
    {
      id: Type.String(),
      db_id: Type.Integer(),
      _xxh: Type.String(),
      subscriptions: Type.Array(
        Type.Object({
          resource_id: Type.Integer(),
          channel: oneOf(CHANNELS),
          email: Type.Optional(Type.String()),
          phone: Type.Optional(Type.String()),
          subscription_id: Type.Optional(Type.String()),
          email_data: Type.Optional(
            Type.Object({ email: Type.String() }, { description: "Altcraft's shape of the address" }),
          ),
          status: oneOf(SUBSCRIPTION_STATUSES),
          priority: Type.Integer({ description: "Altcraft's subscription priority; 0 unless written" }),
          is_delete: Type.Boolean({ description: 'Always false: a deleted subscription is gone' }),
        }),
      ),
    },
    { additionalProperties: true, description: 'The profile fields, plus id, db_id, _xxh and subscriptions' },
  ),
});
export const ProfileDeleteAnswer = Type.Object({ data: Type.Object({ profile_id: Type.String() }) });

// --- databases and resources -----------------------------------------------------------------

const listFilters = {
  groups: Type.Optional(
    Type.Array(Type.String({ maxLength: 255 }), {
      maxItems: 1000,
      description: 'Only items of one of these access groups (Ties: every item is in "main")',
    }),
  ),
  groups_id: Type.Optional(
    Type.Array(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), {
      maxItems: 1000,
      description: 'Only items of one of these access group ids (Ties: every item is in group 0)',
    }),
  ),
};
const paging = {
  from_id: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Id of the first item of the page (default 1; pass next_from_id for the next page)',
    }),
  ),
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 1000, description: 'Items per page (default 1000)' }),
  ),
};
export const DatabaseListParams = Type.Object(
  {
    ...common,
    ...paging,
    ui_tags: Type.Optional(
      Type.Array(Type.String({ maxLength: 255 }), {
        maxItems: 1000,
        description: 'Only databases with one of these tags (Ties keeps no tags: none match)',
      }),
    ),
    ...listFilters,
  },
  open,
);
export const ResourceListParams = Type.Object({ ...common, ...paging, ...listFilters }, open);
export const IdParams = Type.Object({ ...common, id: Id('Id') }, open);

const NEXT_FROM_ID = 'The from_id of the next page; a page with no items ends the list';
const DatabaseSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  ui_tags: Type.Array(Type.String()),
  Groups: Type.Array(Type.Object({ Id: Type.Integer(), Name: Type.String() }), {
    description: 'Access groups, capitalised as Altcraft writes them (Ties: "main", id 0)',
  }),
  created_at: Type.String(),
});
export const DatabaseListAnswer = Type.Object({
  data: Type.Array(DatabaseSummary),
  next_from_id: Type.Integer({ description: NEXT_FROM_ID }),
  total_count: Type.Integer({ description: 'Items that pass the filters, on every page' }),
});
export const DatabaseGetAnswer = Type.Object({
  data: Type.Object({
    ...DatabaseSummary.properties,
    suppress_id: Type.Null({ description: 'Suppression list: Ties keeps none' }),
  }),
});
export const FieldsAnswer = Type.Object({
  data: Type.Array(Type.Object({ name: Type.String(), type: Type.String(), is_custom: Type.Boolean() })),
});

const FieldInput = Type.Object(
  { name: Type.String({ maxLength: 64 }), type: oneOf(CUSTOM_FIELD_TYPES) },
  { additionalProperties: false },
);
const FieldList = Type.Array(FieldInput, { maxItems: 1000 });
export const DatabaseCreateParams = Type.Object(
  {
    ...common,
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    fields: Type.Optional(FieldList),
  },
  open,
);
export const FieldsAddParams = Type.Object({ ...common, id: Id('Database'), fields: FieldList }, open);
export const CreatedIdAnswer = Type.Object({ data: Type.Object({ id: Type.Integer() }) });
export const FieldsAddAnswer = Type.Object({
  data: Type.Object({ id: Type.Integer(), fields: Type.Array(Type.String()) }),
});

const ResourceSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  channels: Type.Array(oneOf(CHANNELS)),
  dbs_ids: Type.Array(Type.Integer()),
  groups: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }), {
    description: 'Access groups (Ties: "main", id 0)',
  }),
  created_at: Type.String(),
});
export const ResourceCreateParams = Type.Object(
  {
    ...common,
    name: Name,
    channels: Type.Array(oneOf(CHANNELS), { minItems: 1, maxItems: 3 }),
    dbs_ids: Type.Array(Id('Database'), { maxItems: 1000 }),
    url: Type.Optional(
      Type.String({ maxLength: 2048, description: "The resource's URL (answered by resources/get)" }),
    ),
    trk_domain: Type.Optional(
      Type.String({
        maxLength: 253,
        description: 'Subscriber-action tracking domain (answered by resources/get)',
      }),
    ),
  },
  open,
);
export const ResourceListAnswer = Type.Object({
  data: Type.Array(ResourceSummary),
  next_from_id: Type.Integer({ description: NEXT_FROM_ID }),
  total_count: Type.Integer({ description: 'Items that pass the filters, on every page' }),
});
export const ResourceGetAnswer = Type.Object({
  data: Type.Object({
    ...ResourceSummary.properties,
    url: Type.String({ description: "The resource's URL as given at creation ('' if none)" }),
    trk_domain: Type.String({ description: "The tracking domain as given at creation ('' if none)" }),
  }),
});

// --- relation types --------------------------------------------------------------------------

const PropertyInput = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    type: oneOf(PROPERTY_TYPES),
    top: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_TOP, description: 'Top N kept for get_counter' }),
    ),
    sum: Type.Optional(Type.Boolean({ description: 'Whether get_counter reports a sum' })),
  },
  { additionalProperties: false },
);
const PropertyList = Type.Array(PropertyInput, { maxItems: 1000 });

export const RelationTypeCreateParams = Type.Object(
  {
    ...common,
    name: Name,
    db_a: Id('Database of profile A (recipient)'),
    db_b: Id('Database of profile B (initiator)'),
    properties: Type.Optional(PropertyList),
  },
  open,
);
export const RelIdParams = Type.Object({ ...common, rel_id: Id('Relation type') }, open);
export const EmptyParams = Type.Object({ ...common }, open);
export const RelationTypeUpdateParams = Type.Object(
  {
    ...common,
    rel_id: Id('Relation type'),
    name: Type.Optional(Name),
    properties: Type.Optional(PropertyList),
  },
  open,
);
const RelationTypeSummary = Type.Object({
  rel_id: Type.Integer(),
  name: Type.String(),
  db_a: Type.Integer(),
  db_b: Type.Integer(),
  properties: Type.Array(
    Type.Object({
      name: Type.String(),
      type: oneOf(PROPERTY_TYPES),
      top: Type.Integer(),
      sum: Type.Boolean(),
    }),
  ),
  created_at: Type.String(),
});
export const RelIdAnswer = Type.Object({ data: Type.Object({ rel_id: Type.Integer() }) });
export const RelationTypeAnswer = Type.Object({ data: RelationTypeSummary });
export const RelationTypeListAnswer = Type.Object({ data: Type.Array(RelationTypeSummary) });

// --- tokens ----------------------------------------------------------------------------------

export const TokenCreateParams = Type.Object(
  { ...common, name: Name, rights: Type.Array(oneOf(RIGHTS), { minItems: 1, maxItems: 4 }) },
  open,
);
const TokenSummary = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  rights: Type.Array(oneOf(RIGHTS)),
  created_at: Type.String(),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
});
export const TokenCreateAnswer = Type.Object({
  data: Type.Object({ ...TokenSummary.properties, token: Type.String({ description: 'Shown once' }) }),
});
export const TokenListAnswer = Type.Object({ data: Type.Array(TokenSummary) });
export const IdAnswer = Type.Object({ data: Type.Object({ id: Type.Integer() }) });

// --- webhooks --------------------------------------------------------------------------------

export const WebhookCreateParams = Type.Object(
  {
    ...common,
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'http or https URL events are POSTed to',
    }),
    rel_id: Type.Optional(Id('Only events of this relation type')),
    profile_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Only events where this profile is A or B' }),
    ),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 256,
        description: 'Signing secret; one is made when left out. Answered once',
      }),
    ),
  },
  open,
);
const WebhookSummary = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  rel_id: Type.Union([Type.Integer(), Type.Null()]),
  profile_id: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});
export const WebhookCreateAnswer = Type.Object({
  data: Type.Object({
    ...WebhookSummary.properties,
    secret: Type.String({ description: 'Shown once: verify Ties-Signature with it' }),
  }),
});
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableText = Type.Union([Type.String(), Type.Null()]);
export const WebhookListAnswer = Type.Object({
  data: Type.Array(
    Type.Object({
      ...WebhookSummary.properties,
      position: Type.Integer({ description: 'Every event up to this seq was delivered or filtered out' }),
      last_delivered_seq: NullableInt,
      last_delivered_at: NullableText,
      lag: Type.Integer({ description: 'Events of the log after position (0: caught up)' }),
      failures: Type.Integer({ description: 'Failed attempts since the last success' }),
      last_error: NullableText,
      next_attempt_at: NullableText,
      sender: Type.Union([Type.String(), Type.Null()], {
        description: 'The server process holding the delivery lease',
      }),
    }),
  ),
});

/** The fields every answer carries (SPEC §2). */
export const Envelope = Type.Object({
  error: Type.Integer({ description: '0 on success, else the error code (SPEC §2)' }),
  error_text: Type.String(),
});

export type Schema = TSchema;
