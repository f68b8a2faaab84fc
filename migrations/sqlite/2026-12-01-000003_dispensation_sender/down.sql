ALTER TABLE dispensations DROP COLUMN dispensed_by;
