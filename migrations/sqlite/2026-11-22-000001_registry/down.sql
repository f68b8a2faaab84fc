DROP TABLE associations; DROP TABLE object_values; DROP TABLE object_codes; DROP TABLE registry_objects; DROP TABLE patients;
