-- eDispensations received over XDR, by the Norwegian prescription they dispense; an ePrescription
-- with a row here is offered as closed.
CREATE TABLE dispensations (
    prescription_id TEXT PRIMARY KEY NOT NULL,
    ed_unique_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    m10_xml TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX dispensations_patient ON dispensations (patient_id);
