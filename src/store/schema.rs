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
        xml -> Binary,
        version -> Integer,
        submitted_by -> Text,
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
        xml -> Binary,
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
        dispensed_by -> Text,
    }
}

diesel::table! {
    consent_denials (patient_id, scope) {
        patient_id -> Text,
        scope -> Text,
        denied_at -> BigInt,
    }
}

diesel::table! {
    audit_chain (id) {
        id -> SmallInt,
        last_seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    audit_records (seq) {
        seq -> BigInt,
        event_time -> BigInt,
        event_type -> Text,
        outcome -> SmallInt,
        endpoint -> Text,
        action -> Text,
        message_id -> Nullable<Text>,
        peer_subject -> Nullable<Text>,
        peer_cn -> Nullable<Text>,
        peer_issuer -> Nullable<Text>,
        peer_country -> Nullable<Text>,
        remote_addr -> Nullable<Text>,
        user_id -> Nullable<Text>,
        user_org -> Nullable<Text>,
        user_org_id -> Nullable<Text>,
        user_role -> Nullable<Text>,
        purpose -> Nullable<Text>,
        query_id -> Nullable<Text>,
        submission_set -> Nullable<Text>,
        document_ids -> Text,
        home_community_ids -> Text,
        reason -> Nullable<Text>,
        xml -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_patients (record_seq, patient_id) {
        record_seq -> BigInt,
        patient_id -> Text,
    }
}

diesel::table! {
    audit_forwarded (id) {
        id -> SmallInt,
        last_seq -> BigInt,
    }
}

diesel::joinable!(audit_patients -> audit_records (record_seq));
diesel::allow_tables_to_appear_in_same_query!(audit_records, audit_patients);

diesel::table! {
    pivot_sources (pivot_uid) {
        pivot_uid -> Text,
        source_uid -> Text,
    }
}
