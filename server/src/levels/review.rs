//! Editing the level policy as a form (HQ's `/hq/levels`, issue 18): where the form starts (the
//! active version, or a shipped preset), the review of a proposed version (every problem on its
//! field, or the changes in words and the what-if) before [`super::policy`] saves and activates it.

use chrono::NaiveDate;

use super::whatif::{self, WhatIf};
use crate::domain::levels::LevelPolicy;
use crate::domain::levels::form::{self, Change, FieldError, Fields};
use crate::domain::network::Policy;
use crate::error::Result;
use crate::network::{Actor, policy as tier_policy};
use crate::store::DbConnection;
use crate::store::levels::policies::{self, LevelPolicyRow};

/// What the form starts from.
pub struct Start {
    pub active: Option<LevelPolicyRow>,
    /// The active tier policy: the levels are its tiers.
    pub tiers: Policy,
    /// The version number a new document gets.
    pub next_version: u32,
}

pub fn start(conn: &mut DbConnection) -> Result<Start> {
    let active = policies::active(conn)?;
    let (_, tiers) = tier_policy::active(conn)?;
    let newest = policies::list(conn)?.first().map_or(0, |r| r.version);
    Ok(Start {
        active,
        tiers,
        next_version: u32::try_from(newest + 1).unwrap_or(u32::MAX),
    })
}

impl Start {
    /// The active document, or nothing when HQ has activated none.
    pub fn active_document(&self) -> &str {
        self.active.as_ref().map_or("", |a| a.document.as_str())
    }
}

/// A proposed version: the form's values, or a document an expert typed.
pub enum Proposal<'a> {
    Form(&'a Fields),
    Document(&'a str),
}

/// A valid proposal: its document, the changes against the active version, the what-if.
pub struct Review {
    pub start: Start,
    pub document: String,
    pub changes: Vec<Change>,
    pub what_if: WhatIf,
}

/// A refused proposal: where the form started, and each problem on its field.
pub type Refused = (Start, Vec<FieldError>);

/// Reviews a proposal as of `day` (the what-if is the one `POST /api/v1/levels/what-if` runs).
pub fn review(
    conn: &mut DbConnection,
    start: Start,
    proposal: Proposal<'_>,
    day: NaiveDate,
    actor: Actor,
) -> Result<std::result::Result<Review, Refused>> {
    let read = match proposal {
        Proposal::Form(fields) => {
            form::read(fields, &start.tiers, start.next_version).map(|(_, doc)| doc)
        }
        Proposal::Document(text) => read_document(text, &start),
    };
    let document = match read {
        Ok(d) => d,
        Err(e) => return Ok(Err((start, e))),
    };
    let what_if = whatif::what_if(conn, &document, day, actor)?;
    let changes = form::diff(start.active_document(), &document, &start.tiers);
    Ok(Ok(Review {
        start,
        document,
        changes,
        what_if,
    }))
}

fn read_document(text: &str, start: &Start) -> std::result::Result<String, Vec<FieldError>> {
    let levels = LevelPolicy::parse(text, &start.tiers).map_err(|e| form::document_errors(e.0))?;
    if levels.version < start.next_version {
        let n = start.next_version;
        return Err(vec![FieldError {
            field: "version".into(),
            zh: format!("版本号须为新的:至少 {n}"),
            en: format!("the version must be new: at least {n}"),
        }]);
    }
    Ok(text.to_string())
}
