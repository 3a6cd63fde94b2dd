//! HQ's network page (`/hq/network`): the approvals queue, the newest orders, the active tier
//! policy with validate / save-and-activate of a new version, HQ's ledger accounts and the
//! withdrawal requests to decide. Forms post with the session's CSRF token to `/hq/network/...`
//! and come back with a notice; approving an application shows the new account's one-time
//! password once instead.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::form_key::{self, FormTarget};
use super::i18n::Lang;
use super::network_i18n::{N, t};
use super::staff::{self, see_other, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::domain::joining::mask_id;
use crate::domain::network::WithdrawalStatus;
use crate::error::Result;
use crate::joining as joining_cases;
use crate::network::{Actor, policy, withdrawals};
use crate::store::DbConnection;
use crate::store::joining::ApplicationRow;
use crate::store::network::ledger::{self, AccountRow};
use crate::store::network::orders::{self as order_store, Listing};
use crate::store::network::withdrawals::{self as withdrawal_store, WithdrawalRow};
use crate::store::network::{money, policies::PolicyRow};

const HERE: &str = "/hq/network";

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    notice: Option<String>,
}

/// The applications queue with approve / reject forms posting under `base`.
pub fn applications(lang: Lang, csrf: &str, base: &str, rows: &[ApplicationRow]) -> Markup {
    html! {
        div.card id="applications" {
            h2 { (t(lang, N::ToApprove)) }
            @if rows.is_empty() { p.muted { (t(lang, N::NoneYet)) } }
            @for a in rows {
                div data-application=(a.id) style="border-top:1px solid #e7e5e4;padding:.4rem 0" {
                    "#" (a.id) " · " (a.name) " · " (a.phone) " · " (a.region) " · "
                    (mask_id(&a.id_number)) " · ← " (a.referrer_id)
                    @for action in ["approve", "reject"] {
                        form method="post" action=(format!("{base}/applications/{}/{action}", a.id)) {
                            input type="hidden" name="csrf" value=(csrf);
                            @if action == "reject" {
                                input type="text" name="reason" required placeholder=(t(lang, N::Reason));
                                button type="submit" { (t(lang, N::Reject)) }
                            } @else {
                                button type="submit" { (t(lang, N::Approve)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the page shows: each part only to a role the API would show it to. `None` is a part the
/// caller may not see (left out of the page, not shown empty).
struct Loaded {
    queue: Vec<ApplicationRow>,
    orders: Option<Vec<crate::network::views::OrderSummary>>,
    policy: Option<PolicyRow>,
    manage_policy: bool,
    accounts: Option<Vec<AccountRow>>,
    withdrawals: Option<Vec<WithdrawalRow>>,
}

/// Loads each part after the same permission check as its API route (`Actor::may` over
/// `domain::Permission`): orders as `GET /api/v1/orders?view=all`, the policy as
/// `GET /api/v1/policy/versions`, HQ's accounts as `GET /api/v1/ledger/hq`, withdrawals as
/// `GET /api/v1/withdrawals`.
fn load(c: &mut DbConnection, actor: Actor) -> Result<Loaded> {
    Ok(Loaded {
        // Finance and warehouse staff do not decide applications: their queue is empty.
        queue: match joining_cases::queue(c, actor) {
            Err(crate::error::Error::Forbidden(_)) => Vec::new(),
            other => other?,
        },
        orders: actor
            .may(Permission::ReadOrders)
            .then(|| {
                order_store::list(c, Listing::All, None, 0, 30)
                    .map_err(crate::error::Error::from)
                    .and_then(|rows| crate::network::views::summaries(c, rows))
            })
            .transpose()?,
        policy: actor
            .may(Permission::ReadPolicy)
            .then(|| policy::active(c).map(|p| p.0))
            .transpose()?,
        manage_policy: actor.may(Permission::ManagePolicy),
        accounts: actor
            .may(Permission::ReadHqLedger)
            .then(|| ledger::accounts_of(c, None))
            .transpose()?,
        withdrawals: actor
            .may(Permission::DecideWithdrawals)
            .then(|| withdrawal_store::list(c, None, Some(WithdrawalStatus::Requested), 50))
            .transpose()?,
    })
}

async fn hq_gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
) -> std::result::Result<(Caller, Actor), Response> {
    let caller = staff::gate_for(state, lang, caller, HERE, Permission::HqConsole).await?;
    let actor = Actor::Hq {
        user: caller.user_id,
        role: caller.role,
    };
    Ok((caller, actor))
}

/// `GET /hq/network`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, actor) = match hq_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let l = match state.db.run(move |c| load(c, actor)).await {
        Ok(l) => l,
        Err(e) => return staff::error_page(lang, e),
    };
    let csrf = caller.csrf().to_string();
    let body = html! {
        @if let Some(n) = &q.notice { div.card.verdict.ok id="notice" { (n) } }
        (applications(lang, &csrf, HERE, &l.queue))
        @if let Some(orders) = &l.orders {
        div.card id="orders" {
            h2 { (t(lang, N::Orders)) }
            @for s in orders {
                @let o = &s.order;
                div data-order=(o.id) data-state=(o.state) {
                    a href=(format!("/hq/orders/{}", o.id)) { "#" (o.id) } " · " (o.buyer_id) " · " (money(o.goods_amount_cents)) " · " (super::hq_i18n::order_state(lang, o.state))
                    ul style="margin:.2rem 0;padding-left:1.2rem" {
                        @for l in &s.lines {
                            li data-line=(l.sku) {
                                (l.sku) " " (l.quantity) " × " (l.unit_price) " = " (l.goods_amount)
                            }
                        }
                    }
                }
            }
        }
        }
        @if let Some(p) = &l.policy {
        div.card id="policy" {
            h2 { (t(lang, N::Policy)) " v" (p.version) " · " (p.name) }
            @if l.manage_policy {
                p { a href="/hq/policy" id="policy-form-link" { (super::hq_i18n::tr(lang, "用表单修改价格政策 →", "Edit the tier policy in a form →")) } }
                form method="post" action="/hq/network/policy" {
                    input type="hidden" name="csrf" value=(csrf);
                    textarea name="document" rows="12" style="width:100%;font-family:monospace" { (p.document) }
                    button type="submit" name="action" value="validate" { (t(lang, N::Validate)) }
                    button type="submit" name="action" value="activate" { (t(lang, N::Activate)) }
                }
            } @else {
                pre style="white-space:pre-wrap;font-size:.8rem" { (p.document) }
            }
        }
        }
        @if let Some(accounts) = &l.accounts {
        div.card id="ledger" {
            h2 { (t(lang, N::Ledger)) }
            dl { @for a in accounts { dt { (super::hq_i18n::account(lang, &a.code).0) } dd { (money(a.balance_cents)) } } }
        }
        }
        @if let Some(withdrawals) = &l.withdrawals {
        div.card id="withdrawals" {
            h2 { (t(lang, N::Withdrawals)) }
            @if withdrawals.is_empty() { p.muted { (t(lang, N::NoneYet)) } }
            @for w in withdrawals {
                div data-withdrawal=(w.id) {
                    "#" (w.id) " · " (w.agent_id) " · " (money(w.amount_cents))
                    @for (action, label) in [("approve", N::Approve), ("reject", N::Reject)] {
                        form method="post" action=(format!("{HERE}/withdrawals/{}/{action}", w.id)) style="display:inline-block" {
                            input type="hidden" name="csrf" value=(csrf);
                            (form_key::field())
                            button type="submit" style="width:auto;padding:.3rem .8rem" { (t(lang, label)) }
                        }
                    }
                }
            }
        }
        }
    };
    let switch = format!("{HERE}?lang={}", lang.other().param());
    let response = super::shell::page(
        lang,
        &caller,
        HERE,
        t(lang, N::HqNetworkTitle),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

/// The CSRF-checked HQ caller of a form, or the response refusing it.
async fn form_caller(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
    form: &BTreeMap<String, String>,
) -> std::result::Result<(Caller, Actor), Response> {
    let (caller, actor) = hq_gate(state, lang, caller).await?;
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return Err(staff::form_expired(lang));
    }
    Ok((caller, actor))
}

fn back(notice: &str) -> Response {
    see_other(&format!("{HERE}?notice={}", urlencode(notice)))
}

/// `POST /hq/network/applications/{id}/{approve|reject}`.
pub async fn decide(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match form_caller(&state, lang, caller, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let reason = form.get("reason").cloned().unwrap_or_default();
    let approve = action == "approve";
    let out = state
        .db
        .write(move |c| joining_cases::decide(c, actor, id, approve, &reason))
        .await;
    match out {
        Ok(o) => match o.approved {
            Some(a) => {
                let body = html! {
                    div.card.verdict.ok id="approved" data-agent=(a.agent.id) {
                        h2 { (t(lang, N::Approved)) ": " (a.agent.name) }
                        dl {
                            dt { (t(lang, N::Username)) } dd { code { (a.username) } }
                            dt { (t(lang, N::OneTimePassword)) } dd { code id="password" { (a.password) } }
                        }
                        p.muted { (t(lang, N::PasswordOnce)) }
                        p { a href=(HERE) { "← " (t(lang, N::HqNetworkTitle)) } }
                    }
                };
                with_cookies(
                    super::shell::page(lang, &caller, HERE, t(lang, N::Approved), None, body)
                        .into_response(),
                    [],
                )
            }
            None => back(&format!("#{} {}", o.application.id, o.application.status)),
        },
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/network/policy`: validate, or save and activate, a policy document.
pub async fn policy_form(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (_, actor) = match form_caller(&state, lang, caller, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let document = form.get("document").cloned().unwrap_or_default();
    if let Err(e) = actor.require(Permission::ManagePolicy, "validate policies") {
        return staff::error_page(lang, e);
    }
    if form.get("action").map(String::as_str) != Some("activate") {
        return match policy::validate(&document) {
            Ok(_) => back(t(lang, N::PolicyOk)),
            Err(e) => staff::error_page(lang, policy::bad_document(e)),
        };
    }
    let done = state
        .db
        .write(move |c| {
            actor.require(Permission::ManagePolicy, "activate policies")?;
            let row = policy::save_draft(c, &document, actor.user())?;
            policy::activate(c, row.version, actor.user())
        })
        .await;
    match done {
        Ok(row) => back(&format!("{} v{}", t(lang, N::Policy), row.version)),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/network/withdrawals/{id}/{approve|reject}` (HQ finance and admin). Runs once per
/// form key ([`form_key`]): a double click approves once.
pub async fn withdrawal(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (_, actor) = match form_caller(&state, lang, caller, &form).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let Some(user) = actor.user() else {
        return staff::error_page(lang, crate::error::Error::Forbidden("no user".into()));
    };
    let approve = action == "approve";
    let done = form_key::write_once(&state.db, user, target, &form, move |c| {
        let w = withdrawals::decide(c, id, approve, None, actor)?;
        Ok(format!(
            "{HERE}?notice={}",
            urlencode(&format!("#{} {}", w.id, w.status))
        ))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => staff::error_page(lang, e),
    }
}
