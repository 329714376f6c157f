// Drives a server over HTTP with autocannon (programmatic API) and reduces its result to the figures
// the benchmark reports: requests per second, latency percentiles, and failures.
import autocannon from 'autocannon';

export interface LoadOptions {
  readonly url: string;
  /** Path of the call, e.g. /api/v1.1/relations/attach. */
  readonly path: string;
  readonly connections: number;
  readonly seconds: number;
  /** A fixed body, or one made per request (unique pairs). */
  readonly body: string | (() => string);
  readonly token?: string | undefined;
}

export interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers other than 2xx, and socket errors or timeouts. */
  readonly failures: number;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const { body } = options;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: options.path,
        headers,
        ...(typeof body === 'string'
          ? { body }
          : { setupRequest: (request: autocannon.Request) => ({ ...request, body: body() }) }),
      },
    ],
  });
  const failures = result.non2xx + result.errors + result.timeouts;
  return {
    // Completed requests over the measured time: what the server sustained.
    rps: result.requests.total / result.duration,
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures,
  };
}
