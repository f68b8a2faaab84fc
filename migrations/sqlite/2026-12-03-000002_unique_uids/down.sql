DROP INDEX registry_objects_set_uid;
DROP INDEX registry_objects_folder_uid;
