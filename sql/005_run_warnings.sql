-- What a run noticed without failing (SPEC §3 "correctness guards"): [{"code", "detail"}].
ALTER TABLE runs ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]';
