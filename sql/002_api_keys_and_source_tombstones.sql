-- API keys (stored as hashes) and tombstones of deleted sources for the index.

CREATE TABLE api_keys (
  id           bigserial PRIMARY KEY,
  name         text NOT NULL,
  role         text NOT NULL CHECK (role IN ('read', 'write', 'admin')),
  key_hash     text NOT NULL UNIQUE,  -- SHA-256 of the key: keys are 256 random bits
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);

-- Deleting a source deletes its records with it; the indexer learns of it from here, in
-- change-sequence order with the records, and drops the source's documents.
CREATE TABLE source_tombstones (
  source     text NOT NULL,
  change_seq bigint NOT NULL PRIMARY KEY,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
