// API limits kept out of schemas.ts, so that modules which must not load TypeBox (ties import) can
// use them.

/** Most items relations/attach_batch and strengthen_batch take in one call. */
export const MAX_BATCH_ITEMS = 1000;
