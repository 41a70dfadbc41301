-- Search analytics (SPEC §4): each search as typed, how many records it found and how long it
-- took. Kept for --analytics-days; never the key that asked.
CREATE TABLE search_log (
  at      timestamptz NOT NULL DEFAULT now(),
  query   text NOT NULL,
  hits    bigint NOT NULL,
  took_ms double precision NOT NULL
);
CREATE INDEX search_log_at ON search_log (at);
