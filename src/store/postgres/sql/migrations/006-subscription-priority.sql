-- Schema version 6: a subscription's priority (Altcraft's subscription object; issue #13).
-- Existing subscriptions get Altcraft's default, 0.
ALTER TABLE subscriptions ADD COLUMN priority integer NOT NULL DEFAULT 0;
