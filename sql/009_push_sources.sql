-- Pushed records (SPEC §3 "Push (webhooks)"): requests already taken, so that a replay of a
-- signed request within its timestamp tolerance is refused. Kept for twice the tolerance.
CREATE TABLE push_replays (
  source      text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
  key         text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, key)
);
CREATE INDEX push_replays_by_time ON push_replays (received_at);
