-- Partition checkpoints (issue 12): the state of each telemetry partition, one row per series, with
-- the next offset not reflected in it. A save writes the series that changed and the offset in one
-- transaction; an instance assigned the partition loads its rows before processing its first message.
CREATE TABLE partition_checkpoints (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  "offset"       bigint NOT NULL,
  saved_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, topic, partition)
);

CREATE TABLE series_checkpoints (
  consumer_group text NOT NULL,
  topic          text NOT NULL,
  partition      integer NOT NULL,
  -- JSON-quoted: text cannot hold the \u0000 that keys contain.
  series_key     text NOT NULL,
  -- The series' JSON as text: jsonb refuses the \u0000 that series keys and detector state hold.
  state          text NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition, series_key)
);
