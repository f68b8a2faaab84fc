-- Metadata Update (ITI-57/92): every version of a DocumentEntry or Folder is a row of its own;
-- versions of one logical object share `lid` and are numbered from 1 (VersionInfo/@versionName).
-- Unique: of two concurrent updates to one version, the database lets one through.
ALTER TABLE registry_objects ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX registry_objects_lid_version ON registry_objects (lid, version);
DROP INDEX registry_objects_lid;
-- Who registered the object (the caller's identity, as in the audit trail): only that source
-- may update or remove it over SOAP. Empty for objects registered before this column.
ALTER TABLE registry_objects ADD COLUMN submitted_by TEXT NOT NULL DEFAULT '';
