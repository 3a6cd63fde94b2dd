//! Level applications on the level pages: on `/agent/levels` the levels the agent may apply for
//! (with the conditions it meets, or not yet), a form to apply, its applications with a
//! withdraw button, and — for a supplier — its direct downline's applications awaiting it with
//! approve/reject forms; on `/hq/levels` the applications awaiting HQ. Every form posts the
//! session's CSRF token; the use cases in `crate::levels::applications` check who may act.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::i18n::Lang;
use super::staff::{self, see_other};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::levels::Lang as ReasonLang;
use crate::domain::levels::application::{Lapse, Status};
use crate::domain::levels::eligibility::Offer;
use crate::domain::network::Policy;
use crate::domain::network::policy::ApprovalMode;
use crate::domain::{Permission, Role};
use crate::error::{Error, Result};
use crate::levels::application_lists::{self as lists, reasons_text};
use crate::levels::applications::{self as cases, ApplyInput};
use crate::network::{Actor, agents as agent_cases, policy as tier_policy};
use crate::store::DbConnection;
use crate::store::levels::applications::LevelApplicationRow;
use crate::store::network::agents as agents_store;
use crate::store::users::now;

const AGENT_PAGE: &str = "/agent/levels";

fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// The page language as the domain's words know it.
pub(super) fn rl(lang: Lang) -> ReasonLang {
    match lang {
        Lang::Zh => ReasonLang::Zh,
        Lang::En => ReasonLang::En,
    }
}

/// An application with the names a page shows.
pub struct Item {
    pub row: LevelApplicationRow,
    pub applicant: String,
    pub from_zh: String,
    pub from_en: String,
    pub to_zh: String,
    pub to_en: String,
}

fn items(
    conn: &mut DbConnection,
    tiers: &Policy,
    rows: Vec<LevelApplicationRow>,
) -> Result<Vec<Item>> {
    let name = |rank: i32| {
        tiers
            .tiers()
            .iter()
            .find(|t| i32::from(t.rank.0) == rank)
            .map_or_else(
                || (rank.to_string(), rank.to_string()),
                |t| (t.name_zh.clone(), t.name_en.clone()),
            )
    };
    rows.into_iter()
        .map(|row| {
            let applicant = agents_store::get(conn, row.agent_id)?.name;
            let (from_zh, from_en) = name(row.from_rank);
            let (to_zh, to_en) = name(row.to_rank);
            Ok(Item {
                row,
                applicant,
                from_zh,
                from_en,
                to_zh,
                to_en,
            })
        })
        .collect()
}

/// What `/agent/levels` shows about applications.
pub struct AgentView {
    pub offers: Vec<Offer>,
    pub mine: Vec<Item>,
    pub awaiting_me: Vec<Item>,
}

pub fn load_agent(conn: &mut DbConnection, actor: Actor) -> Result<AgentView> {
    let (_, tiers) = tier_policy::active(conn)?;
    let offers = lists::options(conn, actor, now().date())?;
    let mine = lists::mine(conn, actor)?;
    let awaiting = lists::queue(conn, actor)?;
    Ok(AgentView {
        offers,
        mine: items(conn, &tiers, mine)?,
        awaiting_me: items(conn, &tiers, awaiting)?,
    })
}

/// The applications awaiting HQ, for `/hq/levels`.
pub fn load_hq(conn: &mut DbConnection, actor: Actor) -> Result<Vec<Item>> {
    let (_, tiers) = tier_policy::active(conn)?;
    let rows = lists::queue(conn, actor)?;
    items(conn, &tiers, rows)
}

fn status_text(lang: Lang, status: Status) -> &'static str {
    match status {
        Status::AwaitingSupplier => tr(lang, "待上级审核", "awaiting the supplier"),
        Status::AwaitingHq => tr(lang, "待总部审核", "awaiting HQ"),
        Status::Approved => tr(lang, "已通过", "approved"),
        Status::Rejected => tr(lang, "已拒绝", "rejected"),
        Status::Withdrawn => tr(lang, "已撤回", "withdrawn"),
        Status::Lapsed => tr(lang, "已失效", "lapsed"),
    }
}

fn mode_text(lang: Lang, mode: ApprovalMode) -> &'static str {
    match mode {
        ApprovalMode::SupplierThenHq => tr(lang, "上级审核后总部审核", "supplier, then HQ"),
        ApprovalMode::Hq | ApprovalMode::Automatic => tr(lang, "总部审核", "approval by HQ"),
    }
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// One application: levels, status, the evidence it was made with, the decisions so far.
fn line(lang: Lang, i: &Item) -> Markup {
    let r = &i.row;
    let (from, to) = match lang {
        Lang::Zh => (&i.from_zh, &i.to_zh),
        Lang::En => (&i.from_en, &i.to_en),
    };
    let evidence = reasons_text(&r.evidence, rl(lang));
    html! {
        "#" (r.id) " · " (i.applicant) " · " (from) " → " (to) " · "
        span data-status=(r.status.as_str()) { (status_text(lang, r.status)) }
        " · " (mode_text(lang, r.approval_mode)) " · " (r.applied_on)
        @if !evidence.is_empty() { br; small { (evidence) } }
        @if let Some(n) = &r.note { br; small { (tr(lang, "申请说明:", "Note: ")) (n) } }
        @if let Some(n) = &r.supplier_note { br; small { (tr(lang, "上级意见:", "Supplier: ")) (n) } }
        @if let Some(n) = &r.hq_note { br; small { (tr(lang, "总部意见:", "HQ: ")) (n) } }
        @if let Some(l) = r.lapse_reason.as_deref().and_then(Lapse::parse) {
            br; small { (l.render(rl(lang))) }
        }
    }
}

/// Approve and reject forms for one application, posting to `action`.
fn decision_forms(lang: Lang, csrf: &str, action: &str, id: i64) -> Markup {
    html! {
        form method="post" action=(action) style="display:inline" {
            (csrf_field(csrf))
            input type="hidden" name="id" value=(id);
            button type="submit" name="action" value="approve" { (tr(lang, "通过", "Approve")) }
        }
        form method="post" action=(action) style="display:inline" {
            (csrf_field(csrf))
            input type="hidden" name="id" value=(id);
            input type="text" name="note" required maxlength="500"
                placeholder=(tr(lang, "拒绝理由", "Why rejected"));
            button type="submit" name="action" value="reject" { (tr(lang, "拒绝", "Reject")) }
        }
    }
}

/// The agent's cards: what it may apply for, its applications, its downline's awaiting it.
pub fn agent_cards(lang: Lang, csrf: &str, v: &AgentView) -> Markup {
    let open = v.mine.iter().find(|i| i.row.status.is_open());
    html! {
        div.card id="level-offers" {
            h2 { (tr(lang, "申请升级", "Apply for a level")) }
            @if v.offers.is_empty() { p.muted { (tr(lang, "暂无可申请的等级", "No level to apply for")) } }
            @if let Some(o) = open {
                p { (tr(lang, "你有一份申请正在审核中:", "An application of yours is waiting: ")) "#" (o.row.id) }
            }
            @for o in &v.offers {
                div data-offer=(o.level_key) data-path=(o.path) data-met=(o.met) {
                    strong { (match lang { Lang::Zh => &o.name_zh, Lang::En => &o.name_en }) }
                    " · " (mode_text(lang, o.approval))
                    " · " (if o.met { tr(lang, "已满足", "met") } else { tr(lang, "未满足", "not met") })
                    @let conditions = o.conditions(rl(lang));
                    @if conditions.is_empty() { br; small { (tr(lang, "无门槛,审核即可", "no threshold: approval alone")) } }
                    @else { br; small { (conditions) } }
                    @if o.met && open.is_none() {
                        form method="post" action=(AGENT_PAGE) {
                            (csrf_field(csrf))
                            input type="hidden" name="level" value=(o.level_key);
                            input type="hidden" name="path" value=(o.path);
                            input type="text" name="note" maxlength="500"
                                placeholder=(tr(lang, "升级资料(选填)", "Note to the approvers (optional)"));
                            button type="submit" name="action" value="apply" { (tr(lang, "申请", "Apply")) }
                        }
                    }
                }
            }
        }
        div.card id="my-applications" {
            h2 { (tr(lang, "我的等级申请", "My level applications")) }
            @if v.mine.is_empty() { p.muted { (tr(lang, "暂无", "None yet")) } }
            ul { @for i in &v.mine {
                li data-application=(i.row.id) {
                    (line(lang, i))
                    @if i.row.status.is_open() {
                        form method="post" action=(AGENT_PAGE) style="display:inline" {
                            (csrf_field(csrf))
                            input type="hidden" name="id" value=(i.row.id);
                            button type="submit" name="action" value="withdraw" { (tr(lang, "撤回", "Withdraw")) }
                        }
                    }
                }
            } }
        }
        @if !v.awaiting_me.is_empty() {
            div.card id="downline-applications" {
                h2 { (tr(lang, "待我审核的升级申请", "Level applications awaiting my decision")) }
                ul { @for i in &v.awaiting_me {
                    li data-application=(i.row.id) { (line(lang, i)) br; (decision_forms(lang, csrf, AGENT_PAGE, i.row.id)) }
                } }
            }
        }
    }
}

/// HQ's card: the applications awaiting HQ, with forms for an admin.
pub fn hq_card(lang: Lang, csrf: &str, role: Role, rows: &[Item]) -> Markup {
    html! {
        div.card id="level-applications" {
            h2 { (tr(lang, "待总部审核的升级申请", "Level applications awaiting HQ")) }
            @if rows.is_empty() { p.muted { (tr(lang, "暂无", "None")) } }
            ul { @for i in rows {
                li data-application=(i.row.id) {
                    (line(lang, i))
                    @if role == Role::HqAdmin { br; (decision_forms(lang, csrf, "/hq/levels", i.row.id)) }
                }
            } }
        }
    }
}

fn field<'a>(form: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", String::as_str)
}

fn id_of(form: &BTreeMap<String, String>) -> Result<i64> {
    field(form, "id")
        .trim()
        .parse()
        .map_err(|_| Error::BadRequest("id: which application?".into()))
}

/// HQ's approve/reject from `/hq/levels` (the page's own `action`s).
pub async fn hq_decide(
    state: &AppState,
    lang: Lang,
    actor: Actor,
    form: BTreeMap<String, String>,
) -> Response {
    let approve = field(&form, "action") == "approve";
    let out = state
        .db
        .write(move |c| {
            let id = id_of(&form)?;
            cases::decide(c, actor, id, approve, field(&form, "note"), now())
        })
        .await;
    match out {
        Ok(row) => notice("/hq/levels", lang, &row),
        Err(e) => staff::error_page(lang, e),
    }
}

fn notice(page: &str, lang: Lang, row: &LevelApplicationRow) -> Response {
    let text = format!("#{} {}", row.id, status_text(lang, row.status));
    see_other(&format!("{page}?notice={}", urlencode(&text)))
}

/// `POST /agent/levels`: `action` = `apply` (level, path, note), `withdraw` (id), or, as a
/// supplier, `approve` / `reject` (id, note).
pub async fn agent_submit(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let caller =
        match staff::gate_for(&state, lang, caller, AGENT_PAGE, Permission::AgentPortal).await {
            Ok(c) => c,
            Err(r) => return r,
        };
    if caller.check_csrf(field(&form, "csrf")).is_err() {
        return staff::form_expired(lang);
    }
    let user = caller.user_id;
    let out = state
        .db
        .write(move |c| {
            let actor = Actor::Agent {
                user,
                agent: agent_cases::for_user(c, user)?.id,
            };
            match field(&form, "action") {
                "apply" => {
                    let path = match field(&form, "path").trim() {
                        "" => None,
                        p => Some(p.parse().map_err(|_| {
                            Error::BadRequest(format!("path {p:?}: a path number"))
                        })?),
                    };
                    let input = ApplyInput {
                        level: field(&form, "level").to_string(),
                        path,
                        note: field(&form, "note").to_string(),
                    };
                    cases::apply(c, actor, input, now())
                }
                "withdraw" => cases::withdraw(c, actor, id_of(&form)?, now()),
                a @ ("approve" | "reject") => {
                    let id = id_of(&form)?;
                    cases::decide(c, actor, id, a == "approve", field(&form, "note"), now())
                }
                other => Err(Error::BadRequest(format!(
                    "action {other:?}: use apply, withdraw, approve or reject"
                ))),
            }
        })
        .await;
    match out {
        Ok(row) => notice(AGENT_PAGE, lang, &row),
        Err(e) => staff::error_page(lang, e),
    }
}
