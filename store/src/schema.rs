//! The database schema, shared by the SQLite and PostgreSQL migrations.
//!
//! Written by hand rather than printed by `diesel print-schema`: one schema has to describe both
//! backends, so integer keys are `BigInt` everywhere (SQLite stores them as 64-bit anyway).
//! Columns that hold a domain enum have a SQL type of their own (`sql_types`, stored as TEXT):
//! see `typed.rs`.

/// The SQL types of the columns that hold a domain enum, each stored as TEXT.
pub mod sql_types {
    use crate::domain::Role;
    use crate::domain::custody::{CustodianKind, CustodyEventKind, ItemStatus};
    use crate::domain::diversion::PlaceSource;
    use crate::domain::diversion::alert::AlertAction;
    use crate::domain::diversion::alert::{AlertKind, AlertStatus, Channel};
    use crate::domain::joining::FieldType;
    use crate::domain::joining::Status as ApplicationStatus;
    use crate::domain::levels::application::Status as LevelApplicationStatus;
    use crate::domain::levels::{
        ActivityKind, Cause as LevelChangeCause, ChangeKind as LevelChangeKind,
    };
    use crate::domain::marketing::{CampaignState, PrizeKind};
    use crate::domain::network::earnings::PaidVia;
    use crate::domain::network::order::{OrderKind, OrderState};
    use crate::domain::network::policy::ApprovalMode;
    use crate::domain::network::tracking::{TrackingSource, TrackingStatus};
    use crate::domain::network::{
        AgentStatus, PartyKind, PolicyStatus, PostingKind, WithdrawalStatus,
    };
    use crate::domain::printing::{JobKind, JobState};
    use crate::domain::role::TokenKind;
    text_enum!(
        /// `campaigns.state`.
        CampaignStateText => CampaignState, name: |s| s.as_str(), parse: CampaignState::parse
    );
    text_enum!(
        /// `campaign_prizes.kind`, `campaign_rewards.kind`.
        PrizeKindText => PrizeKind, name: |k| k.as_str(), parse: PrizeKind::parse
    );
    use crate::domain::retail::{CustomerSource, RetailOrderState};
    use crate::typed::text_enum;
    use chainmark_wire::ScanKind;

    text_enum!(
        /// `restock_orders.state`, `order_events.{from,to}_state`.
        OrderStateText => OrderState, name: |s| s.as_str(), parse: OrderState::parse
    );
    text_enum!(
        /// `postings.kind`.
        PostingKindText => PostingKind, name: |k| k.as_str(), parse: PostingKind::parse
    );
    text_enum!(
        /// `restock_orders.kind`.
        OrderKindText => OrderKind, name: |k| k.as_str(), parse: OrderKind::parse
    );
    text_enum!(
        /// `agents.status`.
        AgentStatusText => AgentStatus, name: |s| s.as_str(), parse: AgentStatus::parse
    );
    text_enum!(
        /// `withdrawals.status`.
        WithdrawalStatusText => WithdrawalStatus, name: |s| s.as_str(), parse: WithdrawalStatus::parse
    );
    text_enum!(
        /// `applications.status` (joining).
        ApplicationStatusText => ApplicationStatus, name: |s| s.as_str(), parse: ApplicationStatus::parse
    );
    text_enum!(
        /// `level_applications.status`.
        LevelApplicationStatusText => LevelApplicationStatus,
        name: |s| s.as_str(),
        parse: LevelApplicationStatus::parse
    );
    text_enum!(
        /// `policy_versions.status`, `level_policies.status`.
        PolicyStatusText => PolicyStatus, name: |s| s.as_str(), parse: PolicyStatus::parse
    );
    text_enum!(
        /// `users.role`: what the account may do.
        RoleText => Role, name: |r| r.as_str(), parse: Role::parse
    );
    text_enum!(
        /// `diversion_alerts.kind`.
        AlertKindText => AlertKind, name: |k| k.as_str(), parse: AlertKind::parse
    );
    text_enum!(
        /// `diversion_alerts.status`.
        AlertStatusText => AlertStatus, name: |s| s.as_str(), parse: AlertStatus::parse
    );
    text_enum!(
        /// `diversion_alerts.channel`.
        ChannelText => Channel, name: |c| c.as_str(), parse: Channel::parse
    );
    text_enum!(
        /// `sightings.place_source`, `diversion_alerts.place_source`.
        PlaceSourceText => PlaceSource, name: |p| p.as_str(), parse: PlaceSource::parse
    );
    text_enum!(
        /// `seller_kind`, `shipper_kind`, `devices.owner_kind`: HQ or an agent (whose id sits
        /// beside it).
        PartyKindText => PartyKind, name: |k| k.as_str(), parse: PartyKind::parse
    );
    text_enum!(
        /// `tracking_events.status`: where the parcel is.
        TrackingStatusText => TrackingStatus, name: |s| s.as_str(), parse: TrackingStatus::parse
    );
    text_enum!(
        /// `tracking_events.source`: typed by the shipper or fetched from the courier.
        TrackingSourceText => TrackingSource, name: |s| s.as_str(), parse: TrackingSource::parse
    );
    text_enum!(
        /// `print_jobs.state`.
        PrintJobStateText => JobState, name: |s| s.as_str(), parse: JobState::parse
    );
    text_enum!(
        /// `print_jobs.kind`.
        PrintJobKindText => JobKind, name: |k| k.as_str(), parse: JobKind::parse
    );
    text_enum!(
        /// `end_customers.source`.
        CustomerSourceText => CustomerSource, name: |s| s.as_str(), parse: CustomerSource::parse
    );
    text_enum!(
        /// `retail_orders.state`.
        RetailOrderStateText => RetailOrderState, name: |s| s.as_str(), parse: RetailOrderState::parse
    );
    text_enum!(
        /// `applications.approval_mode`, `level_applications.approval_mode`.
        ApprovalModeText => ApprovalMode, name: |m| m.as_str(), parse: ApprovalMode::parse
    );
    text_enum!(
        /// `restock_orders.paid_via`.
        PaidViaText => PaidVia, name: |v| v.as_str(), parse: PaidVia::parse
    );
    text_enum!(
        /// `items.status`, `batches.status`: active, or ended by a void or a recall.
        ItemStatusText => ItemStatus, name: |s| s.as_str(), parse: ItemStatus::parse
    );
    text_enum!(
        /// `items.custodian_kind`, `custody_events.{from,to}_kind` (the id beside it names the
        /// agent or the order).
        CustodianKindText => CustodianKind, name: |k| k.as_str(), parse: CustodianKind::parse
    );
    text_enum!(
        /// `custody_events.kind`.
        CustodyEventKindText => CustodyEventKind, name: |k| k.as_str(), parse: CustodyEventKind::parse
    );
    text_enum!(
        /// `level_changes.kind`.
        LevelChangeKindText => LevelChangeKind, name: |k| k.as_str(), parse: LevelChangeKind::parse
    );
    text_enum!(
        /// `level_changes.cause`.
        LevelChangeCauseText => LevelChangeCause, name: |c| c.as_str(), parse: LevelChangeCause::parse
    );
    text_enum!(
        /// `level_activity.kind`.
        ActivityKindText => ActivityKind, name: |k| k.as_str(), parse: ActivityKind::parse
    );
    text_enum!(
        /// `api_tokens.kind`: a bearer token of the API or a page session.
        TokenKindText => TokenKind, name: |k| k.as_str(), parse: TokenKind::parse
    );
    text_enum!(
        /// `join_fields.kind` (a choice field's answers sit beside it, in `choices`).
        FieldTypeText => FieldType, name: |t| t.as_str(), parse: FieldType::parse
    );
    text_enum!(
        /// `diversion_alerts.action`: what confirming the alert did to its agent.
        AlertActionText => AlertAction, name: |a| a.as_str(), parse: AlertAction::parse
    );
    text_enum!(
        /// `device_scans.kind`: what a handheld's scan does (the wire's name).
        ScanKindText => ScanKind, name: |k| k.as_str(), parse: ScanKind::parse
    );
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> RoleText,
        must_change_password -> Bool,
        disabled -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        kind -> TokenKindText,
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
    use diesel::sql_types::*;
    use super::sql_types::*;

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
        status -> ItemStatusText,
        imported_by -> Nullable<BigInt>,
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
    use diesel::sql_types::*;
    use super::sql_types::*;

    items (serial) {
        serial -> Text,
        batch_id -> Text,
        item_index -> BigInt,
        case_code -> Nullable<Text>,
        code_hash -> Text,
        status -> ItemStatusText,
        custodian_kind -> CustodianKindText,
        custodian_id -> Nullable<BigInt>,
        released_at -> Nullable<Timestamp>,
        verify_count -> Integer,
        mismatch_count -> Integer,
        first_verified_at -> Nullable<Timestamp>,
        first_verified_place -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    custody_events (id) {
        id -> BigInt,
        serial -> Text,
        kind -> CustodyEventKindText,
        from_kind -> Nullable<CustodianKindText>,
        from_id -> Nullable<BigInt>,
        to_kind -> Nullable<CustodianKindText>,
        to_id -> Nullable<BigInt>,
        actor_user_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        at -> Timestamp,
        device_id -> Nullable<Text>,
        device_seq -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

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
        region_code -> Nullable<Text>,
        place_source -> Nullable<PlaceSourceText>,
        expected_region -> Nullable<Text>,
        bot -> Bool,
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

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    devices (id) {
        id -> Text,
        warehouse -> Text,
        owner_kind -> PartyKindText,
        owner_id -> Nullable<BigInt>,
        secret_generation -> Integer,
        revoked -> Bool,
        online -> Bool,
        last_seen_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    device_scans (device_id, seq) {
        device_id -> Text,
        seq -> BigInt,
        kind -> ScanKindText,
        code -> Text,
        context -> Nullable<Text>,
        scanned_at -> Text,
        received_at -> Timestamp,
        result -> Text,
        items_moved -> Integer,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(batches -> products (product_id));
diesel::joinable!(items -> batches (batch_id));
diesel::joinable!(cases -> batches (batch_id));
diesel::joinable!(items -> cases (case_code));

diesel::table! {
    server_facts (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    job_runs (job, due) {
        job -> Text,
        due -> Text,
        instance -> Text,
        ran_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    job_runs,
    server_facts,
    api_tokens,
    products,
    batches,
    cases,
    items,
    custody_events,
    sightings,
    audit_log,
    devices,
    device_scans,
);

// The agent network (migration 2026-11-24-000001_network). Money columns are `*_cents`.

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    policy_versions (id) {
        id -> BigInt,
        version -> BigInt,
        name -> Text,
        document -> Text,
        status -> PolicyStatusText,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        activated_at -> Nullable<Timestamp>,
        activated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    agents (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        name -> Text,
        tier_rank -> Integer,
        referrer_id -> Nullable<BigInt>,
        supplier_id -> Nullable<BigInt>,
        region -> Text,
        status -> AgentStatusText,
        joined_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        activated_tier_rank -> Nullable<Integer>,
        policy_version -> BigInt,
        entry_paid_cents -> BigInt,
        entry_items -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    restock_orders (id) {
        id -> BigInt,
        kind -> OrderKindText,
        buyer_id -> BigInt,
        tier_rank -> Integer,
        seller_kind -> PartyKindText,
        seller_id -> Nullable<BigInt>,
        quantity -> BigInt,
        goods_amount_cents -> BigInt,
        policy_version -> BigInt,
        receive_days -> Integer,
        state -> OrderStateText,
        shipper_kind -> Nullable<PartyKindText>,
        shipper_id -> Nullable<BigInt>,
        shipper_amount_cents -> Nullable<BigInt>,
        paid_via -> Nullable<PaidViaText>,
        rebate_agent_id -> Nullable<BigInt>,
        rebate_cents -> Nullable<BigInt>,
        award_agent_id -> Nullable<BigInt>,
        award_cents -> Nullable<BigInt>,
        return_days -> Nullable<Integer>,
        shipped_quantity -> BigInt,
        returned_quantity -> BigInt,
        open_case -> Bool,
        created_at -> Timestamp,
        paid_at -> Nullable<Timestamp>,
        shipped_at -> Nullable<Timestamp>,
        received_at -> Nullable<Timestamp>,
        due_at -> Nullable<Timestamp>,
        upgrade_allowance_cents -> Nullable<BigInt>,
        returned_amount_cents -> BigInt,
    }
}

diesel::table! {
    order_lines (id) {
        id -> BigInt,
        order_id -> BigInt,
        position -> Integer,
        product_id -> BigInt,
        quantity -> BigInt,
        unit_price_cents -> BigInt,
        goods_amount_cents -> BigInt,
        upgrade_allowance_cents -> Nullable<BigInt>,
        supplier_chain -> Text,
        shipped_quantity -> BigInt,
        returned_quantity -> BigInt,
        shipper_amount_cents -> Nullable<BigInt>,
        rebate_cents -> Nullable<BigInt>,
        award_cents -> Nullable<BigInt>,
    }
}

diesel::table! {
    order_line_legs (id) {
        id -> BigInt,
        line_id -> BigInt,
        position -> Integer,
        unit_price_cents -> BigInt,
        goods_amount_cents -> BigInt,
        margin_cents -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    order_legs (id) {
        id -> BigInt,
        order_id -> BigInt,
        position -> Integer,
        buyer_id -> BigInt,
        seller_kind -> PartyKindText,
        seller_id -> Nullable<BigInt>,
        goods_amount_cents -> BigInt,
        margin_cents -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    order_events (id) {
        id -> BigInt,
        order_id -> BigInt,
        from_state -> Nullable<OrderStateText>,
        to_state -> OrderStateText,
        actor_user_id -> Nullable<BigInt>,
        note -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    order_items (id) {
        id -> BigInt,
        order_id -> BigInt,
        serial -> Text,
        shipped_at -> Timestamp,
        shipped_by -> Nullable<BigInt>,
        received_at -> Nullable<Timestamp>,
        returned_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    order_refunds (id) {
        id -> BigInt,
        order_id -> BigInt,
        quantity -> BigInt,
        returned_before -> BigInt,
        after_completion -> Bool,
        reason -> Text,
        actor_user_id -> Nullable<BigInt>,
        at -> Timestamp,
        line_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    ledger_accounts (id) {
        id -> BigInt,
        code -> Text,
        agent_id -> Nullable<BigInt>,
        wallet -> Text,
        balance_cents -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    postings (id) {
        id -> BigInt,
        idempotency_key -> Text,
        kind -> PostingKindText,
        order_id -> Nullable<BigInt>,
        withdrawal_id -> Nullable<BigInt>,
        policy_version -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    posting_lines (id) {
        id -> BigInt,
        posting_id -> BigInt,
        account_id -> BigInt,
        amount_cents -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    withdrawals (id) {
        id -> BigInt,
        agent_id -> BigInt,
        amount_cents -> BigInt,
        status -> WithdrawalStatusText,
        requested_at -> Timestamp,
        requested_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<BigInt>,
        paid_at -> Nullable<Timestamp>,
        reference -> Nullable<Text>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    monthly_statements (id) {
        id -> BigInt,
        agent_id -> BigInt,
        month -> Text,
        opening_available_cents -> BigInt,
        opening_frozen_cents -> BigInt,
        earned_cents -> BigInt,
        settled_cents -> BigInt,
        refunds_cents -> BigInt,
        payments_cents -> BigInt,
        withdrawals_cents -> BigInt,
        closing_available_cents -> BigInt,
        closing_frozen_cents -> BigInt,
        line_count -> BigInt,
        generated_at -> Timestamp,
        migrated_cents -> BigInt,
    }
}

diesel::joinable!(agents -> users (user_id));
diesel::joinable!(order_lines -> restock_orders (order_id));
diesel::joinable!(order_lines -> products (product_id));
diesel::joinable!(order_line_legs -> order_lines (line_id));
diesel::joinable!(order_legs -> restock_orders (order_id));
diesel::joinable!(order_events -> restock_orders (order_id));
diesel::joinable!(order_items -> restock_orders (order_id));
diesel::joinable!(order_items -> items (serial));
diesel::joinable!(order_refunds -> restock_orders (order_id));
diesel::joinable!(posting_lines -> postings (posting_id));
diesel::joinable!(posting_lines -> ledger_accounts (account_id));
diesel::joinable!(withdrawals -> agents (agent_id));
diesel::joinable!(monthly_statements -> agents (agent_id));

diesel::allow_tables_to_appear_in_same_query!(
    policy_versions,
    agents,
    restock_orders,
    order_lines,
    order_line_legs,
    order_legs,
    order_events,
    order_items,
    order_refunds,
    ledger_accounts,
    postings,
    posting_lines,
    withdrawals,
    monthly_statements,
);
// Pairs with the foundation's tables, one by one: the macro pairs every table of a list with
// every other, and the foundation's pairs are declared above already.
diesel::allow_tables_to_appear_in_same_query!(agents, users);
diesel::allow_tables_to_appear_in_same_query!(restock_orders, products);
diesel::allow_tables_to_appear_in_same_query!(order_lines, products);
diesel::allow_tables_to_appear_in_same_query!(order_lines, batches);
diesel::allow_tables_to_appear_in_same_query!(order_lines, items);
diesel::allow_tables_to_appear_in_same_query!(order_items, items);
diesel::allow_tables_to_appear_in_same_query!(agents, products);

// Joining (issue 4): invitations, applications, their custom fields, certificates.
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    join_fields (id) {
        id -> BigInt,
        field_key -> Text,
        label_zh -> Text,
        label_en -> Text,
        required -> Bool,
        kind -> FieldTypeText,
        choices -> Text,
        position -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        code -> Text,
        agent_id -> BigInt,
        tier_key -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    applications (id) {
        id -> BigInt,
        invitation_id -> BigInt,
        referrer_id -> BigInt,
        supplier_id -> Nullable<BigInt>,
        tier_key -> Text,
        approval_mode -> ApprovalModeText,
        name -> Text,
        phone -> Text,
        region -> Text,
        id_number -> Text,
        fields -> Text,
        status -> ApplicationStatusText,
        supplier_decided_by -> Nullable<BigInt>,
        supplier_decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        agent_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    certificates (id) {
        id -> BigInt,
        code -> Text,
        agent_id -> BigInt,
        holder_name -> Text,
        tier_rank -> Integer,
        tier_key -> Text,
        tier_name_zh -> Text,
        tier_name_en -> Text,
        region -> Text,
        valid_from -> Timestamp,
        valid_until -> Timestamp,
        issued_at -> Timestamp,
        issued_by -> Nullable<BigInt>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    join_fields,
    invitations,
    applications,
    certificates,
    agents
);

// Diversion audit (issue 7, migration 2026-11-25-000002_diversion): agents' authorised regions,
// HQ warehouses' regions, and the alerts. Sightings gained their place columns above.
diesel::table! {
    agent_regions (agent_id, region_code) {
        agent_id -> BigInt,
        region_code -> Text,
    }
}

diesel::table! {
    warehouse_regions (warehouse) {
        warehouse -> Text,
        region_code -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    diversion_alerts (id) {
        id -> BigInt,
        kind -> AlertKindText,
        serial -> Text,
        dedupe_key -> Text,
        channel -> ChannelText,
        expected_region -> Nullable<Text>,
        observed_region -> Nullable<Text>,
        place_source -> PlaceSourceText,
        agent_id -> Nullable<BigInt>,
        risk -> Integer,
        evidence -> Text,
        status -> AlertStatusText,
        note -> Nullable<Text>,
        action -> Nullable<AlertActionText>,
        penalty_cents -> Nullable<BigInt>,
        decided_by -> Nullable<BigInt>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(agent_regions -> agents (agent_id));
diesel::joinable!(diversion_alerts -> agents (agent_id));

diesel::allow_tables_to_appear_in_same_query!(agent_regions, warehouse_regions, diversion_alerts);
diesel::allow_tables_to_appear_in_same_query!(agent_regions, agents);
diesel::allow_tables_to_appear_in_same_query!(diversion_alerts, agents);

// The level engine (issue 6, migration 2026-11-25-000001_levels): level policy versions, what the
// engine knows of each agent's level, the changes with their reasons, runs, and the activity
// (bound customers, recharges, level prices) that orders do not hold.
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    level_policies (id) {
        id -> BigInt,
        version -> BigInt,
        name -> Text,
        document -> Text,
        status -> PolicyStatusText,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        activated_at -> Nullable<Timestamp>,
        activated_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    agent_levels (agent_id) {
        agent_id -> BigInt,
        tier_rank -> Integer,
        reached_on -> Date,
        last_decided_on -> Nullable<Date>,
        quota_invited_agents -> BigInt,
        quota_bound_customers -> BigInt,
        quota_personal_sales_cents -> BigInt,
        quota_team_sales_cents -> BigInt,
        quota_amount_paid_cents -> BigInt,
        quota_orders -> BigInt,
        quota_recharge_cents -> BigInt,
        quota_points_centi -> BigInt,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    level_changes (id) {
        id -> BigInt,
        agent_id -> BigInt,
        assessed_on -> Date,
        cause -> LevelChangeCauseText,
        kind -> LevelChangeKindText,
        from_rank -> Integer,
        to_rank -> Integer,
        level_policy_version -> BigInt,
        summary_zh -> Text,
        summary_en -> Text,
        reasons -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    level_runs (id) {
        id -> BigInt,
        assessed_on -> Date,
        level_policy_version -> BigInt,
        agents -> BigInt,
        upgrades -> BigInt,
        downgrades -> BigInt,
        protected -> BigInt,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        started_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    level_activity (id) {
        id -> BigInt,
        agent_id -> BigInt,
        kind -> ActivityKindText,
        amount_cents -> BigInt,
        level_key -> Nullable<Text>,
        note -> Nullable<Text>,
        at -> Timestamp,
        recorded_by -> Nullable<BigInt>,
    }
}

diesel::joinable!(agent_levels -> agents (agent_id));
diesel::joinable!(level_changes -> agents (agent_id));
diesel::joinable!(level_activity -> agents (agent_id));

diesel::allow_tables_to_appear_in_same_query!(
    level_policies,
    agent_levels,
    level_changes,
    level_runs,
    level_activity
);
diesel::allow_tables_to_appear_in_same_query!(agent_levels, agents);
diesel::allow_tables_to_appear_in_same_query!(level_changes, agents);
diesel::allow_tables_to_appear_in_same_query!(level_activity, agents);

// Level applications with approval (issue 6, migration 2026-11-28-000001_level_applications).
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    level_applications (id) {
        id -> BigInt,
        agent_id -> BigInt,
        level_policy_version -> BigInt,
        from_rank -> Integer,
        to_rank -> Integer,
        level_key -> Text,
        path_index -> Integer,
        approval_mode -> ApprovalModeText,
        status -> LevelApplicationStatusText,
        note -> Nullable<Text>,
        evidence -> Text,
        applied_on -> Date,
        created_at -> Timestamp,
        supplier_agent_id -> Nullable<BigInt>,
        supplier_decided_by -> Nullable<BigInt>,
        supplier_decided_at -> Nullable<Timestamp>,
        supplier_approved -> Nullable<Bool>,
        supplier_note -> Nullable<Text>,
        hq_decided_by -> Nullable<BigInt>,
        hq_decided_at -> Nullable<Timestamp>,
        hq_approved -> Nullable<Bool>,
        hq_note -> Nullable<Text>,
        approval_evidence -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        lapse_reason -> Nullable<Text>,
    }
}

diesel::joinable!(level_applications -> agents (agent_id));
diesel::allow_tables_to_appear_in_same_query!(level_applications, agents);

// Idempotency keys of money and stock requests (issue 15).
diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        route -> Text,
        idem_key -> Text,
        request_sha256 -> Text,
        response_status -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

// The agent's pages (issue 17): waybills on shipped orders, applicants' own access.
diesel::table! {
    order_waybills (order_id) {
        order_id -> BigInt,
        carrier -> Text,
        waybill -> Text,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
        tracked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    applicant_access (application_id) {
        application_id -> BigInt,
        token_hash -> Text,
        password_hash -> Text,
    }
}

diesel::table! {
    product_pictures (product_id) {
        product_id -> BigInt,
        content_type -> Text,
        bytes -> Binary,
        etag -> Text,
        width -> Integer,
        height -> Integer,
        uploaded_by -> Nullable<BigInt>,
        uploaded_at -> Timestamp,
    }
}

diesel::joinable!(product_pictures -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(product_pictures, products);

diesel::table! {
    leg_payments (order_id, position) {
        order_id -> BigInt,
        position -> Integer,
        confirmed_by -> Nullable<BigInt>,
        paid_at -> Timestamp,
    }
}

diesel::joinable!(order_waybills -> restock_orders (order_id));
diesel::joinable!(leg_payments -> restock_orders (order_id));
diesel::joinable!(applicant_access -> applications (application_id));
diesel::allow_tables_to_appear_in_same_query!(order_waybills, restock_orders);
diesel::allow_tables_to_appear_in_same_query!(leg_payments, restock_orders);
diesel::allow_tables_to_appear_in_same_query!(leg_payments, order_legs);
diesel::allow_tables_to_appear_in_same_query!(applicant_access, applications);

// Bringing an existing network in (issue 23).
diesel::table! {
    network_imports (id) {
        id -> BigInt,
        digest -> Text,
        file_names -> Text,
        agents -> BigInt,
        balances -> BigInt,
        orders -> BigInt,
        activity -> BigInt,
        opening_cents -> BigInt,
        report -> Text,
        imported_at -> Timestamp,
        imported_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    imported_agents (agent_id) {
        agent_id -> BigInt,
        import_id -> BigInt,
        source_row -> BigInt,
        phone -> Text,
        id_number -> Text,
        old_supplier -> Nullable<Text>,
    }
}

diesel::table! {
    imported_orders (order_id) {
        order_id -> BigInt,
        import_id -> BigInt,
        source_no -> Text,
    }
}

diesel::table! {
    opening_frozen (id) {
        id -> BigInt,
        import_id -> BigInt,
        agent_id -> BigInt,
        amount_cents -> BigInt,
        release_on -> Date,
        released_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    network_import_uploads (token) {
        token -> Text,
        user_id -> BigInt,
        files -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    batch_jobs (id) {
        id -> BigInt,
        product_id -> BigInt,
        items -> BigInt,
        case_size -> Integer,
        production_date -> Nullable<Text>,
        note -> Nullable<Text>,
        phase -> Text,
        written -> BigInt,
        imported -> BigInt,
        batch_id -> Nullable<Text>,
        problem -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    code_packs (id) {
        id -> BigInt,
        batch_id -> Text,
        file_name -> Text,
        bytes -> BigInt,
        sha256 -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(batch_jobs -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(batch_jobs, products);

diesel::joinable!(imported_agents -> agents (agent_id));
diesel::joinable!(imported_agents -> network_imports (import_id));
diesel::joinable!(opening_frozen -> agents (agent_id));
diesel::allow_tables_to_appear_in_same_query!(network_imports, imported_agents);
diesel::allow_tables_to_appear_in_same_query!(imported_agents, agents);
diesel::allow_tables_to_appear_in_same_query!(imported_orders, restock_orders);
diesel::allow_tables_to_appear_in_same_query!(opening_frozen, agents);

// A shipment's track (issue 20).
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    tracking_events (id) {
        id -> BigInt,
        order_id -> BigInt,
        at -> Timestamp,
        status -> TrackingStatusText,
        place -> Nullable<Text>,
        detail -> Text,
        source -> TrackingSourceText,
        external_id -> Nullable<Text>,
        recorded_by -> Nullable<BigInt>,
        recorded_at -> Timestamp,
    }
}

diesel::joinable!(tracking_events -> restock_orders (order_id));
diesel::allow_tables_to_appear_in_same_query!(tracking_events, restock_orders);
diesel::allow_tables_to_appear_in_same_query!(tracking_events, order_waybills);

// The warehouse's label printers and their queue (issue 20).
diesel::table! {
    printers (id) {
        id -> BigInt,
        name -> Text,
        address -> Text,
        disabled -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_ok_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamp>,
        warehouse -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    print_jobs (id) {
        id -> BigInt,
        printer_id -> BigInt,
        kind -> PrintJobKindText,
        order_id -> Nullable<BigInt>,
        title -> Text,
        document -> Text,
        state -> PrintJobStateText,
        attempts -> Integer,
        next_try_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        printed_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(print_jobs -> printers (printer_id));
diesel::allow_tables_to_appear_in_same_query!(print_jobs, printers);

// Retail: end customers, O2O orders, retail sales (issue 20).
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    end_customers (id) {
        id -> BigInt,
        agent_id -> BigInt,
        name -> Text,
        phone -> Text,
        source -> CustomerSourceText,
        created_at -> Timestamp,
        last_purchase_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    retail_orders (id) {
        id -> BigInt,
        agent_id -> BigInt,
        customer_id -> BigInt,
        product_id -> BigInt,
        quantity -> Integer,
        note -> Nullable<Text>,
        from_serial -> Nullable<Text>,
        state -> RetailOrderStateText,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    retail_sales (id) {
        id -> BigInt,
        agent_id -> BigInt,
        customer_id -> Nullable<BigInt>,
        retail_order_id -> Nullable<BigInt>,
        item_count -> Integer,
        sold_by -> Nullable<BigInt>,
        sold_at -> Timestamp,
    }
}

diesel::table! {
    retail_sale_items (serial) {
        serial -> Text,
        sale_id -> BigInt,
    }
}

diesel::joinable!(retail_orders -> end_customers (customer_id));
diesel::joinable!(retail_orders -> products (product_id));
diesel::joinable!(retail_sales -> end_customers (customer_id));
diesel::joinable!(retail_sale_items -> retail_sales (sale_id));
diesel::joinable!(retail_sale_items -> items (serial));
diesel::allow_tables_to_appear_in_same_query!(retail_orders, end_customers);
diesel::allow_tables_to_appear_in_same_query!(retail_orders, products);
diesel::allow_tables_to_appear_in_same_query!(retail_sales, end_customers);
diesel::allow_tables_to_appear_in_same_query!(retail_sale_items, retail_sales);
diesel::allow_tables_to_appear_in_same_query!(retail_sale_items, items);
diesel::allow_tables_to_appear_in_same_query!(retail_sale_items, products);
diesel::allow_tables_to_appear_in_same_query!(retail_sale_items, batches);
diesel::allow_tables_to_appear_in_same_query!(retail_sales, agents);
diesel::allow_tables_to_appear_in_same_query!(end_customers, agents);

// Scan marketing (issue 21): campaigns, prizes, rewards, consumers, payouts.
diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    campaigns (id) {
        id -> BigInt,
        name -> Text,
        state -> CampaignStateText,
        skus -> Text,
        batches -> Text,
        regions -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        budget_cents -> BigInt,
        spent_cents -> BigInt,
        daily_limit -> Integer,
        lottery -> Bool,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    campaign_prizes (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        position -> Integer,
        name -> Text,
        kind -> PrizeKindText,
        points -> BigInt,
        min_cents -> BigInt,
        max_cents -> BigInt,
        odds_bp -> Integer,
        stock -> Nullable<BigInt>,
        remaining -> Nullable<BigInt>,
    }
}

diesel::table! {
    consumers (id) {
        id -> BigInt,
        phone -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    consumer_codes (id) {
        id -> BigInt,
        phone -> Text,
        code_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        attempts -> Integer,
        used_at -> Nullable<Timestamp>,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    consumer_sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        consumer_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    payout_batches (id) {
        id -> BigInt,
        state -> Text,
        total_cents -> BigInt,
        line_count -> Integer,
        created_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        reference -> Nullable<Text>,
        paid_at -> Nullable<Timestamp>,
        paid_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::*;

    campaign_rewards (id) {
        id -> BigInt,
        serial -> Text,
        campaign_id -> BigInt,
        prize_id -> Nullable<BigInt>,
        kind -> Nullable<PrizeKindText>,
        points -> BigInt,
        amount_cents -> BigInt,
        coupon_code -> Nullable<Text>,
        claim_token_hash -> Nullable<Text>,
        consumer_id -> Nullable<BigInt>,
        region_code -> Nullable<Text>,
        drawn_at -> Timestamp,
        claimed_at -> Nullable<Timestamp>,
        payout_batch_id -> Nullable<BigInt>,
        lease_id -> Nullable<BigInt>,
        settled -> Bool,
        posting_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    campaign_leases (id) {
        id -> BigInt,
        campaign_id -> BigInt,
        holder -> Text,
        cents -> BigInt,
        renewed_at -> Timestamp,
    }
}

diesel::table! {
    campaign_lease_stock (lease_id, prize_id) {
        lease_id -> BigInt,
        prize_id -> BigInt,
        units -> BigInt,
    }
}

diesel::table! {
    campaign_days (campaign_id, day, province) {
        campaign_id -> BigInt,
        day -> Date,
        province -> Text,
        scans -> BigInt,
        rewards -> BigInt,
        claimed -> BigInt,
        cost_cents -> BigInt,
    }
}

diesel::joinable!(campaign_prizes -> campaigns (campaign_id));
diesel::joinable!(campaign_rewards -> campaigns (campaign_id));
diesel::joinable!(campaign_rewards -> campaign_prizes (prize_id));
diesel::joinable!(campaign_rewards -> consumers (consumer_id));
diesel::joinable!(campaign_rewards -> payout_batches (payout_batch_id));
diesel::joinable!(consumer_sessions -> consumers (consumer_id));
diesel::joinable!(campaign_days -> campaigns (campaign_id));
diesel::joinable!(campaign_leases -> campaigns (campaign_id));
diesel::joinable!(campaign_lease_stock -> campaign_leases (lease_id));
diesel::joinable!(campaign_lease_stock -> campaign_prizes (prize_id));
diesel::allow_tables_to_appear_in_same_query!(
    campaigns,
    campaign_leases,
    campaign_lease_stock,
    campaign_prizes,
    campaign_rewards,
    campaign_days,
    consumers,
    consumer_sessions,
    payout_batches,
);
diesel::allow_tables_to_appear_in_same_query!(campaign_rewards, products);
diesel::allow_tables_to_appear_in_same_query!(campaign_rewards, items);
diesel::allow_tables_to_appear_in_same_query!(campaign_rewards, batches);
diesel::allow_tables_to_appear_in_same_query!(campaign_prizes, products);
diesel::allow_tables_to_appear_in_same_query!(campaigns, products);
diesel::allow_tables_to_appear_in_same_query!(campaigns, diversion_alerts);
diesel::allow_tables_to_appear_in_same_query!(campaign_rewards, diversion_alerts);
