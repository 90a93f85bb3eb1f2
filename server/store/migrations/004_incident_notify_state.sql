-- Shared notification decisions (issue 12): what has been told about an incident, and when, lives on
-- the incident's row instead of in one process's memory. Every decision to page is taken inside a
-- transaction that holds the row's lock and reads this state, so two instances never page twice for
-- one incident, and an instance killed while an incident waited out its groupWait or flap window
-- leaves the wait to whichever instance looks next. NULL on rows written before this migration:
-- the state is then rebuilt from the incident's last outbox row, as before.
ALTER TABLE incidents ADD COLUMN notify_state jsonb;
-- Which incident holds an alert (routing an emission of an alert another instance grouped).
CREATE INDEX incidents_alert_ids_idx ON incidents USING gin (alert_ids jsonb_path_ops);
-- The recently resolved incident of a group that a re-fire may re-open (the flap window).
CREATE INDEX incidents_group_key_updated_idx ON incidents (group_key, updated_at DESC);
