-- Only rows stored before compression convert back; compressed rows cannot be read as text.
ALTER TABLE registry_objects ALTER COLUMN xml TYPE TEXT USING convert_from(xml, 'UTF8');
ALTER TABLE associations ALTER COLUMN xml TYPE TEXT USING convert_from(xml, 'UTF8');
