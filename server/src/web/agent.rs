//! The agent portal (`/agent`, phone first): my stock, orders to place and to handle, earnings
//! frozen and available, my team, my invitation QR and certificate, upgrade progress, and the
//! applications I decide as would-be supplier. Forms post to `/agent/...` with the session's CSRF
//! token and come back with a notice; every action goes through the same use case as the API.

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
use super::staff::{self, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::domain::network::{Account, PaidVia};
use crate::error::{Error, Result};
use crate::joining::{self as joining_cases, certificates};
use crate::network::{Actor, agents, orders, payment, shipping, upgrade};
use crate::store::DbConnection;
use crate::store::joining::{self as joining_store, ApplicationRow, CertificateRow, InvitationRow};
use crate::store::network::agents::{self as agent_store, AgentRow};
use crate::store::network::orders::{self as order_store, Listing, OrderRow};
use crate::store::network::{agent_id, ledger, money, stock};
use crate::store::products;

const HERE: &str = "/agent";

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    notice: Option<String>,
}

/// The signed-in agent's actor, or the response for anyone else (sign in, or 403).
pub(super) async fn agent_gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
) -> std::result::Result<(Caller, Actor), Response> {
    let caller = staff::gate_for(state, lang, caller, HERE, Permission::AgentPortal).await?;
    let user = caller.user_id;
    match state.db.run(move |c| agents::for_user(c, user)).await {
        Ok(row) => Ok((
            caller,
            Actor::Agent {
                user,
                agent: row.id,
            },
        )),
        Err(e) => Err(staff::error_page(lang, e)),
    }
}

struct Portal {
    me: AgentRow,
    stock: Vec<(String, i64)>,
    skus: Vec<String>,
    placed: Vec<OrderRow>,
    handle: Vec<OrderRow>,
    available: String,
    frozen: String,
    team: Vec<AgentRow>,
    invitation: Option<InvitationRow>,
    certificate: Option<CertificateRow>,
    progress: upgrade::Progress,
    queue: Vec<ApplicationRow>,
}

fn load(c: &mut DbConnection, actor: Actor, agent: i64) -> Result<Portal> {
    let me = agent_store::get(c, agent)?;
    let all = products::list(c)?;
    let sku = |id: i64| {
        all.iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_string(), |p| p.sku.clone())
    };
    let stock = stock::counts(c, ("agent", Some(agent)))?
        .into_iter()
        .map(|(p, n)| (sku(p), n))
        .collect();
    let handle = order_store::list(c, Listing::HandledBy(agent), None, 0, 30)?
        .into_iter()
        .filter(|o| o.buyer_id != agent)
        .collect();
    let mut team = agent_store::with_descendants(c, agent)?;
    team.retain(|a| a.id != agent);
    let id = agent_id(agent);
    Ok(Portal {
        stock,
        skus: all.iter().map(|p| p.sku.clone()).collect(),
        placed: order_store::list(c, Listing::PlacedBy(agent), None, 0, 20)?,
        handle,
        available: ledger::balance(c, &Account::available(id))?.to_string(),
        frozen: ledger::balance(c, &Account::frozen(id))?.to_string(),
        team,
        invitation: joining_store::invitations_of(c, agent)?.into_iter().next(),
        certificate: joining_store::latest_certificate(c, agent)?,
        progress: upgrade::progress(c, agent)?,
        queue: joining_cases::queue(c, actor)?,
        me,
    })
}

/// `GET /agent`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, actor) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Actor::Agent { agent, .. } = actor else {
        return staff::error_page(lang, Error::Forbidden("not an agent".into()));
    };
    let p = match state.db.write(move |c| load(c, actor, agent)).await {
        Ok(p) => p,
        Err(e) => return staff::error_page(lang, e),
    };
    let csrf = caller.csrf().to_string();
    let body = html! {
        @if let Some(n) = &q.notice { div.card.verdict.ok id="notice" { (n) } }
        div.card { p { strong { (p.me.name) } " · " (p.me.region) " · " (p.me.status) } }
        div.card id="stock" {
            h2 { (t(lang, N::MyStock)) }
            @if p.stock.is_empty() { p.muted { (t(lang, N::NoStock)) } }
            dl { @for (sku, n) in &p.stock { dt { (sku) } dd data-sku=(sku) { (n) " " (t(lang, N::Items)) } } }
        }
        form.card method="post" action="/agent/orders" id="place" {
            h2 { (t(lang, N::PlaceOrder)) }
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            label { (t(lang, N::Product)) br;
                select name="sku" { @for s in &p.skus { option value=(s) { (s) } } } }
            label { (t(lang, N::Quantity)) br; input type="text" inputmode="numeric" name="quantity" required; }
            button type="submit" { (t(lang, N::PlaceOrder)) }
        }
        div.card id="placed" { h2 { (t(lang, N::MyOrders)) } (order_table(lang, &p.placed, None)) }
        div.card id="handle" { h2 { (t(lang, N::ToHandle)) } (order_table(lang, &p.handle, Some(&csrf))) }
        div.card id="earnings" {
            h2 { (t(lang, N::Earnings)) }
            dl {
                dt { (t(lang, N::Available)) } dd data-wallet="available" { (p.available) }
                dt { (t(lang, N::Frozen)) } dd data-wallet="frozen" { (p.frozen) }
            }
        }
        div.card id="team" {
            h2 { (t(lang, N::Team)) }
            @if p.team.is_empty() { p.muted { (t(lang, N::NoTeam)) } }
            ul { @for a in &p.team { li data-agent=(a.id) {
                (a.name) " · " (a.tier_rank) " · " (a.status)
                @if let Some(r) = a.referrer_id { " ← " (r) }
            } } }
        }
        (invitation(lang, &csrf, p.invitation.as_ref()))
        div.card id="upgrade" {
            h2 { (t(lang, N::Upgrade)) }
            @if let Some(target) = &p.progress.target {
                p { (target) ": " (t(lang, N::Referred)) " " (p.progress.have) " / " (p.progress.need) }
                @if let Some((qty, amount)) = p.progress.top_up { p { (t(lang, N::TopUp)) ": " (qty) " · " (amount) } }
                @if p.progress.eligible && p.me.is_active() {
                    form method="post" action="/agent/upgrade" id="upgrade-form" {
                        input type="hidden" name="csrf" value=(csrf);
                        (form_key::field())
                        select name="sku" { @for s in &p.skus { option value=(s) { (s) } } }
                        button type="submit" { (t(lang, N::UpgradeNow)) }
                    }
                }
            } @else { p.muted { (t(lang, N::NoneYet)) } }
        }
        div.card id="certificate" {
            h2 { (t(lang, N::Certificate)) }
            @if let Some(c) = &p.certificate {
                p { a href=(format!("/a/{}", c.code)) { (t(lang, N::CheckTitle)) } }
                img src=(format!("/a/{}/png", c.code)) alt=(t(lang, N::Certificate)) style="max-width:100%";
            }
            @if p.me.is_active() {
                form method="post" action="/agent/certificate" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (t(lang, N::IssueCertificate)) }
                }
            }
        }
        (super::hq_network::applications(lang, &csrf, "/agent", &p.queue))
    };
    let switch = format!("{HERE}?lang={}", lang.other().param());
    let response = super::shell::page(
        lang,
        &caller,
        HERE,
        t(lang, N::AgentTitle),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

fn order_table(lang: Lang, rows: &[OrderRow], csrf: Option<&str>) -> Markup {
    html! {
        @if rows.is_empty() { p.muted { (t(lang, N::NoneYet)) } }
        @for o in rows {
            div data-order=(o.id) data-state=(o.state) style="border-top:1px solid #e7e5e4;padding:.4rem 0" {
                "#" (o.id) " · " (o.quantity) " × " (money(o.unit_price_cents)) " = "
                (money(o.goods_amount_cents)) " · " (o.state)
                @if let Some(csrf) = csrf { (actions(lang, csrf, o)) }
            }
        }
    }
}

fn actions(lang: Lang, csrf: &str, o: &OrderRow) -> Markup {
    let buttons: &[(&str, N)] = match o.state.as_str() {
        "submitted" => &[
            ("accept", N::Accept),
            ("forward", N::Forward),
            ("reject", N::Reject),
        ],
        "accepted" => &[("pay", N::ConfirmPayment)],
        _ => &[],
    };
    html! {
        @for (action, label) in buttons {
            form method="post" action=(format!("/agent/orders/{}/{action}", o.id)) style="display:inline-block;margin-right:.5rem" {
                input type="hidden" name="csrf" value=(csrf);
                (form_key::field())
                @if *action == "reject" { input type="text" name="reason" required placeholder=(t(lang, N::Reason)); }
                button type="submit" style="width:auto;padding:.3rem .8rem" { (t(lang, *label)) }
            }
        }
        @if matches!(o.state.as_str(), "paid" | "shipping") {
            form method="post" action=(format!("/agent/orders/{}/ship", o.id)) {
                input type="hidden" name="csrf" value=(csrf);
                (form_key::field())
                label { (t(lang, N::Serials)) br; textarea name="serials" rows="3" style="width:100%" {} }
                button type="submit" { (t(lang, N::Ship)) }
            }
        }
    }
}

fn invitation(lang: Lang, csrf: &str, inv: Option<&InvitationRow>) -> Markup {
    html! {
        div.card id="invitation" {
            h2 { (t(lang, N::Invitation)) }
            @if let Some(i) = inv {
                p { a href=(format!("/join/{}", i.code)) data-code=(i.code) { "/join/" (i.code) }
                    @if let Some(tier) = &i.tier_key { " · " (tier) } }
                img src=(format!("/join/{}/qr.png", i.code)) alt="QR" style="max-width:12rem";
            }
            form method="post" action="/agent/invitations" {
                input type="hidden" name="csrf" value=(csrf);
                input type="text" name="tier" placeholder=(t(lang, N::Tier));
                button type="submit" { (t(lang, N::NewInvitation)) }
            }
        }
    }
}

/// Runs a portal form's action for the signed-in agent and comes back with a notice. A form that
/// carries a key ([`form_key`]) runs once: sent again, it gets the same redirect.
async fn act(
    state: AppState,
    caller: Option<Caller>,
    target: FormTarget,
    headers: HeaderMap,
    form: BTreeMap<String, String>,
    f: impl FnOnce(&mut DbConnection, Actor, &BTreeMap<String, String>) -> Result<String>
    + Send
    + 'static,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return staff::form_expired(lang);
    }
    let fields = form.clone();
    let done = form_key::write_once(&state.db, caller.user_id, target, &form, move |c| {
        let notice = f(c, actor, &fields)?;
        Ok(format!("{HERE}?notice={}", urlencode(&notice)))
    })
    .await;
    match done {
        Ok(out) => form_key::redirect(&out),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /agent/orders`: places an order with my supplier.
pub async fn place(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    act(state, caller, target, headers, form, |c, actor, f| {
        let quantity = f
            .get("quantity")
            .and_then(|q| q.trim().parse::<i64>().ok())
            .ok_or_else(|| Error::BadRequest("quantity: a whole number of items".into()))?;
        let input = orders::OrderInput {
            sku: f.get("sku").cloned().unwrap_or_default(),
            quantity,
        };
        let row = orders::submit(c, actor, &input)?;
        Ok(format!("#{} {}", row.id, row.state))
    })
    .await
}

/// `POST /agent/orders/{id}/{action}`: accept, reject, forward, pay (confirm a transfer) or ship.
pub async fn order_action(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    act(state, caller, target, headers, form, move |c, actor, f| {
        let row = match action.as_str() {
            "accept" => orders::accept(c, id, actor)?,
            "forward" => orders::forward(c, id, actor)?,
            "reject" => orders::reject(c, id, actor, f.get("reason").map_or("", String::as_str))?,
            "pay" => payment::pay(c, id, PaidVia::Offline, actor)?,
            "ship" => {
                shipping::may_ship(c, id, actor)?;
                let serials: Vec<String> = f
                    .get("serials")
                    .map(|s| s.split_whitespace().map(String::from).collect())
                    .unwrap_or_default();
                let out = shipping::ship_items(c, id, actor.user(), &serials)?;
                if !out.rejected.is_empty() {
                    let why: Vec<String> = out
                        .rejected
                        .iter()
                        .map(|(s, r)| format!("{s}: {}", r.as_str()))
                        .collect();
                    return Ok(format!("#{id} {} · {}", out.state, why.join(", ")));
                }
                return Ok(format!("#{id} {}", out.state));
            }
            other => return Err(Error::BadRequest(format!("no action {other:?}"))),
        };
        Ok(format!("#{} {}", row.id, row.state))
    })
    .await
}

/// `POST /agent/upgrade`: places my top-up order, or, with nothing to top up, upgrades me now
/// (DOMAIN §5).
pub async fn upgrade_form(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    act(state, caller, target, headers, form, move |c, actor, f| {
        let sku = f.get("sku").map_or("", String::as_str);
        Ok(match upgrade::request(c, actor, sku)? {
            upgrade::Requested::Order(row) => format!("#{} {}", row.id, row.state),
            upgrade::Requested::Upgraded(me) => {
                let (_, policy) = crate::network::policy::active(c)?;
                let rank = crate::network::book::tier(me.tier_rank);
                let name = policy.tier(rank).map_or_else(
                    || me.tier_rank.to_string(),
                    |tier| match lang {
                        Lang::Zh => tier.name_zh.clone(),
                        Lang::En => tier.name_en.clone(),
                    },
                );
                format!("{} {name}", t(lang, N::UpgradedTo))
            }
        })
    })
    .await
}

/// `POST /agent/invitations`: a new invitation, optionally offering one tier.
pub async fn invite(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    act(state, caller, target, headers, form, |c, actor, f| {
        let Actor::Agent { agent, .. } = actor else {
            return Err(Error::Forbidden("not an agent".into()));
        };
        let inv = joining_cases::invite(c, actor, agent, f.get("tier").map(String::as_str))?;
        Ok(format!("/join/{}", inv.code))
    })
    .await
}

/// `POST /agent/certificate`: issues my certificate.
pub async fn certificate(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    act(state, caller, target, headers, form, |c, actor, _| {
        let Actor::Agent { agent, .. } = actor else {
            return Err(Error::Forbidden("not an agent".into()));
        };
        Ok(format!(
            "/a/{}",
            certificates::issue(c, actor, agent, None)?.code
        ))
    })
    .await
}

/// `POST /agent/applications/{id}/{approve|reject}`: my stage of two-stage approval.
pub async fn decide(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    act(state, caller, target, headers, form, move |c, actor, f| {
        let approve = action == "approve";
        let reason = f.get("reason").map_or("", String::as_str);
        let out = joining_cases::decide(c, actor, id, approve, reason)?;
        Ok(format!(
            "#{} {}",
            out.application.id, out.application.status
        ))
    })
    .await
}
