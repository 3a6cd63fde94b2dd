//! Editing the tier policy as a form (HQ's `/hq/policy`, issue 18): where the form starts, the
//! review of a proposed version (every problem on its field, or the changes in words and what
//! they mean for the network), and its activation. The form and the raw document go through the
//! same review; activation is [`super::policy::save_draft`] then [`super::policy::activate`], as
//! the API's, audited there.

use chrono::Duration;

use crate::domain::Permission;
use crate::domain::network::policy::form::{
    self, Change, FieldError, Fields, OrderedItems, TierEffect,
};
use crate::domain::network::{Policy, TierRank};
use crate::error::Result;
use crate::network::Actor;
use crate::store::DbConnection;
use crate::store::network::policies::{self, PolicyRow};
use crate::store::network::{agents, orders};
use crate::store::users::now;

/// The days of orders a review prices again.
pub const EFFECT_DAYS: i64 = 30;

/// What the form starts from: the active version, the products of the registry (the price
/// table's rows) and the version number a new document gets.
pub struct Start {
    pub active: PolicyRow,
    pub policy: Policy,
    pub skus: Vec<String>,
    pub next_version: u32,
}

/// The form's starting point; HQ admins only (`Permission::ManagePolicy`, as the API's routes).
pub fn start(conn: &mut DbConnection, actor: Actor) -> Result<Start> {
    actor.require(Permission::ManagePolicy, "edit the tier policy")?;
    let (active, policy) = super::policy::active(conn)?;
    let skus = crate::store::products::list(conn)?
        .into_iter()
        .map(|p| p.sku)
        .collect();
    let newest = policies::list(conn)?
        .first()
        .map_or(active.version, |r| r.version);
    let next_version = u32::try_from(newest + 1).unwrap_or(u32::MAX);
    Ok(Start {
        active,
        policy,
        skus,
        next_version,
    })
}

/// A proposed version: the form's values, or a document an expert typed.
pub enum Proposal<'a> {
    Form(&'a Fields),
    Document(&'a str),
}

/// A valid proposal, compared with the active version.
pub struct Review {
    pub start: Start,
    pub policy: Policy,
    pub document: String,
    pub changes: Vec<Change>,
    /// Active agents per tier rank of the active policy.
    pub agents: Vec<(TierRank, i64)>,
    /// The last [`EFFECT_DAYS`] days' orders priced under the active and the proposed policy.
    pub effect: Vec<TierEffect>,
}

/// A refused proposal: where the form started, and each problem on its field.
pub type Refused = (Start, Vec<FieldError>);

/// Reviews a proposal against `start` ([`start`]). `Ok(Err(..))`: what was typed is refused.
pub fn review(
    conn: &mut DbConnection,
    start: Start,
    proposal: Proposal<'_>,
) -> Result<std::result::Result<Review, Refused>> {
    let read = match proposal {
        Proposal::Form(fields) => {
            form::read(fields, &start.policy, &start.skus, start.next_version)
        }
        Proposal::Document(text) => read_document(text, &start),
    };
    let (policy, document) = match read {
        Ok(v) => v,
        Err(e) => return Ok(Err((start, e))),
    };
    let changes = form::diff(&start.policy, &policy, &start.skus);
    let agents = agents::count_active_by_tier(conn)?
        .into_iter()
        .filter_map(|(rank, n)| Some((TierRank(u8::try_from(rank).ok()?), n)))
        .collect();
    let since = now() - Duration::days(EFFECT_DAYS);
    let ordered: Vec<OrderedItems> = orders::items_by_tier_and_sku(conn, since)?
        .into_iter()
        .filter_map(|(rank, sku, items)| {
            Some(OrderedItems {
                rank: TierRank(u8::try_from(rank).ok()?),
                sku,
                items,
            })
        })
        .collect();
    let effect = form::price_effect(&start.policy, &policy, &ordered);
    Ok(Ok(Review {
        start,
        policy,
        document,
        changes,
        agents,
        effect,
    }))
}

/// An expert's document: the document's own problems, named by their fields, and a version
/// number that must be new.
fn read_document(
    text: &str,
    start: &Start,
) -> std::result::Result<(Policy, String), Vec<FieldError>> {
    let policy = super::policy::validate(text).map_err(|e| {
        e.0.into_iter()
            .map(|e| FieldError {
                field: e.field,
                zh: format!("不符合规则:{}", e.message),
                en: e.message,
            })
            .collect::<Vec<_>>()
    })?;
    if policy.version() < start.next_version {
        let n = start.next_version;
        return Err(vec![FieldError {
            field: "version".into(),
            zh: format!("版本号须为新的:至少 {n}"),
            en: format!("the version must be new: at least {n}"),
        }]);
    }
    Ok((policy, text.to_string()))
}

/// Saves a reviewed document as a new version and activates it (audited as `policy.activate`).
pub fn activate(conn: &mut DbConnection, actor: Actor, document: &str) -> Result<PolicyRow> {
    actor.require(Permission::ManagePolicy, "activate policies")?;
    let row = super::policy::save_draft(conn, document, actor.user())?;
    super::policy::activate(conn, row.version, actor.user())
}
