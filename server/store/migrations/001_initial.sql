-- changewatch durable state: alerts, incidents, changes seen, actions, the notification outbox,
-- the audit log and pipeline checkpoints. Times the delivery worker schedules by are epoch
-- milliseconds from its own (injectable) clock; times users read are timestamptz.

CREATE TABLE alerts (
  id          text PRIMARY KEY,
  status      text NOT NULL,
  severity    text NOT NULL,
  service     text NOT NULL,
  environment text NOT NULL,
  metric      text NOT NULL,
  started_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  -- The whole Alert as emitted, so new optional fields survive without a migration.
  data        jsonb NOT NULL
);
CREATE INDEX alerts_updated_idx ON alerts (updated_at DESC);
CREATE INDEX alerts_service_updated_idx ON alerts (service, updated_at DESC);

CREATE TABLE incidents (
  id              text PRIMARY KEY,
  group_key       text NOT NULL,
  status          text NOT NULL CHECK (status IN ('firing', 'acknowledged', 'resolved')),
  severity        text NOT NULL,
  title           text NOT NULL,
  service         text NOT NULL,
  environment     text NOT NULL,
  group_labels    jsonb NOT NULL,
  alert_ids       jsonb NOT NULL,
  started_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  resolved_at     timestamptz,
  acknowledged_by text,
  acknowledged_at timestamptz
);
-- Alertmanager semantics: at most one open incident per group key.
CREATE UNIQUE INDEX incidents_open_group_key_idx ON incidents (group_key) WHERE status <> 'resolved';
CREATE INDEX incidents_updated_idx ON incidents (updated_at DESC);

CREATE TABLE changes (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  service     text NOT NULL,
  environment text NOT NULL,
  author_type text NOT NULL,
  occurred_at bigint NOT NULL,
  data        jsonb NOT NULL
);
CREATE INDEX changes_occurred_idx ON changes (occurred_at DESC);
CREATE INDEX changes_service_occurred_idx ON changes (service, occurred_at DESC);

CREATE TABLE actions (
  id           text PRIMARY KEY,
  kind         text NOT NULL,
  status       text NOT NULL,
  service      text NOT NULL,
  change_id    text,
  incident_id  text,
  requested_by text NOT NULL,
  decided_by   text,
  reason       text NOT NULL,
  details      jsonb NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  expires_at   timestamptz
);
CREATE INDEX actions_kind_created_idx ON actions (kind, created_at DESC);
CREATE INDEX actions_service_created_idx ON actions (service, created_at DESC);

CREATE TABLE notification_outbox (
  id              text PRIMARY KEY,
  -- Insertion order; delivery is in seq order per (endpoint, incident_id).
  seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  endpoint        text NOT NULL,
  incident_id     text NOT NULL,
  action          text NOT NULL,
  notification    jsonb NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  created_at      bigint NOT NULL,
  next_attempt_at bigint NOT NULL,
  lease_owner     text,
  lease_until     bigint,
  delivered_at    bigint,
  last_error      text
);
CREATE INDEX notification_outbox_pending_idx ON notification_outbox (endpoint, incident_id, seq) WHERE status = 'pending';

CREATE TABLE audit_log (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at       timestamptz NOT NULL,
  actor    text NOT NULL,
  action   text NOT NULL,
  target   text,
  reason   text,
  evidence jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target, at DESC);

-- The audit log is append-only: refuse UPDATE, DELETE and TRUNCATE at the database level.
CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();

CREATE TABLE pipeline_checkpoints (
  consumer_group text PRIMARY KEY,
  state          jsonb NOT NULL,
  saved_at       timestamptz NOT NULL
);

CREATE TABLE kafka_offsets (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  "offset"       text NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition)
);
