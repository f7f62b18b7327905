-- 001_initial.sql - the calls and sms tables.
--
-- Applied by `sipcdr db migrate` inside one transaction, together with its row
-- in sipcdr_schema_version (which the migrator creates itself), so this file
-- holds no BEGIN/COMMIT. Column names and order are the public record contract
-- of record_columns() in storage/record.c and docs/records.md: the writer
-- sends COPY with exactly these columns. Columns may be added by later
-- migrations, never renamed or repurposed.
--
-- Only invite_time / time are NOT NULL: every record has the time of the
-- request that created it; everything else may be unknown (SQL NULL).

CREATE TABLE calls (
    call_id     text        NOT NULL,
    caller      text,
    callee      text,
    redirects   text,
    caller_ip   inet,
    user_agent  text,
    invite_time timestamptz NOT NULL,
    ring_time   timestamptz,
    answer_time timestamptz,
    end_time    timestamptz,
    duration_ms bigint,
    status      smallint,
    disposition text,
    hangup_by   text,
    end_reason  text
);

-- Reports and retention both select by time.
CREATE INDEX calls_invite_time_idx ON calls (invite_time);

CREATE TABLE sms (
    call_id     text        NOT NULL,
    sender      text,
    destination text,
    time        timestamptz NOT NULL,
    status      smallint,
    kind        text        NOT NULL
);

CREATE INDEX sms_time_idx ON sms (time);
