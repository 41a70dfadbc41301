-- Sources, records with their change sequence, and ingest runs.

CREATE TABLE octohub_meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);
-- Identifies this database to the index, so an index built from another database is rebuilt.
INSERT INTO octohub_meta (key, value) VALUES ('database_id', gen_random_uuid()::text);

CREATE TABLE sources (
  name        text PRIMARY KEY,
  spec        jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  cursor      text,          -- incremental cursor; advanced only by a successful run
  next_run_at timestamptz    -- when the scheduler queues the next run; null = manual only
);

-- Every insert or content change of a record takes the next value; the indexer follows it.
CREATE SEQUENCE record_change_seq;

CREATE TABLE records (
  source       text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
  id           text NOT NULL,
  data         json NOT NULL,   -- json, not jsonb: the record keeps its key order as fetched
  content_hash uuid NOT NULL,   -- XXH3-128 of data
  change_seq   bigint NOT NULL,
  fetched_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,  -- when the content last changed here
  deleted      boolean NOT NULL DEFAULT false,
  PRIMARY KEY (source, id)
);
CREATE INDEX records_change_seq ON records (change_seq);

CREATE TABLE runs (
  id                bigserial PRIMARY KEY,
  source            text NOT NULL REFERENCES sources (name) ON DELETE CASCADE,
  status            text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  trigger           text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
  queued_at         timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  pages             integer NOT NULL DEFAULT 0,
  records_seen      bigint NOT NULL DEFAULT 0,
  records_new       bigint NOT NULL DEFAULT 0,
  records_updated   bigint NOT NULL DEFAULT 0,
  records_unchanged bigint NOT NULL DEFAULT 0,
  records_deleted   bigint NOT NULL DEFAULT 0,
  records_skipped   bigint NOT NULL DEFAULT 0,
  bytes             bigint NOT NULL DEFAULT 0,
  error             text,
  lease_owner       text,
  lease_expires_at  timestamptz
);
CREATE INDEX runs_by_source ON runs (source, id DESC);
CREATE INDEX runs_queued ON runs (id) WHERE status = 'queued';
-- At most one queued or running run per source: a second request joins the first.
CREATE UNIQUE INDEX runs_one_active_per_source ON runs (source)
  WHERE status IN ('queued', 'running');
