// A real Ties server for the client tests: in-process, on a fresh SQLite store, listening on a free
// port, with an admin token; optionally with faults injected on the real store.
import { TiesError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store.js';
import { createTies, type Ties } from '../../src/core/ties.js';
import { type AppConfig, buildApp } from '../../src/http/app.js';
import { testEngines } from '../support/engines.js';
import { ADMIN_TOKEN, TEST_APP_CONFIG } from '../support/harness.js';

export interface ClientServer {
  readonly url: string;
  readonly ties: Ties;
  readonly admin: string;
  /** The next `count` calls of the store method fail as if the store were down (503). */
  failNext(method: keyof Store, count: number): void;
  close(): Promise<void>;
}

export async function startClientServer(config: Partial<AppConfig> = {}): Promise<ClientServer> {
  const { store, cleanup } = await testEngines()[0]!.open();
  const faults = new Map<PropertyKey, number>();
  // The real store, with a switch in front of it: not a mock, every call that passes is the engine's.
  const faulty = new Proxy(store, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const left = faults.get(prop) ?? 0;
        if (left > 0) {
          faults.set(prop, left - 1);
          return Promise.reject(new TiesError('STORE_UNAVAILABLE', { reason: 'injected fault' }));
        }
        return value.apply(target, args);
      };
    },
  });
  const ties = createTies({ store: faulty });
  await ties.access.ensureAdminToken(ADMIN_TOKEN);
  const app = await buildApp({ ties, config: { ...TEST_APP_CONFIG, ...config } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    ties,
    admin: ADMIN_TOKEN,
    failNext(method, count) {
      faults.set(method, count);
    },
    async close() {
      await app.close();
      await ties.access.flushTouches();
      await cleanup();
    },
  };
}
