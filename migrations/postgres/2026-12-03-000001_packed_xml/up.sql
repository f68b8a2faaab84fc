-- Entry metadata is stored compressed (zstd with the dictionary of src/store/dict); rows
-- written before keep their XML text as bytes, which the node reads as they are.
ALTER TABLE registry_objects ALTER COLUMN xml TYPE BYTEA USING convert_to(xml, 'UTF8');
ALTER TABLE associations ALTER COLUMN xml TYPE BYTEA USING convert_to(xml, 'UTF8');
