-- The ATNA audit trail, a hash chain: each record stores the SHA-256 of its predecessor
-- (prev_hash) and of its own fields (hash); `ncpeh audit verify` recomputes both.

-- The chain head: one row, updated first by every append. The row lock lines concurrent appends
-- up on PostgreSQL (each sees the head its predecessor committed); on SQLite the update takes
-- the database write lock. It also tells a deleted last record from an intact chain.
CREATE TABLE audit_chain (
    id SMALLINT PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_chain (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- seq is given by the chain head, not by the database, so that a gap means a deletion.
-- Lists (document_ids, home_community_ids) are newline-separated.
CREATE TABLE audit_records (
    seq BIGINT PRIMARY KEY NOT NULL,
    event_time BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    outcome SMALLINT NOT NULL,
    endpoint TEXT NOT NULL,
    action TEXT NOT NULL,
    message_id TEXT,
    peer_subject TEXT,
    peer_cn TEXT,
    peer_issuer TEXT,
    peer_country TEXT,
    remote_addr TEXT,
    user_id TEXT,
    user_org TEXT,
    user_org_id TEXT,
    user_role TEXT,
    purpose TEXT,
    query_id TEXT,
    submission_set TEXT,
    document_ids TEXT NOT NULL,
    home_community_ids TEXT NOT NULL,
    reason TEXT,
    xml TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_records_time ON audit_records (event_time);
CREATE INDEX audit_records_peer ON audit_records (peer_cn, event_time);

-- The patients a record names: `audit list --patient` starts here.
CREATE TABLE audit_patients (
    record_seq BIGINT NOT NULL REFERENCES audit_records (seq),
    patient_id TEXT NOT NULL,
    PRIMARY KEY (record_seq, patient_id)
);
CREATE INDEX audit_patients_patient ON audit_patients (patient_id, record_seq);

-- How far the syslog forwarder has got: records after last_seq are still queued.
CREATE TABLE audit_forwarded (
    id SMALLINT PRIMARY KEY NOT NULL,
    last_seq BIGINT NOT NULL
);
INSERT INTO audit_forwarded (id, last_seq) VALUES (1, 0);
