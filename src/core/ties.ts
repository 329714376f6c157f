// Composes core: one object holding every service, built from a store and settings.
import { AccessService } from './access-service.js';
import { CatalogService, type Clock, systemClock } from './catalog-service.js';
import { ChangeFeed, type ChangeFeedOptions, DEFAULT_RETENTION } from './change-feed.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { ProfileService } from './profile-service.js';
import { RelationService } from './relation-service.js';
import type { Store } from './store.js';
import { WebhookService } from './webhook-service.js';

export interface TiesOptions {
  readonly store: Store;
  readonly clock?: Clock | undefined;
  readonly limits?: Limits | undefined;
  /** relations/get without `limit` answers at most this many rows. */
  readonly maxGetRows?: number | undefined;
  /** The change feed's settings (whether the store logs changes is the store's own option). */
  readonly feed?: ChangeFeedOptions | undefined;
}

export interface Ties {
  readonly store: Store;
  readonly catalog: CatalogService;
  readonly relations: RelationService;
  readonly profiles: ProfileService;
  readonly access: AccessService;
  /** The change feed: reads of the change log, waiting for new events, pruning. */
  readonly feed: ChangeFeed;
  /** Webhooks: the admin calls; delivery is src/outbound/. */
  readonly webhooks: WebhookService;
  readonly limits: Limits;
  /** Flushes pending bookkeeping and closes the store. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_GET_ROWS = 100_000;

export function createTies(options: TiesOptions): Ties {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const limits = options.limits ?? DEFAULT_LIMITS;
  const catalog = new CatalogService(store, clock, limits);
  const access = new AccessService(store, clock);
  const feed = new ChangeFeed(store, options.feed ?? { enabled: true, retention: DEFAULT_RETENTION });
  return {
    store,
    catalog,
    access,
    feed,
    webhooks: new WebhookService(store, clock, () => feed.enabled),
    limits,
    relations: new RelationService(store, catalog, clock, {
      limits,
      maxGetRows: options.maxGetRows ?? DEFAULT_MAX_GET_ROWS,
    }),
    profiles: new ProfileService(store, catalog, clock, limits),
    async close() {
      await feed.close();
      await access.flushTouches();
      await store.close();
    },
  };
}
