-- eHDSI pivot documents kept in the repository, and the Norwegian source DocumentEntry each was
-- translated from: when that source is deprecated, updated or removed, its pivots go, and the
-- next cross-border query translates afresh.
CREATE TABLE pivot_sources (
    pivot_uid TEXT PRIMARY KEY NOT NULL,
    source_uid TEXT NOT NULL
);
CREATE INDEX pivot_sources_source ON pivot_sources (source_uid);
