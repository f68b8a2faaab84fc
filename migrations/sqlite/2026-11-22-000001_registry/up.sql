CREATE TABLE patients (
    pid TEXT PRIMARY KEY NOT NULL,
    family TEXT,
    given TEXT,
    birth_date TEXT,
    gender TEXT,
    updated_at BIGINT NOT NULL
);

-- DocumentEntries, SubmissionSets and Folders. xml holds the canonical ebRIM fragment
-- without status/home, which are added when answering.
CREATE TABLE registry_objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    lid TEXT NOT NULL,
    kind SMALLINT NOT NULL,
    unique_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    status SMALLINT NOT NULL,
    on_demand BOOLEAN NOT NULL,
    creation_time BIGINT,
    service_start BIGINT,
    service_stop BIGINT,
    submission_time BIGINT,
    last_update BIGINT,
    hash TEXT,
    size BIGINT,
    repository_uid TEXT,
    xml TEXT NOT NULL
);
CREATE INDEX registry_objects_patient ON registry_objects (patient_id, kind, status);
CREATE INDEX registry_objects_unique_id ON registry_objects (unique_id);
CREATE INDEX registry_objects_lid ON registry_objects (lid);

-- Coded attributes (class, type, format, event, ...), keyed by the owning object.
CREATE TABLE object_codes (
    object_seq BIGINT NOT NULL REFERENCES registry_objects (seq),
    kind SMALLINT NOT NULL,
    code TEXT NOT NULL,
    scheme TEXT NOT NULL,
    PRIMARY KEY (object_seq, kind, code, scheme)
);

-- Multi-valued plain attributes: 1 = authorPerson, 2 = referenceIdList, 3 = sourceId.
CREATE TABLE object_values (
    object_seq BIGINT NOT NULL REFERENCES registry_objects (seq),
    kind SMALLINT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (object_seq, kind, value)
);
CREATE INDEX object_values_value ON object_values (kind, value);

CREATE TABLE associations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    assoc_type TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    status SMALLINT NOT NULL,
    xml TEXT NOT NULL
);
CREATE INDEX associations_source ON associations (source, assoc_type);
CREATE INDEX associations_target ON associations (target, assoc_type);
