//! Storage for joining the network: custom fields of the application form, invitations,
//! applications and authorisation certificates. Loads and saves only; the rules are in
//! `domain::joining`, applied by `crate::joining`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::joining::FieldType;
use crate::domain::joining::Status;
use crate::domain::network::policy::ApprovalMode;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::{applications, certificates, invitations, join_fields};
use crate::typed::Stored;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = join_fields)]
pub struct FieldRow {
    pub id: i64,
    pub field_key: String,
    pub label_zh: String,
    pub label_en: String,
    pub required: bool,
    pub kind: FieldType,
    pub choices: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = join_fields)]
pub struct NewField {
    pub field_key: String,
    pub label_zh: String,
    pub label_en: String,
    pub required: bool,
    pub kind: Stored<FieldType>,
    pub choices: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: i64,
    pub code: String,
    pub agent_id: i64,
    pub tier_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation {
    pub code: String,
    pub agent_id: i64,
    pub tier_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct ApplicationRow {
    pub id: i64,
    pub invitation_id: i64,
    pub referrer_id: i64,
    /// `None`: HQ would supply the new agent.
    pub supplier_id: Option<i64>,
    pub tier_key: String,
    pub approval_mode: ApprovalMode,
    pub name: String,
    pub phone: String,
    pub region: String,
    pub id_number: String,
    /// The custom answers, a JSON object of strings.
    pub fields: String,
    pub status: Status,
    pub supplier_decided_by: Option<i64>,
    pub supplier_decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub agent_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = applications)]
pub struct NewApplication {
    pub invitation_id: i64,
    pub referrer_id: i64,
    pub supplier_id: Option<i64>,
    pub tier_key: String,
    pub approval_mode: Stored<ApprovalMode>,
    pub name: String,
    pub phone: String,
    pub region: String,
    pub id_number: String,
    pub fields: String,
    pub status: Stored<Status>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = certificates)]
pub struct CertificateRow {
    pub id: i64,
    pub code: String,
    pub agent_id: i64,
    pub holder_name: String,
    pub tier_rank: i32,
    pub tier_key: String,
    pub tier_name_zh: String,
    pub tier_name_en: String,
    pub region: String,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub issued_at: NaiveDateTime,
    pub issued_by: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = certificates)]
pub struct NewCertificate {
    pub code: String,
    pub agent_id: i64,
    pub holder_name: String,
    pub tier_rank: i32,
    pub tier_key: String,
    pub tier_name_zh: String,
    pub tier_name_en: String,
    pub region: String,
    pub valid_from: NaiveDateTime,
    pub valid_until: NaiveDateTime,
    pub issued_at: NaiveDateTime,
    pub issued_by: Option<i64>,
}

pub fn fields(conn: &mut DbConnection) -> Result<Vec<FieldRow>> {
    Ok(join_fields::table
        .order((join_fields::position, join_fields::id))
        .select(FieldRow::as_select())
        .load(conn)?)
}

pub fn insert_field(conn: &mut DbConnection, new: &NewField) -> Result<()> {
    diesel::insert_into(join_fields::table)
        .values(new)
        .execute(conn)
        .map_err(|e| match Error::from(e) {
            Error::Duplicate(_) => Error::conflict(
                "join_field_exists",
                format!("field {:?} exists", new.field_key),
            ),
            other => other,
        })?;
    Ok(())
}

/// Deletes a field; answers already given stay in their applications.
pub fn delete_field(conn: &mut DbConnection, key: &str) -> Result<bool> {
    let n =
        diesel::delete(join_fields::table.filter(join_fields::field_key.eq(key))).execute(conn)?;
    Ok(n == 1)
}

pub fn insert_invitation(conn: &mut DbConnection, new: &NewInvitation) -> Result<InvitationRow> {
    let insert = diesel::insert_into(invitations::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(InvitationRow::as_returning())
        .get_result(c))?)
}

pub fn invitation_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<InvitationRow>> {
    Ok(invitations::table
        .filter(invitations::code.eq(code))
        .select(InvitationRow::as_select())
        .load(conn)?
        .pop())
}

/// An agent's invitations that are not revoked, newest first.
pub fn invitations_of(conn: &mut DbConnection, agent: i64) -> Result<Vec<InvitationRow>> {
    Ok(invitations::table
        .filter(invitations::agent_id.eq(agent))
        .filter(invitations::revoked_at.is_null())
        .order(invitations::id.desc())
        .select(InvitationRow::as_select())
        .load(conn)?)
}

pub fn insert_application(conn: &mut DbConnection, new: &NewApplication) -> Result<ApplicationRow> {
    let insert = diesel::insert_into(applications::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(ApplicationRow::as_returning())
        .get_result(c))?)
}

pub fn application(conn: &mut DbConnection, id: i64) -> Result<ApplicationRow> {
    applications::table
        .filter(applications::id.eq(id))
        .select(ApplicationRow::as_select())
        .load(conn)?
        .pop()
        .ok_or_else(|| Error::not_found("application"))
}

/// Whether a phone number has an application that is not rejected (pending or approved).
pub fn phone_taken(conn: &mut DbConnection, phone: &str) -> Result<Option<ApplicationRow>> {
    Ok(applications::table
        .filter(applications::phone.eq(phone))
        .filter(applications::status.ne(Stored(Status::Rejected)))
        .select(ApplicationRow::as_select())
        .load(conn)?
        .pop())
}

/// Applications in `status`, oldest first; only those awaiting `supplier` when given.
pub fn applications_in(
    conn: &mut DbConnection,
    status: Status,
    supplier: Option<i64>,
    limit: i64,
) -> Result<Vec<ApplicationRow>> {
    let mut q = applications::table
        .filter(applications::status.eq(Stored(status)))
        .order(applications::id)
        .limit(limit)
        .select(ApplicationRow::as_select())
        .into_boxed();
    if let Some(s) = supplier {
        q = q.filter(applications::supplier_id.eq(s));
    }
    Ok(q.load(conn)?)
}

/// A decision on an application, as saved.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub from: Status,
    pub to: Status,
    /// The would-be supplier's stage (else HQ's).
    pub supplier_stage: bool,
    pub by: Option<i64>,
    pub reason: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// Moves an application from `d.from` to `d.to`; false when someone decided it first.
pub fn set_status(conn: &mut DbConnection, id: i64, d: Decided<'_>) -> Result<bool> {
    let Decided {
        from,
        to,
        supplier_stage,
        by,
        reason,
        at,
    } = d;
    let target = applications::table
        .filter(applications::id.eq(id))
        .filter(applications::status.eq(Stored(from)));
    let n = if supplier_stage {
        diesel::update(target)
            .set((
                applications::status.eq(Stored(to)),
                applications::supplier_decided_by.eq(by),
                applications::supplier_decided_at.eq(Some(at)),
                applications::reason.eq(reason),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((
                applications::status.eq(Stored(to)),
                applications::decided_by.eq(by),
                applications::decided_at.eq(Some(at)),
                applications::reason.eq(reason),
            ))
            .execute(conn)?
    };
    Ok(n == 1)
}

pub fn set_agent(conn: &mut DbConnection, id: i64, agent: i64) -> Result<()> {
    diesel::update(applications::table.filter(applications::id.eq(id)))
        .set(applications::agent_id.eq(Some(agent)))
        .execute(conn)?;
    Ok(())
}

pub fn insert_certificate(conn: &mut DbConnection, new: &NewCertificate) -> Result<CertificateRow> {
    let insert = diesel::insert_into(certificates::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(CertificateRow::as_returning())
        .get_result(c))?)
}

pub fn certificate_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<CertificateRow>> {
    Ok(certificates::table
        .filter(certificates::code.eq(code))
        .select(CertificateRow::as_select())
        .load(conn)?
        .pop())
}

/// The agent's newest certificate.
pub fn latest_certificate(conn: &mut DbConnection, agent: i64) -> Result<Option<CertificateRow>> {
    Ok(certificates::table
        .filter(certificates::agent_id.eq(agent))
        .order(certificates::id.desc())
        .limit(1)
        .select(CertificateRow::as_select())
        .load(conn)?
        .pop())
}
