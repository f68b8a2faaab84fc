-- Patients who refuse an exchange: one row per patient (CX, as in registry_objects.patient_id)
-- and scope ('ehdsi': nothing about the patient crosses the border), with when it was recorded.
-- Looked up by primary key only.
CREATE TABLE consent_denials (
    patient_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    denied_at BIGINT NOT NULL,
    PRIMARY KEY (patient_id, scope)
);
