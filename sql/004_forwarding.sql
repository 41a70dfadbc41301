-- Forwarding: targets, rules, and the deliveries outbox (SPEC §5).

CREATE TABLE targets (
  name       text PRIMARY KEY,
  spec       jsonb NOT NULL,  -- the target as saved, secrets included (never returned)
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A rule forwards records whose change sequence is past from_seq (the sequence when it was
-- saved) and that match its query once indexed.
CREATE TABLE rules (
  name       text PRIMARY KEY,
  spec       jsonb NOT NULL,
  target     text NOT NULL REFERENCES targets (name),
  enabled    boolean NOT NULL,
  from_seq   bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE forwards (
  id         bigserial PRIMARY KEY,
  target     text NOT NULL,
  rule       text,  -- set for deliveries made by a rule
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The outbox: a delivery is one request (one record, or a batch of them), written before
-- anything is sent. Claimed with a lease; pending and failed ones are due at next_attempt_at.
CREATE TABLE deliveries (
  id               bigserial PRIMARY KEY,
  forward_id       bigint NOT NULL REFERENCES forwards (id),
  target           text NOT NULL REFERENCES targets (name) ON DELETE CASCADE,
  records          jsonb NOT NULL,  -- [{"source", "id"}]
  body             text NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_expires_at timestamptz,
  last_status      integer,  -- the last HTTP status, null for a connection failure
  last_error       text,
  response_excerpt text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
-- Few indexes, none on the lease columns, and room on each page: a claim (which only sets the
-- lease) is a HOT update, and sending stays cheap for PostgreSQL.
ALTER TABLE deliveries SET (fillfactor = 70);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id)
  WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_by_target ON deliveries (target, id);

-- A record version (content hash) is forwarded by a rule at most once.
CREATE TABLE rule_matches (
  rule         text NOT NULL REFERENCES rules (name) ON DELETE CASCADE,
  source       text NOT NULL,
  id           text NOT NULL,
  content_hash uuid NOT NULL,
  PRIMARY KEY (rule, source, id, content_hash)
);

-- How far rules have been evaluated along the record change sequence.
CREATE TABLE rule_progress (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  checkpoint bigint NOT NULL
);
INSERT INTO rule_progress (checkpoint) VALUES (0);
