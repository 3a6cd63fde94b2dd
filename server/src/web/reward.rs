//! A scan-marketing reward on the consumer's verdict (扫码营销, issue 21): what the first
//! verification won, and the way to claim it with a phone.

use maud::{Markup, html};

use super::agent_i18n::tr;
use super::i18n::Lang;
use crate::domain::marketing::PrizeKind;
use crate::store::marketing::Won;
use crate::verify::Reward;

/// A prize in words: "积分 50", "优惠券 ¥10.00 · 券码 CP…", "红包 ¥1.88".
pub fn prize_words(lang: Lang, won: &Won) -> String {
    let yuan = rust_decimal::Decimal::new(won.amount_cents, 2);
    match (won.kind, lang) {
        (PrizeKind::Points, Lang::Zh) => format!("积分 {}", won.points),
        (PrizeKind::Points, Lang::En) => format!("{} points", won.points),
        (PrizeKind::Coupon, Lang::Zh) => format!("优惠券 ¥{yuan}"),
        (PrizeKind::Coupon, Lang::En) => format!("a ¥{yuan} coupon"),
        (PrizeKind::Cash, Lang::Zh) => format!("红包 ¥{yuan}"),
        (PrizeKind::Cash, Lang::En) => format!("a ¥{yuan} red packet"),
    }
}

/// The card under a genuine first verdict.
pub fn card(lang: Lang, reward: &Reward) -> Markup {
    let d = &reward.drawn;
    html! {
        div.card.verdict.(if d.prize.is_some() { "ok" } else { "warn" }) id="reward" data-won=(d.prize.is_some()) {
            p.muted { (d.campaign) }
            @match &d.prize {
                Some(won) => {
                    h2 { "🎁 " (tr(lang, "恭喜您获得 ", "You won ")) span id="prize" { (prize_words(lang, won)) } }
                    p { (won.name) }
                    @if let Some(code) = &won.coupon_code {
                        p { (tr(lang, "券码：", "Coupon code: ")) code id="coupon-code" { (code) } }
                    }
                    @if d.claimed {
                        p id="claimed" { (tr(lang, "已存入您的账户。", "It is in your account.")) " "
                            a href="/me" { (tr(lang, "查看我的奖励 →", "See my rewards →")) } }
                    } @else {
                        p.muted { (tr(lang, "用手机号登录即可领取，奖励只能领取一次。", "Sign in with your phone to claim it; it can be claimed once.")) }
                        a.button id="claim" href=(format!("/me/claim/{}", reward.claim_token)) {
                            (tr(lang, "用手机号领取", "Claim with my phone"))
                        }
                    }
                }
                None => {
                    h2 { (tr(lang, "谢谢参与", "Thanks for taking part")) }
                    p { (tr(lang, "这次没有中奖，每个防伪码只能参与一次。", "No prize this time; each code takes part once.")) }
                }
            }
        }
    }
}
