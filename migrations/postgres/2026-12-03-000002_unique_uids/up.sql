-- A SubmissionSet's uniqueId, and a Folder's (shared only by its own later versions), belong
-- to one object. The registry checks this before it stores a submission; these indexes decide
-- between two submissions checked at the same moment (two nodes on one database), so that the
-- uniqueId is stored once and the other submission gets XDSDuplicateUniqueIdInRegistry.
-- (A DocumentEntry's uniqueId may repeat for the very same document, so it has no such index.)
CREATE UNIQUE INDEX registry_objects_set_uid ON registry_objects (unique_id) WHERE kind = 2;
CREATE UNIQUE INDEX registry_objects_folder_uid ON registry_objects (unique_id) WHERE kind = 3 AND version = 1;
