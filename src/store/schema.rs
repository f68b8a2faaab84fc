// Hand-written to match migrations/{sqlite,postgres}.

diesel::table! {
    patients (pid) {
        pid -> Text,
        family -> Nullable<Text>,
        given -> Nullable<Text>,
        birth_date -> Nullable<Text>,
        gender -> Nullable<Text>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    registry_objects (seq) {
        seq -> BigInt,
        uuid -> Text,
        lid -> Text,
        kind -> SmallInt,
        unique_id -> Text,
        patient_id -> Text,
        status -> SmallInt,
        on_demand -> Bool,
        creation_time -> Nullable<BigInt>,
        service_start -> Nullable<BigInt>,
        service_stop -> Nullable<BigInt>,
        submission_time -> Nullable<BigInt>,
        last_update -> Nullable<BigInt>,
        hash -> Nullable<Text>,
        size -> Nullable<BigInt>,
        repository_uid -> Nullable<Text>,
        xml -> Text,
    }
}

diesel::table! {
    object_codes (object_seq, kind, code, scheme) {
        object_seq -> BigInt,
        kind -> SmallInt,
        code -> Text,
        scheme -> Text,
    }
}

diesel::table! {
    object_values (object_seq, kind, value) {
        object_seq -> BigInt,
        kind -> SmallInt,
        value -> Text,
    }
}

diesel::table! {
    associations (seq) {
        seq -> BigInt,
        uuid -> Text,
        assoc_type -> Text,
        source -> Text,
        target -> Text,
        status -> SmallInt,
        xml -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    patients,
    registry_objects,
    object_codes,
    object_values,
    associations
);

diesel::table! {
    documents (unique_id) {
        unique_id -> Text,
        repository_uid -> Text,
        entry_uuid -> Text,
        mime_type -> Text,
        size -> BigInt,
        hash -> Text,
        chunk_count -> Integer,
        stored_at -> BigInt,
    }
}

diesel::table! {
    document_chunks (unique_id, seq) {
        unique_id -> Text,
        seq -> Integer,
        data -> Binary,
    }
}

diesel::joinable!(document_chunks -> documents (unique_id));
diesel::allow_tables_to_appear_in_same_query!(documents, document_chunks);

diesel::table! {
    dispensations (prescription_id) {
        prescription_id -> Text,
        ed_unique_id -> Text,
        patient_id -> Text,
        m10_xml -> Text,
        received_at -> BigInt,
    }
}

diesel::table! {
    consent_denials (patient_id, scope) {
        patient_id -> Text,
        scope -> Text,
        denied_at -> BigInt,
    }
}
