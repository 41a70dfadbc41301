-- Harvesting real APIs (SPEC §3): waits asked for by rate limits, child sources run per parent
-- record, and pushes.

-- While a run waits for a rate limit to reset: until when.
ALTER TABLE runs ADD COLUMN waiting_until timestamptz;
ALTER TABLE runs DROP CONSTRAINT runs_trigger_check;
ALTER TABLE runs ADD CONSTRAINT runs_trigger_check
  CHECK (trigger IN ('schedule', 'manual', 'parent', 'push'));

-- A child source's record keeps the parent record it was fetched for.
ALTER TABLE records ADD COLUMN parent_source text;
ALTER TABLE records ADD COLUMN parent_id text;

-- An incremental child source keeps one cursor per parent record.
CREATE TABLE source_cursors (
  source    text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
  parent_id text NOT NULL,
  cursor    text NOT NULL,
  PRIMARY KEY (source, parent_id)
);
