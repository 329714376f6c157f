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

/** One event of the change feed, as relations/changes answers it. */
export type ChangeEventOf = Answer<'relations/changes'>['data'][number];

export interface FollowChangesOptions {
  /**
   * Start after this seq (default 0: the oldest event kept), or 'latest': at the head of the feed
   * when following starts (only changes from then on).
   */
  readonly after?: number | 'latest';
  /** Only events of this relation type. */
  readonly relId?: number;
  /** Only events where this profile is A or B. */
  readonly profileId?: string;
  /** Events per request (default the server's, 100). */
  readonly limit?: number;
  /** How long each request waits for an event (default 25 000 ms, at most 30 000). */
  readonly waitMs?: number;
  /** Stops following; the iteration ends. */
  readonly signal?: AbortSignal;
}

export const API_PATH = 'api/v1.1/';
const DEFAULT_TIMEOUT_MS = 30_000;

/** `fields_get` → `fieldsGet`: a path segment as a method name. */
type Camel<T extends string> = T extends `${infer H}_${infer R}` ? `${H}${Capitalize<Camel<R>>}` : T;

/** A call whose parameters are all optional may be sent without them. */
type Method<K extends CallName> = object extends Params<K> ? BareCallMethod<K> : CallMethod<K>;

/**
 * The methods of the calls under `P/`, derived from the call map: `relations/get_counter` is
 * `relations.getCounter`, `relations/types/create` is `relations.types.create`.
 */
export type MethodGroup<P extends string> = {
  readonly [K in CallName as K extends `${P}/${infer R}`
    ? R extends `${infer G}/${string}`
      ? G
      : Camel<R>
    : never]: K extends `${P}/${infer R}`
    ? R extends `${infer G}/${string}`
      ? MethodGroup<`${P}/${G}`>
      : Method<K>
    : never;
};

/** `getCounter` → `get_counter`. */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

type Send = (name: string, params: object, options?: CallOptions) => Promise<unknown>;

/**
 * The methods under one path, built on use from the names asked for: the client keeps no list of
 * calls (the types above derive from the server's table). A name that is not a call reaches the
 * server and answers its 404; the types never offer one.
 */
function methodTree(send: Send, path: string): unknown {
  const children = new Map<string, unknown>();
  const method = (params?: object, options?: CallOptions) => send(path, params ?? {}, options);
  return new Proxy(method, {
    get(target, key, receiver) {
      // Function's own members, symbols and "then" (so that awaiting a group is not a call) stay as they are.
      if (typeof key !== 'string' || key === 'then' || key in Function.prototype) {
        return Reflect.get(target, key, receiver);
      }
      let child = children.get(key);
      if (child === undefined) {
        child = methodTree(send, `${path}/${snake(key)}`);
        children.set(key, child);
      }
      return child;
    },
  });
}

export class TiesClient {
  readonly relations: MethodGroup<'relations'>;
  readonly profiles: MethodGroup<'profiles'>;
  readonly databases: MethodGroup<'databases'>;
  readonly resources: MethodGroup<'resources'>;
  readonly tokens: MethodGroup<'tokens'>;
  readonly webhooks: MethodGroup<'webhooks'>;

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
    // Called as a plain function, never as a method of the client: a browser's fetch refuses any
    // `this` but the window ("Illegal invocation"); Node's does not care, so only browsers showed it.
    this.fetchFn = (input, init) => fetchFn(input, init);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = retryPolicy(options.retry);

    const send: Send = (name, params, callOptions) =>
      this.call(name as CallName, params as Params<CallName>, callOptions);
    this.relations = methodTree(send, 'relations') as MethodGroup<'relations'>;
    this.profiles = methodTree(send, 'profiles') as MethodGroup<'profiles'>;
    this.databases = methodTree(send, 'databases') as MethodGroup<'databases'>;
    this.resources = methodTree(send, 'resources') as MethodGroup<'resources'>;
    this.tokens = methodTree(send, 'tokens') as MethodGroup<'tokens'>;
    this.webhooks = methodTree(send, 'webhooks') as MethodGroup<'webhooks'>;
  }

  /**
   * Follows the change feed: yields every event after `after`, in order, long-polling
   * relations/changes (wait_ms) while there is none, for as long as the loop runs or until
   * `signal` aborts (the iteration then ends quietly). Network failures, timeouts, 429 and 503 are
   * retried with backoff; any other error (an expired cursor: 410) ends it with that error. The
   * event's `seq` is the cursor to resume from.
   */
  async *followChanges(options: FollowChangesOptions = {}): AsyncGenerator<ChangeEventOf, void, undefined> {
    let after: number | 'latest' = options.after ?? 0;
    const waitMs = options.waitMs ?? 25_000;
    let failures = 0;
    for (;;) {
      if (options.signal?.aborted) return;
      let page: Answer<'relations/changes'>;
      try {
        page = await this.call(
          'relations/changes',
          {
            after,
            wait_ms: waitMs,
            ...(options.limit === undefined ? {} : { limit: options.limit }),
            ...(options.relId === undefined ? {} : { rel_id: options.relId }),
            ...(options.profileId === undefined ? {} : { profile_id: options.profileId }),
          },
          { timeoutMs: waitMs + 15_000, ...(options.signal ? { signal: options.signal } : {}) },
        );
        failures = 0;
      } catch (err) {
        if (options.signal?.aborted) return;
        const passing =
          err instanceof TiesTransportError
            ? err.kind !== 'aborted' && err.kind !== 'bad_response'
            : err instanceof TiesApiError && RETRYABLE_CODES.has(err.code);
        if (!passing) throw err;
        failures++;
        try {
          await sleep(
            Math.min(10_000, 250 * 2 ** Math.min(failures, 6)),
            options.signal,
            'relations/changes',
          );
        } catch {
          return;
        }
        continue;
      }
      for (const event of page.data) {
        yield event;
        after = event.seq;
      }
      // After 'latest', the head the server found is the cursor from here on.
      after = typeof after === 'number' ? Math.max(after, page.next_after) : page.next_after;
    }
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
