-- Approved actions (rollback requests to the CD system) are delivered by the delivery worker, leased
-- like outbox rows: when the next attempt is due and which worker holds the action until when, in
-- epoch milliseconds of the worker's clock. Attempts and the last error stay in `details`.
ALTER TABLE actions ADD COLUMN next_attempt_at bigint;
ALTER TABLE actions ADD COLUMN lease_owner text;
ALTER TABLE actions ADD COLUMN lease_until bigint;

-- Earlier builds kept the retry time in the details; carry it over so a waiting retry keeps its backoff.
UPDATE actions SET next_attempt_at = (details->>'nextAttemptAt')::bigint
 WHERE status = 'approved' AND details ? 'nextAttemptAt';
UPDATE actions SET details = details - 'nextAttemptAt' WHERE details ? 'nextAttemptAt';

CREATE INDEX actions_approved_idx ON actions (kind, created_at) WHERE status = 'approved';
