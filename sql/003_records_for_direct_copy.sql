-- Pages of new records are copied straight into records: the change sequence and the times
-- come from defaults. The per-row foreign-key check to sources is dropped: deleting a source
-- deletes its records explicitly, in the same transaction (SourceRegistry::Delete).
ALTER TABLE records ALTER COLUMN change_seq SET DEFAULT nextval('record_change_seq');
ALTER TABLE records ALTER COLUMN fetched_at SET DEFAULT now();
ALTER TABLE records ALTER COLUMN updated_at SET DEFAULT now();
ALTER TABLE records DROP CONSTRAINT records_source_fkey;
