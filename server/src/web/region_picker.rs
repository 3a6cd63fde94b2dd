//! The verification page's region picker (where the consumer is, when they do not share their
//! location) and the notice for a frozen code.

use maud::{Markup, html};

use super::i18n::Lang;
use crate::diversion::regions;
use crate::domain::diversion::Level;

/// A `<select name="region">` of provinces and their cities; empty means "not said".
pub fn picker(lang: Lang) -> Markup {
    let (label, none) = match lang {
        Lang::Zh => ("所在地区（可选）", "不选择"),
        Lang::En => ("Where are you? (optional)", "Not saying"),
    };
    html! {
        label for="region" style="display:block;margin-top:.75rem" { (label) }
        select id="region" name="region" style="width:100%;font-size:1rem;padding:.5rem" {
            option value="" { (none) }
            @for r in regions().provinces_and_cities() {
                @if r.code.level() == Level::Province {
                    option value=(r.code) { (r.name) }
                } @else {
                    option value=(r.code) { "　" (r.name) }
                }
            }
        }
    }
}

/// Told to consumers when a code was verified more often than the brand allows.
pub fn frozen_notice(lang: Lang) -> Markup {
    let (heading, detail) = match lang {
        Lang::Zh => (
            "此防伪码已被冻结",
            "该码的查询次数超过品牌规定，可能已被复制。请勿购买，并联系品牌方核实。",
        ),
        Lang::En => (
            "This code is frozen",
            "It has been verified more often than the brand allows and may have been copied. Do not buy; contact the brand.",
        ),
    };
    html! {
        div.card.verdict.bad id="frozen" data-frozen="true" {
            h2 { "⛔ " (heading) }
            p { (detail) }
        }
    }
}
