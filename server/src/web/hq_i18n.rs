//! Words of HQ's desk pages (issue 18), in both languages: the states, statuses, accounts and
//! roles the store keeps as keys, put into words so that no key ever reaches a person. A value
//! without words here is shown as "other", never as itself.

use super::i18n::Lang;
use crate::domain::custody::ItemStatus;
use crate::domain::joining::Status as ApplicationStatus;
use crate::domain::network::{AgentStatus, OrderState, Policy, Tier, TierRank, WithdrawalStatus};

/// A text of this page in the caller's language.
pub fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

fn other(lang: Lang) -> &'static str {
    tr(lang, "其他", "other")
}

/// HQ's ledger accounts (`hq:cash`, …): a name and what the balance means.
pub fn account(lang: Lang, code: &str) -> (&'static str, &'static str) {
    match code {
        "hq:cash" => (
            tr(lang, "总部银行账户", "HQ bank account"),
            tr(
                lang,
                "代理线下转账进账、已付提现出账。负数表示付出多于收到。",
                "Offline transfers from agents come in, paid withdrawals go out. Negative: more paid out than received.",
            ),
        ),
        "hq:sales" => (
            tr(lang, "总部销售收入", "HQ sales"),
            tr(
                lang,
                "总部自己卖出的货款累计。",
                "Goods sold by HQ itself, in total.",
            ),
        ),
        "hq:rebate_expense" => (
            tr(lang, "返利与奖励支出", "Rebates and awards paid"),
            tr(
                lang,
                "总部承担的同级推荐奖、跨级推荐奖及升级补贴。",
                "Same-tier rebates, cross-tier awards and upgrade allowances HQ bears.",
            ),
        ),
        "hq:payables" => (
            tr(lang, "应付款", "Payables"),
            tr(
                lang,
                "总部代管的钱：售后期内应付代理的货款，以及已申请未付的提现。",
                "Money HQ holds for others: goods money owed to agent sellers until orders complete, and withdrawals requested but not paid.",
            ),
        ),
        "hq:migration" => (
            tr(lang, "原系统承接款", "Taken over from the previous system"),
            tr(
                lang,
                "导入网络时从原系统接过来的代理余额，总部欠代理的钱。",
                "Agents' balances taken over when the network was imported: money HQ owes them.",
            ),
        ),
        _ => (other(lang), ""),
    }
}

/// A withdrawal's status.
pub fn withdrawal_status(lang: Lang, status: WithdrawalStatus) -> &'static str {
    match status {
        WithdrawalStatus::Requested => tr(lang, "待审批", "Awaiting approval"),
        WithdrawalStatus::Approved => tr(lang, "已批准，待付款", "Approved, to pay"),
        WithdrawalStatus::Rejected => tr(lang, "已拒绝", "Rejected"),
        WithdrawalStatus::Paid => tr(lang, "已付款", "Paid"),
    }
}

/// An application's status.
pub fn application_status(lang: Lang, status: ApplicationStatus) -> &'static str {
    match status {
        ApplicationStatus::AwaitingSupplier => tr(lang, "待上级审核", "Awaiting the supplier"),
        ApplicationStatus::AwaitingHq => tr(lang, "待总部审核", "Awaiting HQ"),
        ApplicationStatus::Approved => tr(lang, "已通过", "Approved"),
        ApplicationStatus::Rejected => tr(lang, "已拒绝", "Rejected"),
    }
}

/// A restock order's state.
pub fn order_state(lang: Lang, state: OrderState) -> &'static str {
    use OrderState as S;
    match state {
        S::Submitted => tr(lang, "待接单", "Submitted"),
        S::Accepted => tr(lang, "已接单", "Accepted"),
        S::Forwarded => tr(lang, "已转上级", "Forwarded"),
        S::Rejected => tr(lang, "已拒绝", "Rejected"),
        S::Paid => tr(lang, "已付款", "Paid"),
        S::Shipping => tr(lang, "发货中", "Shipping"),
        S::Shipped => tr(lang, "已发货", "Shipped"),
        S::Received => tr(lang, "已收货", "Received"),
        S::Completed => tr(lang, "已完成", "Completed"),
        S::Cancelled => tr(lang, "已取消", "Cancelled"),
        S::Refunded => tr(lang, "已退款", "Refunded"),
        S::PartiallyRefunded => tr(lang, "部分退款", "Partially refunded"),
    }
}

/// A batch's status.
pub fn batch_status(lang: Lang, status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::Active => tr(lang, "正常", "Active"),
        ItemStatus::Voided => tr(lang, "已作废", "Void"),
        ItemStatus::Recalled => tr(lang, "已召回", "Recalled"),
    }
}

/// An agent's status.
pub fn agent_status(lang: Lang, status: AgentStatus) -> &'static str {
    match status {
        AgentStatus::Pending => tr(lang, "待激活", "Pending"),
        AgentStatus::Active => tr(lang, "正常", "Active"),
        AgentStatus::Suspended => tr(lang, "已暂停", "Suspended"),
    }
}

/// A tier's name from the policy, by key; "other" for a key the policy does not name.
pub fn tier_by_key(lang: Lang, policy: &Policy, key: &str) -> String {
    match policy.tier_by_key(key) {
        Some(t) => tier_words(lang, t),
        None => other(lang).to_string(),
    }
}

/// A tier's name from the policy, by rank.
pub fn tier_by_rank(lang: Lang, policy: &Policy, rank: i32) -> String {
    match u8::try_from(rank)
        .ok()
        .and_then(|r| policy.tier(TierRank(r)))
    {
        Some(t) => tier_words(lang, t),
        None => other(lang).to_string(),
    }
}

fn tier_words(lang: Lang, t: &Tier) -> String {
    match lang {
        Lang::Zh => t.name_zh.clone(),
        Lang::En => t.name_en.clone(),
    }
}

/// Money in yuan with two decimals and the sign, from cents.
pub fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}¥{}", crate::store::network::money(cents.abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_key_has_words_in_both_languages_and_none_is_shown_as_itself() {
        for lang in [Lang::Zh, Lang::En] {
            for code in ["hq:cash", "hq:sales", "hq:rebate_expense", "hq:payables"] {
                let (name, why) = account(lang, code);
                assert!(!name.contains(':') && !why.is_empty(), "{code}");
            }
            for s in WithdrawalStatus::ALL {
                assert_ne!(withdrawal_status(lang, s), s.as_str(), "{s}");
            }
            // Typed: every state has words by the match being exhaustive; none shows as its key.
            for s in OrderState::ALL {
                assert_ne!(order_state(lang, s), s.as_str(), "{s}");
            }
        }
    }
}
