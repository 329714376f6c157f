// The one error catalogue of Ties: every failure a client can see has a stable code here.
// `status` is the envelope's `error` number (SPEC §2); the HTTP layer maps it to a status code.
// docs/errors.md lists every code, and a test keeps the two equal.

export type ErrorStatus = 400 | 401 | 403 | 404 | 408 | 409 | 410 | 413 | 415 | 429 | 431 | 500 | 503;

interface CatalogueEntry {
  readonly status: ErrorStatus;
  /** Message template; `{name}` is replaced by the detail of the same name. */
  readonly message: string;
  /** One line for docs/errors.md: when this code is answered. */
  readonly when: string;
}

export const ERROR_CATALOGUE = {
  BAD_BODY: {
    status: 400,
    message: 'body: {reason}',
    when: 'The body is not well-formed JSON or XML, declares a DOCTYPE or entity, or nests too deeply.',
  },
  BAD_REQUEST: {
    status: 400,
    message: 'request: {reason}',
    when: 'The HTTP request itself cannot be read: a malformed %-escape in the path, a bad header line or Content-Length, Content-Length with Transfer-Encoding.',
  },
  BAD_PARAMETER: {
    status: 400,
    message: '{param}: {expected}',
    when: 'A parameter is missing, has the wrong type or is out of range; the text names it and what was expected.',
  },
  UNKNOWN_PARAMETER: {
    status: 400,
    message: '{param}: unknown name, expected one of {allowed}',
    when: 'An unknown name inside weights, profile data, profile_a or profile_b.',
  },
  SELF_RELATION: {
    status: 400,
    message: 'profile_b: a profile cannot be related to itself ({profile_id})',
    when: 'profile_a and profile_b resolve to the same profile.',
  },
  INT_OVERFLOW: {
    status: 400,
    message: 'weights.{property}: result {result} is outside ±(2^53 − 1)',
    when: 'strengthen would take an int property beyond ±(2^53 − 1), or a float property to infinity.',
  },
  FIELD_FUNCTION_FAILED: {
    status: 400,
    message: '{param}: {reason}',
    when: 'An update function of a profile write cannot apply to the stored value: incr beyond ±(2^53 − 1) or to infinity, a stored value of another type, add beyond the tags limit.',
  },
  TOO_MANY_ROWS: {
    status: 400,
    message:
      'limit: profile has {count} relations, more than the {cap} returned without paging; pass limit and from',
    when: 'relations/get without limit on a profile with more relations than the configured cap.',
  },
  TOKEN_MISSING: {
    status: 401,
    message: 'token: required (in the body, an Authorization: Bearer header, or ?token=)',
    when: 'No token was sent.',
  },
  TOKEN_UNKNOWN: {
    status: 401,
    message: 'token: unknown or revoked',
    when: 'The token does not exist or was revoked.',
  },
  FORBIDDEN: {
    status: 403,
    message: 'token: lacks the {right} right needed by {call}',
    when: 'The token exists but lacks the right this call needs.',
  },
  UNKNOWN_CALL: {
    status: 404,
    message: '{path}: no such call',
    when: 'The path names no call of the API (or is not a POST).',
  },
  PROFILE_NOT_FOUND: {
    status: 404,
    message: '{side}: no profile matches',
    when: 'Matching found no profile (the text names the side: profile_a, profile_b or profile).',
  },
  RELATION_TYPE_NOT_FOUND: {
    status: 404,
    message: 'rel_id: relation type {rel_id} does not exist',
    when: 'rel_id names no relation type.',
  },
  RELATION_NOT_FOUND: {
    status: 404,
    message: 'relation: profile {profile_b} has no relation of type {rel_id} to {profile_a}',
    when: 'detach of a relation that does not exist.',
  },
  DATABASE_NOT_FOUND: {
    status: 404,
    message: '{param}: database {id} does not exist',
    when: 'A database id names no database.',
  },
  RESOURCE_NOT_FOUND: {
    status: 404,
    message: '{param}: resource {id} does not exist',
    when: 'A resource id names no resource.',
  },
  TOKEN_NOT_FOUND: {
    status: 404,
    message: 'id: token {id} does not exist',
    when: 'tokens/revoke of an unknown token id.',
  },
  WEBHOOK_NOT_FOUND: {
    status: 404,
    message: 'id: webhook {id} does not exist',
    when: 'webhooks/delete of an unknown webhook id.',
  },
  FEED_DISABLED: {
    status: 409,
    message: '{call}: the change feed is off on this server (TIES_FEED=off); turn it on to use the feed',
    when: 'relations/changes, the change stream or webhooks/create while the change feed is switched off (TIES_FEED=off).',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'request: {reason}',
    when: 'The headers or the body did not arrive in time (TIES_HEADERS_TIMEOUT_MS, TIES_REQUEST_TIMEOUT_MS).',
  },
  DUPLICATE_RELATION: {
    status: 409,
    message: 'relation: profile {profile_b} already has a relation of type {rel_id} to {profile_a}',
    when: 'attach of a relation that already exists.',
  },
  AMBIGUOUS_PROFILE: {
    status: 409,
    message: '{side}: more than one profile matches',
    when: 'Matching found more than one profile.',
  },
  EMAIL_TAKEN: {
    status: 409,
    message: '{param}: {email} is the email of another profile of database {db_id}',
    when: 'A write would give a profile an email another profile of its database already has (emails are unique within a database).',
  },
  NAME_TAKEN: {
    status: 409,
    message: '{param}: {name} already exists',
    when: 'Creating a field or property whose name already exists.',
  },
  CURSOR_EXPIRED: {
    status: 410,
    message:
      'after: events after {after} were pruned (the feed keeps events after {oldest}); start again from after=0 or a newer cursor',
    when: 'relations/changes or the change stream with a cursor older than the retained log (TIES_FEED_RETAIN_DAYS, TIES_FEED_RETAIN_COUNT).',
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'body: larger than the limit of {limit} bytes',
    when: 'The body exceeds the configured size limit.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'content-type: {reason}',
    when: 'The content type is neither JSON nor XML, and the body does not start with { or <.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'token: more than {limit} calls per second; retry later',
    when: 'The token exceeded its rate limit.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'headers: larger than {limit} bytes',
    when: "The request's headers exceed Node's limit (16 KiB).",
  },
  INTERNAL: {
    status: 500,
    message: 'internal error (request {request_id})',
    when: 'An unexpected failure; it is logged with the request id, never described in the answer.',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    message: 'store unavailable: {reason}; retry later',
    when: 'The store cannot be reached or cannot write (PostgreSQL down, disk full, read-only file).',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export type ErrorDetails = Readonly<Record<string, string | number>>;

/** A failure with a catalogue code; the only error type core throws on purpose. */
export class TiesError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, details: ErrorDetails = {}) {
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    super(formatMessage(entry.message, details));
    this.name = 'TiesError';
    this.code = code;
    this.status = entry.status;
    this.details = details;
  }
}

function formatMessage(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = details[name];
    return value === undefined ? whole : String(value);
  });
}

/** Shorthand for the most common failure: a parameter that is missing or ill-typed. */
export function badParameter(param: string, expected: string): TiesError {
  return new TiesError('BAD_PARAMETER', { param, expected });
}

export function isTiesError(value: unknown): value is TiesError {
  return value instanceof TiesError;
}
