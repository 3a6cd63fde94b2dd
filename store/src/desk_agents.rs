//! The agents list of HQ's desk: search by name, phone (of the application it joined with),
//! region (a GB/T 2260 prefix: a province or city covers its districts), tier and status;
//! newest first, paged by offset with one row more than shown.

use diesel::prelude::*;

use super::DbConnection;
use super::desk::Page;
use super::network::agents::AgentRow;
use super::schema::{agents, applications};
use crate::domain::network::AgentStatus;
use crate::error::Result;
use crate::typed::Stored;

/// What the agents list is filtered by; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    /// Part of the name, or of the phone number it applied with.
    pub text: Option<String>,
    /// A region code prefix (`33` Zhejiang, `3301` Hangzhou, `330106` 西湖区).
    pub region_prefix: Option<String>,
    pub tier_rank: Option<i32>,
    pub status: Option<AgentStatus>,
}

fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Agents matching `f`, newest first.
pub fn agents(
    conn: &mut DbConnection,
    f: &AgentFilter,
    offset: i64,
    limit: i64,
) -> Result<Page<AgentRow>> {
    let mut q = agents::table
        .order(agents::id.desc())
        .offset(offset)
        .limit(limit + 1)
        .select(AgentRow::as_select())
        .into_boxed();
    if let Some(text) = &f.text {
        let pattern = like(text);
        let by_phone = applications::table
            .filter(applications::phone.like(pattern.clone()).escape('\\'))
            .filter(applications::agent_id.is_not_null())
            .select(applications::agent_id.assume_not_null());
        q = q.filter(
            agents::name
                .like(pattern)
                .escape('\\')
                .or(agents::id.eq_any(by_phone)),
        );
    }
    if let Some(prefix) = &f.region_prefix {
        q = q.filter(agents::region.like(format!("{prefix}%")));
    }
    if let Some(rank) = f.tier_rank {
        q = q.filter(agents::tier_rank.eq(rank));
    }
    if let Some(status) = f.status {
        q = q.filter(agents::status.eq(Stored(status)));
    }
    Ok(Page::of_rows(q.load(conn)?, limit))
}

/// The phone number an agent applied with, when it joined through an application.
pub fn phone_of(conn: &mut DbConnection, agent: i64) -> Result<Option<String>> {
    Ok(applications::table
        .filter(applications::agent_id.eq(agent))
        .select(applications::phone)
        .first(conn)
        .optional()?)
}
