// TiesClient: one typed method per call of the API, over the platform's own fetch — no runtime
// dependency, so it runs in Node 20+, Deno, Bun and browsers alike.
import type { Answer, CallName, Params } from './call-map.js';
import { TiesApiError, TiesTransportError } from './client-errors.js';
import {
  parseRetryAfter,
  RETRYABLE_CODES,
  type RetryOptions,
  type RetryPolicy,
  retryDelay,
  retryPolicy,
} from './retry-policy.js';

export interface TiesClientOptions {
  /** Where Ties listens, e.g. `http://127.0.0.1:8080` (a path prefix of a reverse proxy is kept). */
  readonly baseUrl: string | URL;
  /** Sent as `Authorization: Bearer …`; never in the body or the URL. */
  readonly token?: string;
  /** Replaces the global fetch (tests, proxies, instrumentation). */
  readonly fetch?: typeof fetch;
  /** Per send; 0 disables it (default 30 000 ms). A timeout is a TiesTransportError of kind timeout. */
  readonly timeoutMs?: number;
  /** Send again after 429 and 503; off by default. `true` takes the defaults of RetryOptions. */
  readonly retry?: RetryOptions | boolean;
  /** Extra headers on every request (e.g. for a gateway). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface CallOptions {
  /** Aborts the call (and any wait between retries): a TiesTransportError of kind aborted. */
  readonly signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  readonly timeoutMs?: number;
}

/** A method of the client: the call's parameters in, its typed success answer out. */
export type CallMethod<K extends CallName> = (params: Params<K>, options?: CallOptions) => Promise<Answer<K>>;
/** A method whose call needs no parameters. */
export type BareCallMethod<K extends CallName> = (
  params?: Params<K>,
  options?: CallOptions,
) => Promise<Answer<K>>;

export const API_PATH = 'api/v1.1/';
const DEFAULT_TIMEOUT_MS = 30_000;

export class TiesClient {
  readonly relations: {
    readonly attach: CallMethod<'relations/attach'>;
    readonly detach: CallMethod<'relations/detach'>;
    readonly strengthen: CallMethod<'relations/strengthen'>;
    readonly edit: CallMethod<'relations/edit'>;
    /** Up to 1,000 attach items; the answer carries each item's own error (0 when it was applied). */
    readonly attachBatch: CallMethod<'relations/attach_batch'>;
    /** Up to 1,000 strengthen items; the answer carries each item's own error. */
    readonly strengthenBatch: CallMethod<'relations/strengthen_batch'>;
    readonly get: CallMethod<'relations/get'>;
    readonly getCounter: CallMethod<'relations/get_counter'>;
    readonly types: {
      readonly create: CallMethod<'relations/types/create'>;
      readonly list: BareCallMethod<'relations/types/list'>;
      readonly get: CallMethod<'relations/types/get'>;
      readonly update: CallMethod<'relations/types/update'>;
      readonly delete: CallMethod<'relations/types/delete'>;
    };
  };
  readonly profiles: {
    readonly import: CallMethod<'profiles/import'>;
    readonly add: CallMethod<'profiles/add'>;
    readonly update: CallMethod<'profiles/update'>;
    readonly get: CallMethod<'profiles/get'>;
    readonly delete: CallMethod<'profiles/delete'>;
  };
  readonly databases: {
    readonly list: BareCallMethod<'databases/list'>;
    readonly get: CallMethod<'databases/get'>;
    readonly fieldsGet: CallMethod<'databases/fields_get'>;
    readonly create: CallMethod<'databases/create'>;
    readonly fieldsAdd: CallMethod<'databases/fields_add'>;
  };
  readonly resources: {
    readonly list: BareCallMethod<'resources/list'>;
    readonly get: CallMethod<'resources/get'>;
    readonly create: CallMethod<'resources/create'>;
  };
  readonly tokens: {
    readonly create: CallMethod<'tokens/create'>;
    readonly list: BareCallMethod<'tokens/list'>;
    readonly revoke: CallMethod<'tokens/revoke'>;
  };

  private readonly endpoint: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(options: TiesClientOptions) {
    const base = String(options.baseUrl);
    this.endpoint = `${base.endsWith('/') ? base : `${base}/`}${API_PATH}`;
    this.headers = {
      ...options.headers,
      'content-type': 'application/json',
      accept: 'application/json',
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    };
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== 'function') throw new TypeError('fetch: not available; pass options.fetch');
    this.fetchFn = fetchFn;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = retryPolicy(options.retry);

    const m =
      <K extends CallName>(name: K): CallMethod<K> =>
      (params, callOptions) =>
        this.call(name, params, callOptions);
    const bare =
      <K extends CallName>(name: K): BareCallMethod<K> =>
      (params, callOptions) =>
        this.call(name, params ?? ({} as Params<K>), callOptions);

    this.relations = {
      attach: m('relations/attach'),
      detach: m('relations/detach'),
      strengthen: m('relations/strengthen'),
      edit: m('relations/edit'),
      attachBatch: m('relations/attach_batch'),
      strengthenBatch: m('relations/strengthen_batch'),
      get: m('relations/get'),
      getCounter: m('relations/get_counter'),
      types: {
        create: m('relations/types/create'),
        list: bare('relations/types/list'),
        get: m('relations/types/get'),
        update: m('relations/types/update'),
        delete: m('relations/types/delete'),
      },
    };
    this.profiles = {
      import: m('profiles/import'),
      add: m('profiles/add'),
      update: m('profiles/update'),
      get: m('profiles/get'),
      delete: m('profiles/delete'),
    };
    this.databases = {
      list: bare('databases/list'),
      get: m('databases/get'),
      fieldsGet: m('databases/fields_get'),
      create: m('databases/create'),
      fieldsAdd: m('databases/fields_add'),
    };
    this.resources = {
      list: bare('resources/list'),
      get: m('resources/get'),
      create: m('resources/create'),
    };
    this.tokens = {
      create: m('tokens/create'),
      list: bare('tokens/list'),
      revoke: m('tokens/revoke'),
    };
  }

  /** Sends any call by name; the named methods are shorthands for this. */
  async call<K extends CallName>(name: K, params: Params<K>, options: CallOptions = {}): Promise<Answer<K>> {
    const body = JSON.stringify(params);
    for (let attempt = 1; ; attempt++) {
      const { envelope, response } = await this.send(name, body, options);
      if (envelope.error === 0) return envelope as unknown as Answer<K>;
      const error = new TiesApiError({
        code: envelope.error,
        errorText: typeof envelope.error_text === 'string' ? envelope.error_text : '',
        status: response.status,
        call: name,
        requestId: response.headers.get('x-request-id') ?? undefined,
        attempts: attempt,
      });
      if (!RETRYABLE_CODES.has(envelope.error)) throw error;
      const wait = retryDelay(this.retry, attempt, parseRetryAfter(response.headers.get('retry-after')));
      if (wait === undefined) throw error;
      await sleep(wait, options.signal, name);
    }
  }

  /** One send: a parsed envelope, or a TiesTransportError. */
  private async send(
    name: string,
    body: string,
    options: CallOptions,
  ): Promise<{ envelope: { error: number; error_text?: unknown }; response: Response }> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(`${this.endpoint}${name}`, {
        method: 'POST',
        headers: this.headers,
        body,
        ...(signal ? { signal } : {}),
      });
      text = await response.text();
    } catch (err) {
      if (options.signal?.aborted)
        throw new TiesTransportError('aborted', name, 'aborted by the caller', { cause: err });
      if (timeout?.aborted)
        throw new TiesTransportError('timeout', name, `no answer within ${timeoutMs} ms`, { cause: err });
      throw new TiesTransportError('network', name, describe(err), { cause: err });
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch (err) {
      throw new TiesTransportError('bad_response', name, `HTTP ${response.status}: the answer is not JSON`, {
        cause: err,
        status: response.status,
      });
    }
    if (!isEnvelope(envelope)) {
      throw new TiesTransportError(
        'bad_response',
        name,
        `HTTP ${response.status}: the answer is not a Ties envelope`,
        {
          status: response.status,
        },
      );
    }
    return { envelope, response };
  }
}

function isEnvelope(value: unknown): value is { error: number; error_text?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Number.isInteger((value as { error?: unknown }).error)
  );
}

function describe(err: unknown): string {
  // fetch reports "fetch failed" and hides the reason (ECONNREFUSED…) in its cause.
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err instanceof Error ? err.message : String(err)}${cause}`;
}

function sleep(ms: number, signal: AbortSignal | undefined, call: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new TiesTransportError('aborted', call, 'aborted by the caller', { cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TiesTransportError('aborted', call, 'aborted by the caller', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
