// SQLite schema version 5: a subscription's priority (Altcraft's subscription object; issue #13).
// Existing subscriptions get Altcraft's default, 0.
export const SUBSCRIPTION_PRIORITY_SCHEMA = `
ALTER TABLE subscriptions ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
`;
