-- Schema version 3: push subscriptions in the matching index, for matching push_sub (issue #13).
--
-- match_keys held the contacts of email ('se') and sms ('ss') subscriptions; push subscriptions
-- ('sp', keyed by the subscription id as given) join them, written by ties_save_subscriptions and
-- removed with their profile from now on. Existing push subscriptions get their rows here.

INSERT INTO match_keys (key, db_id, kind, resource_id, profile_id)
SELECT s.contact_key, p.db_id, 'sp', s.resource_id, s.profile_id
  FROM subscriptions s JOIN profiles p ON p.id = s.profile_id
 WHERE s.channel = 'push'
ON CONFLICT DO NOTHING;
