// The two ways a client call fails: the server answered with an error envelope (TiesApiError), or
// no usable answer arrived at all (TiesTransportError) — callers retry the second kind differently.

/** The server answered, with a non-zero `error` in its envelope (SPEC §2). */
export class TiesApiError extends Error {
  override readonly name = 'TiesApiError';
  /** The envelope's `error`: 400, 401, 403, 404, 409, 413, 415, 429, 500 or 503. */
  readonly code: number;
  /** The envelope's `error_text`, e.g. `weights.donate: expected an integer`. */
  readonly errorText: string;
  /** The HTTP status (equals `code`, or 200 when the server runs with `http_status: always200`). */
  readonly status: number;
  /** The call that failed, e.g. `relations/attach`. */
  readonly call: string;
  /** The server's `x-request-id`, which a 500's error_text also names. */
  readonly requestId: string | undefined;
  /** How many times the call was sent (more than 1 when retries ran). */
  readonly attempts: number;

  constructor(init: {
    code: number;
    errorText: string;
    status: number;
    call: string;
    requestId?: string | undefined;
    attempts?: number;
  }) {
    super(`${init.call}: ${init.code} ${init.errorText}`);
    this.code = init.code;
    this.errorText = init.errorText;
    this.status = init.status;
    this.call = init.call;
    this.requestId = init.requestId;
    this.attempts = init.attempts ?? 1;
  }

  /**
   * The parameter the error names: Ties starts every error_text with its path and a colon
   * (`weights.donate`, `profile_b.email`, `profile_b`, `rel_id`, `token`…).
   */
  get param(): string | undefined {
    const match = /^([A-Za-z_][\w.[\]]*):/.exec(this.errorText);
    return match?.[1];
  }
}

/**
 * What went wrong without an envelope: `network` (connection refused or reset, DNS), `timeout`
 * (the client's timeoutMs elapsed), `aborted` (the caller's signal), `bad_response` (an answer that
 * is not a Ties envelope, e.g. a proxy's HTML error page).
 */
export type TransportFailure = 'network' | 'timeout' | 'aborted' | 'bad_response';

/** No Ties answer arrived; whether the call took effect is unknown unless `kind` is bad_response. */
export class TiesTransportError extends Error {
  override readonly name = 'TiesTransportError';
  readonly kind: TransportFailure;
  readonly call: string;
  /** The HTTP status, when a response arrived (bad_response). */
  readonly status: number | undefined;

  constructor(
    kind: TransportFailure,
    call: string,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(`${call}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.call = call;
    this.status = options.status;
  }
}

export function isTiesApiError(value: unknown): value is TiesApiError {
  return value instanceof TiesApiError;
}

export function isTiesTransportError(value: unknown): value is TiesTransportError {
  return value instanceof TiesTransportError;
}
