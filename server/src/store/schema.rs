//! The database schema, shared by the SQLite and PostgreSQL migrations.
//!
//! Written by hand rather than printed by `diesel print-schema`: one schema has to describe both
//! backends, so integer keys are `BigInt` everywhere (SQLite stores them as 64-bit anyway).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        must_change_password -> Bool,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        kind -> Text,
        csrf_token -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> BigInt,
        sku -> Text,
        name -> Text,
        name_en -> Nullable<Text>,
        gtin -> Nullable<Text>,
        case_size -> Integer,
        image_url -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    batches (id) {
        id -> Text,
        key_id -> Text,
        product_id -> BigInt,
        item_count -> BigInt,
        case_count -> BigInt,
        case_size -> Integer,
        production_date -> Text,
        created_at -> Timestamp,
        imported_at -> Timestamp,
        import_sha256 -> Text,
        status -> Text,
    }
}

diesel::table! {
    cases (code) {
        code -> Text,
        batch_id -> Text,
        case_index -> BigInt,
        sscc -> Nullable<Text>,
        opened -> Bool,
    }
}

diesel::table! {
    items (serial) {
        serial -> Text,
        batch_id -> Text,
        item_index -> BigInt,
        case_code -> Nullable<Text>,
        code_hash -> Text,
        status -> Text,
        custodian_kind -> Text,
        custodian_id -> Nullable<BigInt>,
        released_at -> Nullable<Timestamp>,
        verify_count -> Integer,
        mismatch_count -> Integer,
        first_verified_at -> Nullable<Timestamp>,
        first_verified_place -> Nullable<Text>,
    }
}

diesel::table! {
    custody_events (id) {
        id -> BigInt,
        serial -> Text,
        kind -> Text,
        from_kind -> Nullable<Text>,
        from_id -> Nullable<BigInt>,
        to_kind -> Nullable<Text>,
        to_id -> Nullable<BigInt>,
        actor_user_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    sightings (id) {
        id -> BigInt,
        serial -> Text,
        known_item -> Bool,
        result -> Text,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        place -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_user_id -> Nullable<BigInt>,
        action -> Text,
        subject -> Text,
        detail -> Text,
        at -> Timestamp,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(batches -> products (product_id));
diesel::joinable!(items -> batches (batch_id));
diesel::joinable!(cases -> batches (batch_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    api_tokens,
    products,
    batches,
    cases,
    items,
    custody_events,
    sightings,
    audit_log,
);
