-- Forwarding that survives outages, and change-aware rules (SPEC §5).

-- A target's health, as every forwarder sees it: failing since its first failure after its
-- last success, and paused (nothing is sent) since when and why.
CREATE TABLE target_states (
  target        text PRIMARY KEY REFERENCES targets (name) ON DELETE CASCADE,
  failing_since timestamptz,
  last_error    text,
  paused_at     timestamptz,
  paused_reason text
);

-- Order per record and target: a delivery waits for the deliveries of its records to the
-- same target made before it (after_ids) until they are sent or dead. delivery_heads keeps,
-- per target and record ("source<US>id"), the last delivery made, for the next to wait on.
ALTER TABLE deliveries ADD COLUMN after_ids bigint[] NOT NULL DEFAULT '{}';
CREATE TABLE delivery_heads (
  target        text NOT NULL REFERENCES targets (name) ON DELETE CASCADE,
  record_key    text NOT NULL,
  last_delivery bigint NOT NULL,
  PRIMARY KEY (target, record_key)
);
INSERT INTO delivery_heads (target, record_key, last_delivery)
  SELECT d.target, (r ->> 'source') || chr(31) || (r ->> 'id'), max(d.id)
  FROM deliveries d, jsonb_array_elements(d.records) AS r
  WHERE d.status IN ('pending', 'failed')
  GROUP BY 1, 2;

-- A rule's `changed` pointers compare a record with the version before it, kept here when a
-- new version is stored (in the same statement, never fetched again).
ALTER TABLE records ADD COLUMN previous_data json;
