// Written by hand to match migrations/{sqlite,postgres}: only column types that both backends
// map alike (see `store::conn`), so one schema serves both.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
        inactivity_days -> Nullable<Integer>,
        default_rate_limit_per_minute -> Nullable<Integer>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        token_digest -> Text,
        display_prefix -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        expires_at -> Nullable<Timestamp>,
        disabled_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        last_used_ip -> Nullable<Text>,
        allowed_cidrs -> Nullable<Text>,
        rate_limit_per_minute -> Nullable<Integer>,
        first_used_at -> Nullable<Timestamp>,
        rotated_from -> Nullable<Text>,
        superseded_by -> Nullable<Text>,
        rotation_grace_seconds -> Nullable<BigInt>,
        grace_until -> Nullable<Timestamp>,
        denied_cidrs -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_id -> Text,
        user_name -> Text,
        user_name_lower -> Text,
        external_id -> Nullable<Text>,
        display_name -> Nullable<Text>,
        display_name_lower -> Nullable<Text>,
        active -> Bool,
        resource -> Text,
        password_hash -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        last_modified -> Timestamp,
    }
}

diesel::table! {
    user_emails (user_id, position) {
        user_id -> Text,
        position -> Integer,
        org_id -> Text,
        value_lower -> Text,
        type_lower -> Nullable<Text>,
    }
}

diesel::table! {
    groups (id) {
        id -> Text,
        org_id -> Text,
        display_name -> Text,
        display_name_lower -> Text,
        external_id -> Nullable<Text>,
        resource -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        last_modified -> Timestamp,
    }
}

diesel::table! {
    group_members (group_id, member_id) {
        group_id -> Text,
        member_id -> Text,
        org_id -> Text,
        member_type -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        org_id -> Nullable<Text>,
        occurred_at -> Timestamp,
        event_type -> Text,
        actor -> Nullable<Text>,
        target -> Nullable<Text>,
        remote_addr -> Nullable<Text>,
        details -> Text,
    }
}

diesel::table! {
    network_zones (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        name_lower -> Text,
        cidrs -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    token_zones (token_id, zone_id) {
        token_id -> Text,
        zone_id -> Text,
        org_id -> Text,
        rule -> Text,
    }
}

diesel::table! {
    server_state (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    activity (id) {
        id -> Text,
        org_id -> Text,
        occurred_at -> Timestamp,
        request_id -> Nullable<Text>,
        method -> Text,
        path -> Text,
        status -> Integer,
        status_class -> Integer,
        scim_type -> Nullable<Text>,
        duration_us -> BigInt,
        token_id -> Nullable<Text>,
        token_name -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        idp -> Text,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        resource_name -> Nullable<Text>,
        resource_key -> Nullable<Text>,
        summary -> Text,
        request_body -> Nullable<Text>,
        response_body -> Nullable<Text>,
    }
}

diesel::joinable!(api_tokens -> organizations (org_id));
diesel::joinable!(users -> organizations (org_id));
diesel::joinable!(groups -> organizations (org_id));
diesel::joinable!(user_emails -> users (user_id));
diesel::joinable!(group_members -> groups (group_id));
diesel::joinable!(token_zones -> api_tokens (token_id));
diesel::joinable!(token_zones -> network_zones (zone_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    api_tokens,
    users,
    user_emails,
    groups,
    group_members,
    audit_events,
    server_state,
    network_zones,
    token_zones,
);

// Issue 12: the console's people. A block of its own, so that other tables join the list
// above without touching this one.
diesel::table! {
    people (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        created_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    memberships (person_id, org_id) {
        person_id -> Text,
        org_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        secret_digest -> Text,
        person_id -> Text,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    setup_codes (code_digest) {
        code_digest -> Text,
        person_id -> Nullable<Text>,
        org_id -> Nullable<Text>,
        role -> Nullable<Text>,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    form_nonces (session_id, nonce) {
        session_id -> Text,
        nonce -> Text,
        used_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> people (person_id));
diesel::joinable!(memberships -> organizations (org_id));
diesel::joinable!(sessions -> people (person_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    people,
    memberships,
    sessions,
    setup_codes,
);

// Issue 14: the change feed (events outbox, streams, deliveries, signing keys). A block of
// its own, like the one above.
diesel::table! {
    event_streams (id) {
        id -> Text,
        org_id -> Text,
        name -> Text,
        delivery -> Text,
        detail -> Text,
        event_types -> Nullable<Text>,
        resource_types -> Nullable<Text>,
        poll_token_id -> Nullable<Text>,
        push_url -> Nullable<Text>,
        push_authorization -> Nullable<Text>,
        audience -> Text,
        status -> Text,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        push_lease_owner -> Nullable<Text>,
        push_lease_until -> Nullable<Timestamp>,
        push_failing_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        id -> Text,
        org_id -> Text,
        event_type -> Text,
        activation -> Nullable<Text>,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        external_id -> Nullable<Text>,
        version -> Nullable<BigInt>,
        attributes -> Nullable<Text>,
        data -> Nullable<Text>,
        members_added -> Nullable<Text>,
        members_removed -> Nullable<Text>,
        txn_id -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    event_deliveries (stream_id, state, event_seq) {
        stream_id -> Text,
        event_seq -> BigInt,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    event_signing_keys (kid) {
        kid -> Text,
        org_id -> Text,
        private_key -> Binary,
        public_x -> Text,
        public_y -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(event_deliveries -> event_streams (stream_id));
diesel::joinable!(event_deliveries -> events (event_seq));

diesel::allow_tables_to_appear_in_same_query!(
    event_streams,
    events,
    event_deliveries,
    event_signing_keys,
    api_tokens,
);

// Issue 14: token notices sent, one row per token and notice.
diesel::table! {
    token_notices (token_id, notice) {
        token_id -> Text,
        notice -> Text,
        sent_at -> Timestamp,
    }
}

diesel::joinable!(token_notices -> api_tokens (token_id));
diesel::allow_tables_to_appear_in_same_query!(token_notices, api_tokens);
diesel::allow_tables_to_appear_in_same_query!(token_notices, audit_events);
