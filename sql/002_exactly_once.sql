-- 002_exactly_once.sql - record identity for exactly-once writing.
--
-- Every record the pipeline produces has a sequence number within a stream
-- (for `sipcdr read`: a hash of the input files and the settings that shape
-- the records; see docs/storage.md). The writer commits a batch of records
-- together with the highest sequence number it holds, in one transaction:
--
--   lock (collector, stream); skip records with seq <= last_seq;
--   COPY the rest; last_seq = the batch's last; COMMIT
--
-- so a batch replayed after a crash (from the spool, or by reading the same
-- capture again) never adds a row twice, and no index on call_id is needed.

CREATE TABLE sipcdr_progress (
    collector  text        NOT NULL,
    stream     text        NOT NULL,
    last_seq   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collector, stream)
);

-- Which collector wrote a row. Not part of the record contract (CSV has no
-- such column, and COPY does not name it): the writer sets the transaction's
-- sipcdr.collector setting next to the progress row, and the default reads
-- it. Rows written before this migration, or by anyone else, are NULL.
ALTER TABLE calls ADD COLUMN collector text DEFAULT NULLIF(current_setting('sipcdr.collector', true), '');
ALTER TABLE sms ADD COLUMN collector text DEFAULT NULLIF(current_setting('sipcdr.collector', true), '');
