DROP TABLE dispensations;
