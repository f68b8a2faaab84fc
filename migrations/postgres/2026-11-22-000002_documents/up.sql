-- Repository documents (ITI-41/43). One row per document uniqueId; the bytes live in
-- document_chunks so no single record (and no single bind or read buffer) holds a whole
-- large document.
CREATE TABLE documents (
    unique_id TEXT PRIMARY KEY NOT NULL,
    repository_uid TEXT NOT NULL,
    entry_uuid TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    hash TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    stored_at BIGINT NOT NULL
);

CREATE TABLE document_chunks (
    unique_id TEXT NOT NULL REFERENCES documents (unique_id),
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (unique_id, seq)
);
