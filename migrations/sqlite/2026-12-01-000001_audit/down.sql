DROP TABLE audit_forwarded;
DROP TABLE audit_patients;
DROP TABLE audit_records;
DROP TABLE audit_chain;
