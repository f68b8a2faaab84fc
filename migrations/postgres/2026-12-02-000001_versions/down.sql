ALTER TABLE registry_objects DROP COLUMN submitted_by;
CREATE INDEX registry_objects_lid ON registry_objects (lid);
DROP INDEX registry_objects_lid_version;
ALTER TABLE registry_objects DROP COLUMN version;
