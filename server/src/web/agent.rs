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

use super::agent_i18n as w;
use super::form_key::{self, FormTarget};
use super::i18n::Lang;
use super::network_i18n::{N, t};
use super::staff::{self, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::domain::custody::Custodian;
use crate::domain::network::Account;
use crate::domain::network::AgentStatus;
use crate::error::{Error, Result};
use crate::joining::{self as joining_cases, certificates};
use crate::network::policy::OwnPrice;
use crate::network::views::{self, OrderSummary};
use crate::network::{Actor, agents, orders, upgrade};
use crate::store::DbConnection;
use crate::store::joining::{self as joining_store, ApplicationRow, CertificateRow, InvitationRow};
use crate::store::network::agents::{self as agent_store, AgentRow};
use crate::store::network::orders::{self as order_store, Listing, OrderRow};
use crate::store::network::{agent_id, ledger, stock};
use crate::store::products;

const HERE: &str = "/agent";

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    notice: Option<String>,
}

/// The signed-in agent: its session, its actor and its agent id; or the response for anyone
/// else (sign in, or 403).
pub(super) async fn agent_gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
) -> std::result::Result<(Caller, Actor, i64), Response> {
    let caller = staff::gate_for(state, lang, caller, HERE, Permission::AgentPortal).await?;
    let user = caller.user_id;
    match state.db.run(move |c| agents::for_user(c, user)).await {
        Ok(row) => Ok((
            caller,
            Actor::Agent {
                user,
                agent: row.id,
            },
            row.id,
        )),
        Err(e) => Err(staff::error_page(lang, e)),
    }
}

struct Portal {
    me: AgentRow,
    stock: Vec<(String, i64)>,
    /// What this agent may order, at its own prices.
    prices: Vec<OwnPrice>,
    placed: Vec<OrderSummary>,
    handle: Vec<OrderSummary>,
    available: String,
    frozen: String,
    team: Vec<AgentRow>,
    invitation: Option<InvitationRow>,
    certificate: Option<CertificateRow>,
    progress: upgrade::Progress,
    queue: Vec<ApplicationRow>,
    waiting: crate::store::agent_pages::Waiting,
    /// Forwarding legs to pay or to confirm: (order, I confirm, the other party's name, amount).
    legs_due: Vec<(i64, bool, String, i64)>,
    policy: crate::domain::network::policy::Policy,
    products: std::collections::BTreeMap<i64, (String, String)>,
}

fn load(c: &mut DbConnection, actor: Actor, agent: i64) -> Result<Portal> {
    let me = agent_store::get(c, agent)?;
    let all = products::list(c)?;
    let sku = |id: i64| {
        all.iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_string(), |p| p.sku.clone())
    };
    let stock = stock::counts(c, Custodian::Agent(agent).columns())?
        .into_iter()
        .map(|(p, n)| (sku(p), n))
        .collect();
    let handle: Vec<OrderRow> = order_store::list(c, Listing::HandledBy(agent), None, 0, 5)?
        .into_iter()
        .filter(|o| o.buyer_id != agent)
        .collect();
    let handle = views::summaries(c, handle)?;
    let placed = order_store::list(c, Listing::PlacedBy(agent), None, 0, 5)?;
    let placed = views::summaries(c, placed)?;
    let mut team = agent_store::with_descendants(c, agent)?;
    team.retain(|a| a.id != agent);
    // Team news: the newest members first.
    team.sort_by_key(|a| std::cmp::Reverse(a.id));
    team.truncate(5);
    let id = agent_id(agent);
    let mut legs_due = Vec::new();
    for l in crate::store::agent_pages::legs_due(c, agent, 10)? {
        let confirm = l.buyer_id != agent;
        let other = if confirm {
            agent_store::get(c, l.buyer_id)?.name
        } else {
            match l.seller_id {
                Some(s) if l.seller_kind == crate::domain::network::PartyKind::Agent => {
                    agent_store::get(c, s)?.name
                }
                _ => String::new(),
            }
        };
        legs_due.push((l.order_id, confirm, other, l.goods_amount_cents));
    }
    Ok(Portal {
        legs_due,
        stock,
        prices: crate::network::policy::own_prices(c, agent)?.1,
        placed,
        handle,
        available: ledger::balance(c, &Account::available(id))?.to_string(),
        frozen: ledger::balance(c, &Account::frozen(id))?.to_string(),
        team,
        invitation: joining_store::invitations_of(c, agent)?.into_iter().next(),
        certificate: joining_store::latest_certificate(c, agent)?,
        progress: upgrade::progress(c, agent)?,
        queue: joining_cases::queue(c, actor)?,
        waiting: crate::store::agent_pages::waiting(c, agent)?,
        policy: crate::network::policy::active(c)?.1,
        products: all
            .iter()
            .map(|p| (p.id, (p.name.clone(), p.sku.clone())))
            .collect(),
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
    let (caller, actor, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let p = match state.db.run(move |c| load(c, actor, agent)).await {
        Ok(p) => p,
        Err(e) => return staff::error_page(lang, e),
    };
    let csrf = caller.csrf().to_string();
    let tier = w::tier_by_rank(lang, &p.policy, p.me.tier_rank);
    let my_tier = p.policy.tier(crate::network::book::tier(p.me.tier_rank));
    let entry = my_tier.map(|t| w::entry_words(lang, t.entry));
    let entry_quantity = my_tier.and_then(|t| t.entry_quantity());
    let my_prices: Vec<String> = p
        .prices
        .iter()
        .map(|pr| format!("{} ¥{}", product_name(lang, pr), pr.unit_price))
        .collect();
    let wait = p.waiting;
    let waits: [(i64, &str, &str); 5] = [
        (
            wait.to_answer,
            w::tr(lang, "待我接单或代发", "To accept or forward"),
            "/agent/orders?tab=pay",
        ),
        (
            wait.to_confirm,
            w::tr(lang, "待我确认收款", "To confirm payment for"),
            "/agent/orders?tab=pay",
        ),
        (
            wait.to_ship,
            w::tr(lang, "待我发货", "To ship"),
            "/agent/orders?tab=ship",
        ),
        (
            wait.to_pay,
            w::tr(lang, "我的订单待付款", "My orders to pay"),
            "/agent/orders?tab=pay",
        ),
        (
            wait.to_receive,
            w::tr(lang, "我的订单待收货", "My orders to receive"),
            "/agent/orders?tab=receive",
        ),
    ];
    let recruits: Vec<(String, String)> = p
        .policy
        .recruits(crate::network::book::tier(p.me.tier_rank))
        .into_iter()
        .map(|t| (t.key.clone(), w::tier_words(lang, &t.name_zh, &t.name_en)))
        .collect();
    let body = html! {
        @if let Some(n) = &q.notice { div.card.verdict.ok id="notice" { (n) } }
        div.card id="me" {
            p { strong { (p.me.name) } " · " (tier) br;
                span.muted { (crate::diversion::views::region_name(&p.me.region)) } br;
                span id="my-status" { (w::agent_status(lang, p.me.status)) } }
        }
        @if p.me.status == AgentStatus::Pending {
            @if let Some(entry) = &entry {
                div.card.verdict.warn id="entry" {
                    h2 { (w::tr(lang, "首批进货", "Entry order")) }
                    p { (tier) ": " strong { (entry) } }
                    @if !my_prices.is_empty() { p { (w::tr(lang, "我的进货价：", "My prices: ")) (my_prices.join(w::tr(lang, "、", ", "))) } }
                    p.muted { (w::tr(lang, "首批订单付款后，您的授权生效。", "Your authorisation starts once the entry order is paid.")) }
                }
            }
        }
        div.card id="waiting" {
            h2 { (w::tr(lang, "待办", "Waiting for me")) }
            @if waits.iter().all(|(n, _, _)| *n == 0) && p.legs_due.is_empty() { p.muted { (w::tr(lang, "暂时没有待办", "Nothing waiting")) } }
            @for (n, label, href) in &waits {
                @if *n > 0 { p { a href=(href) { (label) " " strong { (n) } } } }
            }
            @for (order, confirm, other, cents) in &p.legs_due {
                p { a href=(format!("/agent/orders/{order}")) data-leg-due=(order) {
                    (w::tr(lang, "代发单", "Forwarded order")) " #" (order) " · "
                    @if *confirm { (w::tr(lang, "确认收到", "confirm payment from ")) (other) (w::tr(lang, "的货款", "")) }
                    @else if other.is_empty() { (w::tr(lang, "付给品牌总部", "pay Brand HQ")) }
                    @else { (w::tr(lang, "付给", "pay ")) (other) }
                    " " strong { (w::yuan(*cents)) }
                } }
            }
        }
        div.card id="earnings" {
            h2 { (t(lang, N::Earnings)) }
            dl {
                dt { (t(lang, N::Available)) } dd data-wallet="available" { "¥" (p.available) }
                dt { (t(lang, N::Frozen)) } dd data-wallet="frozen" { "¥" (p.frozen) }
            }
            p { a href="/agent/money" id="to-money" { (w::tr(lang, "钱包、对账单与提现 →", "Money, statements and withdrawals →")) } }
        }
        div.card id="stock" {
            h2 { (t(lang, N::MyStock)) }
            @if p.stock.is_empty() { p.muted { (t(lang, N::NoStock)) } }
            dl { @for (sku, n) in &p.stock { dt { (p.products.values().find(|(_, s)| s == sku).map_or(sku.as_str(), |(name, _)| name.as_str())) } dd data-sku=(sku) { (n) " " (t(lang, N::Items)) } } }
        }
        form.card method="post" action="/agent/orders" id="place" {
            h2 { (t(lang, N::PlaceOrder)) }
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            // A cart: a quantity per product this agent may order, each at its own price; a
            // product left empty is not ordered.
            @if p.prices.is_empty() { p.muted { (w::tr(lang, "您的级别暂无可订购的商品。", "Nothing can be ordered at your tier yet.")) } }
            // A pending agent's form starts as its entry order: the entry quantity of the first
            // product (it may spread it over others).
            @for (i, pr) in p.prices.iter().enumerate() {
                label.product data-sku=(pr.sku) style="display:flex;gap:.6rem;align-items:flex-start;margin:.5rem 0" {
                    @if let Some(url) = &pr.image_url {
                        img src=(url) alt=(product_name(lang, pr)) width="64" height="64" loading="lazy" style="object-fit:contain;flex:none;border-radius:6px;background:#fff";
                    } @else {
                        span aria-hidden="true" style="width:64px;height:64px;flex:none;border-radius:6px;background:#e7e5e4;display:inline-block" {}
                    }
                    span style="flex:1" {
                    (product_name(lang, pr)) br;
                    span.muted { (w::tr(lang, "我的进货价 ¥", "My price ¥")) (pr.unit_price) " / " (w::tr(lang, "盒", "item")) } br;
                    span.muted data-stock=(pr.sku) { (w::tr(lang, "我的库存 ", "In stock: ")) (p.stock.iter().find(|(s, _)| *s == pr.sku).map_or(0, |(_, n)| *n)) " " (w::tr(lang, "盒", "items")) } br;
                    input type="text" inputmode="numeric" name=(format!("qty.{}", pr.sku))
                        value=[(i == 0 && p.me.status == AgentStatus::Pending).then_some(entry_quantity).flatten()]
                        placeholder=(t(lang, N::Quantity)) aria-label=(format!("{} {}", product_name(lang, pr), t(lang, N::Quantity)));
                    }
                }
            }
            button type="submit" { (t(lang, N::PlaceOrder)) }
        }
        div.card id="placed" { h2 { (t(lang, N::MyOrders)) }
            @if p.placed.is_empty() { p.muted { (t(lang, N::NoneYet)) } }
            @for o in &p.placed { (super::agent_orders::order_row(lang, o, "")) }
            p { a href="/agent/orders" id="all-orders" { (w::tr(lang, "全部订单 →", "All orders →")) } }
        }
        div.card id="handle" { h2 { (t(lang, N::ToHandle)) }
            @if p.handle.is_empty() { p.muted { (t(lang, N::NoneYet)) } }
            @for o in &p.handle { (super::agent_orders::order_row(lang, o, "")) }
        }
        div.card id="team" {
            h2 { (t(lang, N::Team)) }
            @if p.team.is_empty() { p.muted { (t(lang, N::NoTeam)) } }
            @for a in &p.team { p data-agent=(a.id) {
                (a.name) " · " (w::tier_by_rank(lang, &p.policy, a.tier_rank)) " · " (w::agent_status(lang, a.status))
            } }
            p { a href="/agent/team" id="to-team" { (w::tr(lang, "我的团队 →", "My team →")) } }
        }
        (invitation(lang, &csrf, p.invitation.as_ref(), &recruits, &p.policy))
        div.card id="upgrade" {
            h2 { (t(lang, N::Upgrade)) }
            @if let Some(target) = &p.progress.target {
                p { (w::tr(lang, "升级到", "Upgrade to")) " " (w::tier_by_key(lang, &p.policy, target)) ": "
                    (w::tr(lang, "已推荐该级别代理", "agents of that tier referred")) " " (p.progress.have) " / " (p.progress.need) }
                @if let Some((qty, amount)) = p.progress.top_up { p { (t(lang, N::TopUp)) ": " (qty) " " (w::tr(lang, "盒", "items")) " · ¥" (amount) } }
                @if p.progress.eligible && p.me.is_active() {
                    form method="post" action="/agent/upgrade" id="upgrade-form" {
                        input type="hidden" name="csrf" value=(csrf);
                        (form_key::field())
                        select name="sku" { @for pr in &p.prices { option value=(pr.sku) { (product_name(lang, pr)) } } }
                        button type="submit" { (t(lang, N::UpgradeNow)) }
                    }
                }
            } @else { p.muted { (w::tr(lang, "已是最高级别", "You are at the top tier")) } }
            p { a href="/agent/levels" id="to-levels" { (w::tr(lang, "等级与升级说明 →", "Levels and upgrades →")) } }
        }
        div.card id="certificate" {
            h2 { (t(lang, N::Certificate)) }
            @if let Some(c) = &p.certificate {
                p { a href=(format!("/a/{}", c.code)) id="my-check" { (t(lang, N::CheckTitle)) } }
                img src=(format!("/a/{}/certificate.png?lang={}", c.code, lang.param())) alt=(t(lang, N::Certificate)) id="certificate-image" style="max-width:100%";
                p.muted { (w::tr(lang, "长按图片保存或分享；", "Press and hold the picture to save or share it; ")) a href=(format!("/a/{}/certificate.svg?lang={}", c.code, lang.param())) { (w::tr(lang, "打印版（SVG）", "print version (SVG)")) } }
            }
            @if p.me.is_active() {
                form method="post" action="/agent/certificate" {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" id="issue-certificate" { (t(lang, N::IssueCertificate)) }
                }
            }
        }
        @if !p.queue.is_empty() {
            div.card id="applications" {
                h2 { (t(lang, N::ToApprove)) }
                @for a in &p.queue {
                    div data-application=(a.id) style="border-top:1px solid #e7e5e4;padding:.4rem 0" {
                        strong { (a.name) } " · " (w::tier_by_key(lang, &p.policy, &a.tier_key)) " · " (crate::diversion::views::region_name(&a.region)) br;
                        span.muted { (w::application_status(lang, a.status)) " · " (w::when(lang, a.created_at)) }
                        form method="post" action=(format!("/agent/applications/{}/approve", a.id)) {
                            input type="hidden" name="csrf" value=(csrf);
                            (form_key::field())
                            button type="submit" id=(format!("approve-{}", a.id)) { (t(lang, N::Approve)) }
                        }
                        details { summary { (t(lang, N::Reject)) }
                            form method="post" action=(format!("/agent/applications/{}/reject", a.id)) {
                                input type="hidden" name="csrf" value=(csrf);
                                (form_key::field())
                                input type="text" name="reason" required placeholder=(t(lang, N::Reason));
                                button type="submit" { (t(lang, N::Reject)) }
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
        t(lang, N::AgentTitle),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

fn product_name(lang: Lang, p: &OwnPrice) -> String {
    match (lang, &p.name_en) {
        (Lang::En, Some(en)) if !en.is_empty() => en.clone(),
        _ => p.name.clone(),
    }
}

fn invitation(
    lang: Lang,
    csrf: &str,
    inv: Option<&InvitationRow>,
    recruits: &[(String, String)],
    policy: &crate::domain::network::policy::Policy,
) -> Markup {
    html! {
        div.card id="invitation" {
            h2 { (t(lang, N::Invitation)) }
            @if let Some(i) = inv {
                p { a href=(format!("/join/{}", i.code)) data-code=(i.code) id="my-invitation" { (w::tr(lang, "我的邀请链接", "My invitation link")) }
                    @if let Some(tier) = &i.tier_key { " · " (w::tier_by_key(lang, policy, tier)) } }
                p { a href=(format!("/join/{}/poster.png?lang={}", i.code, lang.param())) id="poster" {
                    img src=(format!("/join/{}/poster.png?lang={}", i.code, lang.param())) alt=(w::tr(lang, "邀请海报", "Invitation poster")) style="max-width:60%"; } }
                p.muted { (w::tr(lang, "长按海报保存，发给想加入的人。", "Press and hold the poster to save it and send it to whoever wants to join.")) }
            }
            @if recruits.is_empty() {
                p.muted { (w::tr(lang, "按当前政策，您的级别不能邀请代理。", "Under the current policy your tier does not invite agents.")) }
            } @else {
                form method="post" action="/agent/invitations" id="invite" {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    label for="invite-tier" { (w::tr(lang, "邀请的级别", "Tier offered")) }
                    select name="tier" id="invite-tier" {
                        @for (key, name) in recruits { option value=(key) { (name) } }
                    }
                    button type="submit" { (t(lang, N::NewInvitation)) }
                }
            }
        }
    }
}

/// Runs a form of the signed-in agent once (its form key: a repeated submission changes
/// nothing) and comes back to `back` with a notice in words, `Ok((notice, good))`; a refusal
/// shows the error page with a way back to `back`. The one path of every agent form: gate,
/// CSRF, write once.
pub(super) async fn act_on(
    state: AppState,
    caller: Option<Caller>,
    target: FormTarget,
    headers: HeaderMap,
    form: BTreeMap<String, String>,
    back: String,
    f: impl FnOnce(
        &mut DbConnection,
        Actor,
        i64,
        Lang,
        &BTreeMap<String, String>,
    ) -> Result<(String, bool)>
    + Send
    + 'static,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor, agent) = match agent_gate(&state, lang, caller).await {
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
    form_key::write_then_back(
        &state.db,
        caller.user_id,
        target,
        &form,
        lang,
        &back,
        move |c| f(c, actor, agent, lang, &fields),
    )
    .await
}

/// [`act_on`] for the forms of the home page, which come back to it.
async fn act(
    state: AppState,
    caller: Option<Caller>,
    target: FormTarget,
    headers: HeaderMap,
    form: BTreeMap<String, String>,
    f: impl FnOnce(&mut DbConnection, Actor, i64, Lang, &BTreeMap<String, String>) -> Result<String>
    + Send
    + 'static,
) -> Response {
    act_on(
        state,
        caller,
        target,
        headers,
        form,
        HERE.to_string(),
        move |c, actor, agent, lang, fields| Ok((f(c, actor, agent, lang, fields)?, true)),
    )
    .await
}

/// The cart a place-order form asks for: a line per `qty.<SKU>` field with a quantity, or the
/// single `sku` and `quantity` of the form before carts.
fn cart(f: &BTreeMap<String, String>) -> Result<orders::OrderInput> {
    let whole = |field: &str, q: &str| {
        q.trim()
            .parse::<i64>()
            .map_err(|_| Error::BadRequest(format!("{field}: a whole number of items")))
    };
    let mut lines = Vec::new();
    for (k, v) in f {
        if let Some(sku) = k.strip_prefix("qty.")
            && !v.trim().is_empty()
        {
            let quantity = whole(k, v)?;
            if quantity != 0 {
                lines.push(orders::LineInput {
                    sku: sku.to_string(),
                    quantity,
                });
            }
        }
    }
    if !lines.is_empty() {
        return Ok(orders::OrderInput { lines });
    }
    let quantity = whole("quantity", f.get("quantity").map_or("", String::as_str))?;
    Ok(orders::OrderInput::single(
        f.get("sku").map_or("", String::as_str),
        quantity,
    ))
}

/// `POST /agent/orders`: places an order with my supplier.
pub async fn place(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    act(
        state,
        caller,
        target,
        headers,
        form,
        move |c, actor, _, lang, f| {
            let input = cart(f)?;
            let row = orders::submit(c, actor, &input)?;
            Ok(format!("#{} {}", row.id, w::order_state(lang, row.state)))
        },
    )
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
    act(
        state,
        caller,
        target,
        headers,
        form,
        move |c, actor, _, lang, f| {
            let sku = f.get("sku").map_or("", String::as_str);
            Ok(match upgrade::request(c, actor, sku)? {
                upgrade::Requested::Order(row) => {
                    format!("#{} {}", row.id, w::order_state(lang, row.state))
                }
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
        },
    )
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
    act(
        state,
        caller,
        target,
        headers,
        form,
        move |c, actor, agent, lang, f| {
            joining_cases::invite(c, actor, agent, f.get("tier").map(String::as_str))?;
            Ok(w::tr(lang, "新的邀请链接已生成", "A new invitation link is ready").to_string())
        },
    )
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
    act(
        state,
        caller,
        target,
        headers,
        form,
        move |c, actor, agent, lang, _| {
            certificates::issue(c, actor, agent, None)?;
            Ok(w::tr(lang, "授权证书已生成", "Your certificate is issued").to_string())
        },
    )
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
    act(
        state,
        caller,
        target,
        headers,
        form,
        move |c, actor, _, lang, f| {
            let approve = action == "approve";
            let reason = f.get("reason").map_or("", String::as_str);
            let out = joining_cases::decide(c, actor, id, approve, reason)?;
            Ok(format!(
                "{} · {}",
                out.application.name,
                w::application_status(lang, out.application.status)
            ))
        },
    )
    .await
}

/// The query of `/agent/team`: a search by name or region name, a tier and a status filter, and
/// the page.
#[derive(Debug, Default, Deserialize)]
pub struct TeamQuery {
    lang: Option<String>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    status: String,
    page: Option<usize>,
}

/// Direct referrals (with their branches) per page of the tree; members per page of a search.
const TEAM_BRANCHES: usize = 20;
const TEAM_MATCHES: usize = 30;

/// `GET /agent/team`: my downline as a tree (names, tiers in words, status, who referred whom),
/// my direct referrals 20 to a page; with a search or a filter, the matching members as a list
/// with their referrer, 30 to a page.
pub async fn team(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<TeamQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            Ok((
                agent_store::with_descendants(c, agent)?,
                crate::network::policy::active(c)?.1,
            ))
        })
        .await;
    let (all, policy) = match loaded {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, HERE),
    };
    let view = team_view(lang, &q, agent, &all, &policy);
    let switch = format!(
        "/agent/team?{}",
        team_params(&q, q.page.unwrap_or(1), lang.other())
    );
    super::shell::page(
        lang,
        &caller,
        "/agent/team",
        w::tr(lang, "我的团队", "My team"),
        Some(&switch),
        view,
    )
    .into_response()
}

/// The team page's query string for `page` in `lang`, keeping the search and filters.
fn team_params(q: &TeamQuery, page: usize, lang: Lang) -> String {
    format!(
        "q={}&tier={}&status={}&page={page}&lang={}",
        urlencode(q.q.trim()),
        urlencode(&q.tier),
        urlencode(&q.status),
        lang.param()
    )
}

fn team_view(
    lang: Lang,
    q: &TeamQuery,
    me: i64,
    all: &[AgentRow],
    policy: &crate::domain::network::policy::Policy,
) -> Markup {
    let mut below: BTreeMap<i64, Vec<&AgentRow>> = BTreeMap::new();
    for a in all {
        if let Some(r) = a.referrer_id {
            below.entry(r).or_default().push(a);
        }
    }
    let names: BTreeMap<i64, &str> = all.iter().map(|a| (a.id, a.name.as_str())).collect();
    fn branch(
        lang: Lang,
        policy: &crate::domain::network::policy::Policy,
        below: &BTreeMap<i64, Vec<&AgentRow>>,
        of: i64,
        depth: usize,
    ) -> Markup {
        html! {
            @if let Some(kids) = below.get(&of) {
                @if depth < 12 {
                    ul {
                        @for a in kids {
                            li data-agent=(a.id) {
                                (member(lang, policy, a))
                                (branch(lang, policy, below, a.id, depth + 1))
                            }
                        }
                    }
                }
            }
        }
    }
    let count = all.len().saturating_sub(1);
    let needle = q.q.trim();
    let tier = policy.tier_by_key(&q.tier).map(|t| t.rank);
    let status = AgentStatus::parse(&q.status);
    let filtered = !needle.is_empty() || tier.is_some() || status.is_some();
    let page = q.page.unwrap_or(1).max(1);
    let per = if filtered {
        TEAM_MATCHES
    } else {
        TEAM_BRANCHES
    };
    let (shown, total): (Vec<&AgentRow>, usize) = if filtered {
        let hits: Vec<&AgentRow> = all
            .iter()
            .filter(|a| a.id != me)
            .filter(|a| {
                needle.is_empty()
                    || a.name.contains(needle)
                    || crate::diversion::views::region_name(&a.region).contains(needle)
            })
            .filter(|a| tier.is_none_or(|r| crate::network::book::tier(a.tier_rank) == r))
            .filter(|a| status.is_none_or(|s| a.status == s))
            .collect();
        let total = hits.len();
        (
            hits.into_iter().skip((page - 1) * per).take(per).collect(),
            total,
        )
    } else {
        let direct = below.get(&me).cloned().unwrap_or_default();
        let total = direct.len();
        (
            direct
                .into_iter()
                .skip((page - 1) * per)
                .take(per)
                .collect(),
            total,
        )
    };
    let pages = total.div_ceil(per).max(1);
    html! {
        form.card method="get" action="/agent/team" id="team-search" {
            input type="hidden" name="lang" value=(lang.param());
            label for="team-q" { (w::tr(lang, "搜索姓名或地区", "Search by name or region")) }
            input type="text" id="team-q" name="q" value=(needle);
            label for="team-tier" { (w::tr(lang, "级别", "Tier")) }
            select id="team-tier" name="tier" style="width:100%;font-size:1rem;padding:.4rem" {
                option value="" { (w::tr(lang, "全部级别", "All tiers")) }
                @for t in policy.tiers() {
                    option value=(t.key) selected[t.key == q.tier] { (w::tier_words(lang, &t.name_zh, &t.name_en)) }
                }
            }
            label for="team-status" { (w::tr(lang, "状态", "Status")) }
            select id="team-status" name="status" style="width:100%;font-size:1rem;padding:.4rem" {
                option value="" { (w::tr(lang, "全部状态", "Any status")) }
                @for s in [AgentStatus::Active, AgentStatus::Pending, AgentStatus::Suspended] {
                    option value=(s.as_str()) selected[q.status == s.as_str()] { (w::agent_status(lang, s)) }
                }
            }
            button type="submit" { (w::tr(lang, "查找", "Find")) }
            @if filtered { p { a href=(format!("/agent/team?lang={}", lang.param())) id="team-clear" { (w::tr(lang, "清除条件，看团队树", "Clear, back to the tree")) } } }
        }
        div.card id="team-tree" data-total=(total) {
            p { (w::tr(lang, "团队人数：", "Team members: ")) strong { (count) } }
            @if filtered {
                p.muted { (w::tr(lang, "符合条件：", "Matching: ")) (total) }
                @if shown.is_empty() { p.muted { (w::tr(lang, "没有符合条件的成员", "No member matches")) } }
                ul { @for a in &shown {
                    li data-agent=(a.id) {
                        (member(lang, policy, a))
                        @if let Some(r) = a.referrer_id.and_then(|r| names.get(&r)) {
                            br; span.muted { (w::tr(lang, "推荐人：", "Referred by ")) (r) }
                        }
                    }
                } }
            } @else {
                @if count == 0 { p.muted { (t(lang, N::NoTeam)) } }
                ul { @for a in &shown {
                    li data-agent=(a.id) {
                        (member(lang, policy, a))
                        (branch(lang, policy, &below, a.id, 1))
                    }
                } }
            }
            @if pages > 1 {
                p.pager id="team-pager" {
                    @if page > 1 { a id="team-prev" href=(format!("/agent/team?{}", team_params(q, page - 1, lang))) { "← " (w::tr(lang, "上一页", "Previous")) } }
                    span { (page) " / " (pages) }
                    @if page < pages { a id="team-next" href=(format!("/agent/team?{}", team_params(q, page + 1, lang))) { (w::tr(lang, "下一页", "Next")) " →" } }
                }
            }
        }
    }
}

/// One member of the team: name, tier and status in words, region by name.
fn member(lang: Lang, policy: &crate::domain::network::policy::Policy, a: &AgentRow) -> Markup {
    html! {
        strong { (a.name) } " · " (w::tier_by_rank(lang, policy, a.tier_rank)) " · "
        (w::agent_status(lang, a.status)) " · " span.muted { (crate::diversion::views::region_name(&a.region)) }
    }
}
