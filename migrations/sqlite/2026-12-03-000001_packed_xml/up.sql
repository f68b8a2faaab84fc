-- Entry metadata is stored compressed (zstd with the dictionary of src/store/dict). SQLite keeps
-- BLOB values in a TEXT column as they are, so the column stays; rows written before keep their
-- XML text, which the node reads as it is. Nothing to change but the migration's record.
SELECT 1;
