//! The level policy as a form on `/hq/levels` (issue 18): the ready-made presets, one card per
//! level with its ways up, downgrade rules and protection, the raw document for experts, and the
//! review (changes in words, the what-if, activate). Rendering only: reading the form, the diff
//! and the presets are `domain::levels::{form, presets}`, the review `levels::review`.

use maud::{Markup, html};

use super::hq_i18n::tr;
use super::hq_policy::{choice, err_for, text_box};
use super::i18n::Lang;
use super::level_applications::rl;
use crate::domain::levels::Metric;
use crate::domain::levels::form::{self, DOWNGRADE_KINDS, FieldError, Fields, choice_words, label};
use crate::domain::levels::presets::PRESETS;
use crate::domain::network::ApprovalMode;
use crate::levels::review::{Review, Start};

const HERE: &str = "/hq/levels";

/// The presets, each with its words and a link that fills the form with it.
pub fn presets_card(lang: Lang, current: Option<&str>) -> Markup {
    html! {
        div.card id="presets" {
            h2 { (tr(lang, "从预设开始", "Start from a preset")) }
            p.muted { (tr(lang, "按种子 000–003 的等级引擎预先写好的规则,套用在当前级别上;金额为示例,可在下方修改后预览和启用。",
                "Rules written after the level engines of seeds 000–003, on the current tiers; the amounts are examples to adjust below before the what-if and activation.")) }
            ul {
                @for p in PRESETS {
                    li data-preset=(p.key) style="margin:.3rem 0" {
                        a href=(format!("{HERE}?preset={}", p.key)) aria-current=[(current == Some(p.key)).then_some("true")] {
                            (tr(lang, "使用此预设", "Use this preset"))
                        }
                        " · " (match lang { Lang::Zh => p.zh, Lang::En => p.en })
                    }
                }
            }
        }
    }
}

fn options(start: &Start, field: &str, values: &[&str], lang: Lang) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| {
            (
                (*v).to_string(),
                choice_words(&start.tiers, field, v, rl(lang)),
            )
        })
        .collect()
}

/// The form and, collapsed, the raw document; `errors` on their fields, `fields` as typed.
pub fn form_card(
    lang: Lang,
    csrf: &str,
    start: &Start,
    fields: &Fields,
    errors: &[FieldError],
    document: &str,
    from: &str,
) -> Markup {
    let l = rl(lang);
    let tiers = &start.tiers;
    let tb = |f: &str, w: &str| text_box(lang, fields, errors, f, w);
    let approvals: Vec<&str> = ApprovalMode::ALL.iter().map(|m| m.as_str()).collect();
    let mut tos: Vec<&str> = vec!["", "below", "relevel"];
    tos.extend(tiers.tiers().iter().map(|t| t.key.as_str()));
    let mut kinds: Vec<&str> = vec![""];
    kinds.extend(DOWNGRADE_KINDS);
    html! {
        @if !errors.is_empty() {
            div.card.verdict.bad id="problems" {
                h2 { (tr(lang, "请修改以下内容", "Please correct the following")) }
                ul { @for e in errors { li { b { (label(tiers, &e.field, l)) } ": " (e.say(l)) } } }
            }
        }
        form method="post" action=(HERE) id="level-form" {
            input type="hidden" name="csrf" value=(csrf);
            div.card id="level-policy" {
                h2 { (tr(lang, "等级规则", "Level policy")) }
                p.muted {
                    @match &start.active {
                        Some(a) => { (tr(lang, "当前启用:第 ", "Active: version ")) (a.version) " · " (a.name) ". " }
                        None => { (tr(lang, "尚未启用等级规则。", "No level policy is active yet. ")) }
                    }
                    (from) " "
                    (tr(lang, "改动将保存为第 ", "Changes are saved as version ")) (start.next_version)
                    (tr(lang, " 版,预览影响后启用。", ", activated after the what-if."))
                }
                label style="margin-right:1.5rem" { (label(tiers, "name", l)) " " (tb("name", "20rem")) }
                label { (label(tiers, "on_change", l)) " "
                    (choice(lang, fields, errors, "on_change", &options(start, "on_change", &["keep", "relevel"], lang), "")) }
                h3 { (tr(lang, "等级值(可选)", "Level points (optional)")) }
                @for p in ["points.per_yuan_sold", "points.per_bound_customer", "points.per_sub_agent"] {
                    label style="margin-right:1.5rem" { (label(tiers, p, l)) " " (tb(p, "5rem")) }
                }
            }
            @for t in form::form_tiers(tiers) {
                @let key = t.key.as_str();
                @let paths = form::rows_of(fields, key, "paths") + 1;
                @let downs = form::rows_of(fields, key, "downgrade") + 1;
                @let auto_field = format!("lv.{key}.automatic");
                div.card data-level=(key) {
                    h2 {
                        (match lang { Lang::Zh => &t.name_zh, Lang::En => &t.name_en })
                        " "
                        label style="font-size:.95rem;font-weight:400" {
                            input type="checkbox" name=(auto_field) value="on" checked[fields.get(&auto_field).is_some_and(|v| v == "on")];
                            " " (tr(lang, "按规则自动升降", "changes automatically by these rules"))
                        }
                    }
                    (err_for(lang, errors, &format!("lv.{key}")))
                    (err_for(lang, errors, &auto_field))
                    (err_for(lang, errors, &format!("lv.{key}.paths")))
                    h3 { (tr(lang, "升级路径(满足任一路径即可升到此级)", "Ways up (any one reaches this level)")) }
                    // Wide: scrolls inside the card rather than squeezing its selects.
                    div style="overflow-x:auto" {
                    table style="width:auto" {
                        thead { tr {
                            th { "#" }
                            th { (tr(lang, "考核天数", "Window (days)")) }
                            th { (tr(lang, "条件关系", "Conditions")) }
                            th { (tr(lang, "审核", "Approval")) }
                            @for m in Metric::ALL { th style="white-space:normal" { (crate::domain::levels::reason::metric_name(m, l)) } }
                            th { (tr(lang, "升级商品", "Upgrade products")) }
                            th { (tr(lang, "等级价格", "Level price")) }
                        } }
                        tbody { @for j in 0..paths {
                            @let f = |n: &str| form::row(key, "paths", j, n);
                            tr data-path=(j) {
                                td { (j + 1) (err_for(lang, errors, &format!("lv.{key}.paths[{j}]"))) }
                                td { (tb(&f("window_days"), "3rem")) }
                                td { (choice(lang, fields, errors, &f("match"), &options(start, &f("match"), &["all", "any"], lang), "6.5rem")) }
                                td { (choice(lang, fields, errors, &f("approval"), &options(start, &f("approval"), &approvals, lang), "")) }
                                @for m in Metric::ALL {
                                    td { (tb(&format!("lv.{key}.paths[{j}].thresholds.{}", m.key()), "4.75rem")) }
                                }
                                td { (tb(&f("upgrade_products"), "4.5rem")) }
                                td { (tb(&f("level_price"), "4.5rem")) }
                            }
                        } }
                    }
                    }
                    p.muted style="white-space:normal" { (tr(lang,
                        "考核天数留空表示不限期;门槛留空表示不考核该项;最后一行留空即可新增一条路径。需要审核的路径由代理申请,其余由每日考核自动升级。",
                        "An empty window is unbounded; an empty target is not checked; fill the last, empty row to add a way up. Ways needing approval are applied for by the agent; the others are taken by the daily assessment.")) }
                    h3 { (tr(lang, "降级规则(按顺序,第一条到期且不达标的生效)", "Downgrade rules (in order; the first one due and failing applies)")) }
                    (err_for(lang, errors, &format!("lv.{key}.downgrade")))
                    table style="width:auto" {
                        thead { tr { th { "#" } th { (tr(lang, "方式", "Kind")) } th { (tr(lang, "天数", "Days")) } th { (tr(lang, "降至", "Down to")) } } }
                        tbody { @for j in 0..downs {
                            @let f = |n: &str| form::row(key, "downgrade", j, n);
                            tr data-downgrade=(j) {
                                td { (j + 1) (err_for(lang, errors, &format!("lv.{key}.downgrade[{j}]"))) }
                                td { (choice(lang, fields, errors, &f("kind"), &options(start, &f("kind"), &kinds, lang), "")) }
                                td { (tb(&f("days"), "4rem")) }
                                td { (choice(lang, fields, errors, &f("to"), &options(start, &f("to"), &tos, lang), "")) }
                            }
                        } }
                    }
                    h3 { (tr(lang, "保级(降级到期时,最近几天满足即保留等级)", "Protection (a due downgrade is skipped when met over the last days)")) }
                    @let p = format!("lv.{key}.protection");
                    (err_for(lang, errors, &p))
                    div style="overflow-x:auto" {
                    table style="width:auto" {
                        thead { tr {
                            th { (tr(lang, "天数", "Days")) }
                            th { (tr(lang, "条件关系", "Conditions")) }
                            @for m in Metric::ALL { th style="white-space:normal" { (crate::domain::levels::reason::metric_name(m, l)) } }
                        } }
                        tbody { tr {
                            td { (tb(&format!("{p}.days"), "3.5rem")) }
                            td { (choice(lang, fields, errors, &format!("{p}.match"), &options(start, &format!("{p}.match"), &["all", "any"], lang), "6.5rem")) }
                            @for m in Metric::ALL { td { (tb(&format!("{p}.thresholds.{}", m.key()), "5rem")) } }
                        } }
                    }
                    }
                }
            }
            button type="submit" name="action" value="review" { (tr(lang, "检查并预览影响", "Check and see the what-if")) }
        }
        details.card id="raw" open[errors.iter().any(|e| e.field.starts_with("levels") || e.field == "version" || e.field.starts_with("line"))] {
            summary { (tr(lang, "直接编辑规则文档(熟悉格式的人员使用)", "Edit the level policy document itself (for experts)")) }
            p.muted { (tr(lang, "TOML 格式,见 docs/levels.md;同样经过检查、预览影响后启用。",
                "TOML, see docs/levels.md; checked, previewed and activated the same way.")) }
            form method="post" action=(HERE) {
                input type="hidden" name="csrf" value=(csrf);
                textarea name="document" rows="16" style="width:100%;font-family:monospace" { (document) }
                button type="submit" name="action" value="what-if" { (tr(lang, "检查并预览影响", "Check and see the what-if")) }
            }
        }
    }
}

/// The review: the changes in words, the what-if (`what_if` rendered by the page), activate or
/// go back to editing.
pub fn review_cards(lang: Lang, csrf: &str, r: &Review, what_if: Markup) -> Markup {
    let l = rl(lang);
    html! {
        div.card id="policy-changes" {
            h2 {
                @match &r.start.active {
                    Some(a) => { (tr(lang, "改动(与当前第 ", "Changes (against active version ")) (a.version) (tr(lang, " 版相比)", ")")) }
                    None => { (tr(lang, "改动(当前未启用等级规则)", "Changes (no level policy active)")) }
                }
            }
            @if r.changes.is_empty() { p.muted { (tr(lang, "与当前版本相同。", "Same as the active version.")) } }
            ul { @for c in &r.changes { li data-change=(c.field) { (c.say(l)) } } }
        }
        (what_if)
        div.card id="activate" {
            form method="post" action=(HERE) class="inline" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="document" value=(r.document);
                @if !r.changes.is_empty() {
                    button type="submit" name="action" value="activate" { (tr(lang, "保存为第 ", "Save as version ")) (r.what_if.level_policy_version) (tr(lang, " 版并启用", " and activate")) }
                }
                button type="submit" name="action" value="edit" style="background:#57534e" { (tr(lang, "返回修改", "Back to editing")) }
            }
            details {
                summary { (tr(lang, "将保存的文档", "The document to be saved")) }
                pre style="white-space:pre-wrap;font-size:.8rem" { (r.document) }
            }
        }
    }
}
