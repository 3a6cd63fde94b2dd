//! Words for the agent's, applicant's and consumer's pages (issue 17): every internal value a
//! page could show — an order's state or kind, an agent's status, a tier, a scan's reason, an
//! error — in zh-CN and English, and times in China time on Chinese pages. Kept apart from the
//! shared tables so these pages grow without touching them.

use axum::response::{IntoResponse, Response};
use chainmark_wire::RejectReason;
use chrono::NaiveDateTime;
use maud::html;

use super::i18n::Lang;
use crate::domain::joining::Status as ApplicationStatus;
use crate::domain::network::policy::Policy;
use crate::domain::network::{AgentStatus, OrderKind, OrderState, PostingKind, WithdrawalStatus};
use crate::error::Error;

/// The text for `lang`.
pub fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// An order's state, as the people of the order say it.
pub fn order_state(lang: Lang, state: OrderState) -> &'static str {
    use OrderState as S;
    let (zh, en) = match state {
        S::Submitted => ("待上级接单", "Waiting for the supplier"),
        S::Accepted => ("待付款", "To be paid"),
        S::Forwarded => (
            "已提交上级代发，待付款",
            "Forwarded up the chain, to be paid",
        ),
        S::Rejected => ("已拒绝", "Rejected"),
        S::Paid => ("已付款，待发货", "Paid, to be shipped"),
        S::Shipping => ("发货中", "Being shipped"),
        S::Shipped => ("已发货，待收货", "Shipped, to be received"),
        S::Received => ("已收货（维权期内）", "Received (return window open)"),
        S::Completed => ("已完成", "Completed"),
        S::Cancelled => ("已取消", "Cancelled"),
        S::PartiallyRefunded => ("部分退款", "Partly refunded"),
        S::Refunded => ("已退款", "Refunded"),
    };
    tr(lang, zh, en)
}

/// An order's kind.
pub fn order_kind(lang: Lang, kind: OrderKind) -> &'static str {
    let (zh, en) = match kind {
        OrderKind::Entry => ("首批进货", "Entry order"),
        OrderKind::Restock => ("补货", "Restock"),
        OrderKind::Upgrade => ("升级补差", "Upgrade top-up"),
    };
    tr(lang, zh, en)
}

/// An agent's status.
pub fn agent_status(lang: Lang, status: AgentStatus) -> &'static str {
    let (zh, en) = match status {
        AgentStatus::Pending => (
            "待激活（首批进货付款后生效）",
            "Not yet active (until the entry order is paid)",
        ),
        AgentStatus::Active => ("已授权", "Authorised"),
        AgentStatus::Suspended => ("已暂停", "Suspended"),
    };
    tr(lang, zh, en)
}

/// An application's status.
pub fn application_status(lang: Lang, status: ApplicationStatus) -> &'static str {
    let (zh, en) = match status {
        ApplicationStatus::AwaitingSupplier => {
            ("等待上级审核", "Waiting for the supplier's review")
        }
        ApplicationStatus::AwaitingHq => ("等待总部审核", "Waiting for HQ's review"),
        ApplicationStatus::Approved => ("已通过", "Approved"),
        ApplicationStatus::Rejected => ("未通过", "Not approved"),
    };
    tr(lang, zh, en)
}

/// A withdrawal's status.
pub fn withdrawal_status(lang: Lang, status: WithdrawalStatus) -> &'static str {
    let (zh, en) = match status {
        WithdrawalStatus::Requested => ("审核中", "Being reviewed"),
        WithdrawalStatus::Approved => ("已批准，待打款", "Approved, to be paid out"),
        WithdrawalStatus::Rejected => ("已驳回", "Rejected"),
        WithdrawalStatus::Paid => ("已打款", "Paid out"),
    };
    tr(lang, zh, en)
}

/// A ledger posting's kind, as a line of my money.
pub fn posting_kind(lang: Lang, kind: PostingKind) -> &'static str {
    use PostingKind as K;
    let (zh, en) = match kind {
        K::Paid => ("货款", "Order payment"),
        K::Margin => ("差价收益", "Margin"),
        K::Rebate => ("同级推荐奖", "Same-tier referral rebate"),
        K::Award => ("跨级推荐奖", "Cross-tier referral award"),
        K::Complete => ("解冻", "Unfrozen"),
        K::Refund => ("退款", "Refund"),
        K::WithdrawalRequested => ("申请提现", "Withdrawal requested"),
        K::WithdrawalRejected => ("提现驳回退回", "Withdrawal returned"),
        K::WithdrawalApproved => ("提现已批准", "Withdrawal approved"),
        K::Allowance => ("升级补贴", "Upgrade allowance"),
        K::Opening => ("导入的期初余额", "Opening balance (imported)"),
        K::Release => ("导入时放行", "Released at import"),
        K::Deposit => ("充值", "Deposit"),
        K::DiversionPenalty => ("串货罚款", "Diversion penalty"),
        K::Payout => ("红包发放", "Cash rewards paid out"),
        K::Reward => ("扫码奖励", "Scan rewards drawn"),
        K::RewardClaim => ("奖励领取", "Reward claimed"),
        K::Other => ("其他", "Other"),
    };
    tr(lang, zh, en)
}

/// A wallet.
pub fn wallet(lang: Lang, wallet: &str) -> &'static str {
    match wallet {
        "available" => tr(lang, "可提现", "Available"),
        "frozen" => tr(lang, "冻结中", "Frozen"),
        _ => tr(lang, "其他", "Other"),
    }
}

/// A tier by its rank, in the policy's words.
pub fn tier_by_rank(lang: Lang, policy: &Policy, rank: i32) -> String {
    let tier = u8::try_from(rank)
        .ok()
        .and_then(|r| policy.tier(crate::domain::network::TierRank(r)));
    match tier {
        Some(t) => tier_words(lang, &t.name_zh, &t.name_en),
        None => tr(lang, "未知级别", "Unknown tier").to_string(),
    }
}

/// A tier by its key, in the policy's words.
pub fn tier_by_key(lang: Lang, policy: &Policy, key: &str) -> String {
    match policy.tier_by_key(key) {
        Some(t) => tier_words(lang, &t.name_zh, &t.name_en),
        None => tr(lang, "未知级别", "Unknown tier").to_string(),
    }
}

pub fn tier_words(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// Why a scan shipped nothing.
pub fn scan_reason(lang: Lang, reason: RejectReason) -> &'static str {
    let (zh, en) = match reason {
        RejectReason::UnknownCode => ("无此码：请检查扫描的标签", "Unknown code: check the label"),
        RejectReason::ForgedTag => ("防伪标签无效", "The label's tag is not genuine"),
        RejectReason::NotInCustody => ("此码不在您的库存中", "This code is not in your stock"),
        RejectReason::NotOnOrder => ("此码的产品不在本订单上", "This product is not on the order"),
        RejectReason::QuantityExceeded => ("本订单已扫够数量", "The order has all its items"),
        RejectReason::AlreadyShipped => ("此码已在本订单发出", "Already shipped on this order"),
        RejectReason::CaseOpened => (
            "此箱已拆开：请逐件扫描",
            "This case was opened: scan its items",
        ),
        _ => ("此码无法发货", "This code cannot be shipped"),
    };
    tr(lang, zh, en)
}

/// What a tier's entry order (首批) must reach, in words: so many items of any products, or
/// goods worth so much at the tier's prices.
pub fn entry_words(lang: Lang, entry: crate::domain::network::policy::Entry) -> String {
    use crate::domain::network::policy::Entry;
    match (entry, lang) {
        (Entry::Quantity(q), Lang::Zh) => format!("首批 {q} 盒"),
        (Entry::Quantity(q), Lang::En) => format!("an entry order of {q} items"),
        (Entry::Amount(a), Lang::Zh) => format!("首批货值 ¥{a}"),
        (Entry::Amount(a), Lang::En) => format!("an entry order worth ¥{a}"),
    }
}

/// Money in yuan with two decimals.
pub fn yuan(cents: i64) -> String {
    format!("¥{}", crate::store::network::money(cents))
}

/// A time for people: China time (UTC+8) on Chinese pages, UTC on English ones.
pub fn when(lang: Lang, utc: NaiveDateTime) -> String {
    match lang {
        Lang::Zh => (utc + chrono::Duration::hours(8))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Lang::En => format!("{} UTC", utc.format("%Y-%m-%d %H:%M")),
    }
}

/// A date for people (China's calendar day on Chinese pages).
pub fn day(lang: Lang, utc: NaiveDateTime) -> String {
    match lang {
        Lang::Zh => (utc + chrono::Duration::hours(8))
            .format("%Y-%m-%d")
            .to_string(),
        Lang::En => utc.format("%Y-%m-%d").to_string(),
    }
}

/// What went wrong, in words for the person: never an error code or the engine's English on a
/// Chinese page.
pub fn error_words(lang: Lang, e: &Error) -> String {
    let detail = e.to_string();
    let has = |s: &str| detail.contains(s);
    let (zh, en): (&str, String) = match e {
        Error::Forbidden(_) => ("您无权进行此操作。", "You may not do this.".into()),
        Error::NotFound { .. } => ("找不到您要的内容。", "Not found.".into()),
        Error::WeakPassword(p) => (
            match p {
                crate::auth::password::PasswordProblem::TooShort => {
                    "密码太短：请至少使用 12 个字符。"
                }
                crate::auth::password::PasswordProblem::ContainsUsername => {
                    "密码不能包含用户名或姓名。"
                }
                _ => "密码太容易被猜到：请用几个不常见的词组合。",
            },
            p.message(),
        ),
        Error::RateLimited { .. } => (
            "操作太频繁，请稍后再试。",
            "Too many tries: wait a moment.".into(),
        ),
        Error::Refused { code, .. } => {
            let (zh, en) = refusal_words(code);
            (zh, en.to_string())
        }
        Error::BadRequest(_) | Error::NotEligible(_) => {
            let zh = if has("entry order (首批)") {
                "首批进货数量不足：请按级别要求的首批数量下单。"
            } else if has("quantity") {
                "数量有误：请填写整数件数。"
            } else if has("amount") || has("cover") || has("balance") {
                "金额有误或可提现余额不足。"
            } else if has("reason") {
                "请填写原因。"
            } else if has("phone") && has("already") {
                "此手机号已注册或已有待审核的申请。"
            } else if has("phone") {
                "手机号有误：请填写 11 位手机号。"
            } else if has("region") {
                "请选择所在地区（省、市、区县）。"
            } else if has("id_number") || has("ID number") {
                "身份证号有误。"
            } else if has("name") {
                "请填写姓名。"
            } else if has("tier") {
                "此邀请不能申请该级别。"
            } else if has("status: pick") {
                "请选择物流状态。"
            } else if has("event's date") {
                "请填写时间。"
            } else if has("carrier") {
                "请填写快递公司名称。"
            } else if has("waybill") {
                "快递单号有误：只能包含字母、数字和横线。"
            } else if has("invitation") {
                "此邀请链接已失效。"
            } else {
                "此操作现在不能进行：请刷新页面后重试。"
            };
            (zh, detail.clone())
        }
        _ => (
            "系统繁忙，请稍后再试。",
            "Something went wrong on our side: try again later.".into(),
        ),
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en,
    }
}

/// A domain rule's refusal in words, by its stable code (`chainmark_domain::Refusal`): the code
/// itself never reaches a person.
pub fn refusal_words(code: &str) -> (&'static str, &'static str) {
    match code {
        "insufficient_balance" => (
            "可提现余额不足：请减少金额。",
            "Your available balance is not enough: ask for less.",
        ),
        "withdrawal_bad_amount" => (
            "金额有误：请填写大于 0、最多两位小数的金额。",
            "The amount must be above zero with at most two decimals.",
        ),
        "order_closed" => ("此订单已关闭。", "This order is closed."),
        "order_already_answered" => (
            "此订单已被处理过：请刷新后再看。",
            "This order was already answered: reload the page.",
        ),
        "order_not_answered" => (
            "上级尚未接单：请等待接单后再付款。",
            "The supplier has not accepted the order yet.",
        ),
        "order_already_paid" => ("此订单已付款。", "This order is already paid."),
        "order_not_paid" => ("此订单尚未付款。", "This order is not paid yet."),
        "leg_not_due" => (
            "买家付款给卖家之后，代发各级再逐级付款。",
            "The buyer pays its seller first; the forwarding agents pay up the chain after that.",
        ),
        "leg_settled_in_books" => (
            "此单经平台付款，代发各级的货款已由平台结算。",
            "This order was paid through the platform: the forwarding agents were settled in the books.",
        ),
        "bad_tracking_event" => (
            "请写明发生了什么（最多 200 字），地点最多 60 字。",
            "Say what happened (up to 200 characters); the place takes up to 60.",
        ),
        "tracking_event_time" => (
            "时间有误：不能早于下单时间，也不能晚于现在。",
            "The time cannot be before the order was placed or later than now.",
        ),
        "printer_name_bad" => (
            "请填写打印机名称（1 至 40 个字）。",
            "Name the printer, in 1 to 40 characters.",
        ),
        "printer_address_bad" => (
            "打印机地址有误：请填写其网络地址，例如 192.168.1.50 或 192.168.1.50:9100。",
            "The printer's address is wrong: give its network address, such as 192.168.1.50 or 192.168.1.50:9100.",
        ),
        "printer_warehouse_bad" => (
            "请填写打印机所在的仓库（1 至 40 个字）。",
            "Name the warehouse the printer stands in, in 1 to 40 characters.",
        ),
        "printer_name_taken" => (
            "已有同名的打印机：请换一个名称。",
            "A printer already has this name: choose another.",
        ),
        "printer_disabled" => (
            "此打印机已停用：请先启用。",
            "This printer is switched off: switch it on first.",
        ),
        "print_job_not_queued" => (
            "只有仍在排队的打印任务可以取消。",
            "Only a job still waiting in the queue can be cancelled.",
        ),
        "no_waybill" => (
            "请先保存快递单号，再打印面单。",
            "Save the waybill number first, then print the label.",
        ),
        "no_label_font" => (
            "服务器缺少中文字体，无法生成面单：请安装 fonts-wqy-microhei。",
            "The server has no Chinese font to draw labels with: install fonts-wqy-microhei.",
        ),
        "customer_name" => (
            "请填写姓名（最多 40 个字）。",
            "Give the name, up to 40 characters.",
        ),
        "customer_phone" => (
            "手机号有误：请填写 11 位手机号。",
            "The phone number is wrong: give a mobile number.",
        ),
        "retail_quantity" => (
            "数量有误：请填写 1 至 500 之间的整数。",
            "The quantity must be a whole number from 1 to 500.",
        ),
        "retail_note" => (
            "备注最多 200 个字。",
            "The note takes up to 200 characters.",
        ),
        "nothing_to_sell" => (
            "请扫描或输入要售出的商品码（最多 500 个）。",
            "Scan or type the codes of the items sold (up to 500).",
        ),
        "retail_order_not_open" => (
            "此扫码订单已处理过。",
            "This scan order was already handled.",
        ),
        "reward_claimed" => (
            "此奖励已被领取，每个奖励只能领取一次。",
            "This reward was claimed already; a reward is claimed once.",
        ),
        "reward_daily_limit" => (
            "今天从此活动领取的奖励已达上限，请明天再来领取。",
            "You have claimed as many rewards from this campaign as a day allows: claim it tomorrow.",
        ),
        "reward_nothing" => (
            "这次抽奖没有中奖，没有可领取的奖励。",
            "This draw won nothing, so there is nothing to claim.",
        ),
        "no_agent_for_region" => (
            "该地区暂无授权代理：请选择附近的其他地区，或联系品牌客服。",
            "No agent sells in that region yet: pick a region nearby, or ask the brand.",
        ),
        "leg_already_paid" => (
            "这一级的货款已确认收到。",
            "This payment is already confirmed.",
        ),
        "order_shipping_started" => (
            "此订单已开始发货，不能再取消。",
            "Shipping has started: the order can no longer be cancelled.",
        ),
        "order_already_shipped" => ("此订单已发货。", "This order is already shipped."),
        "order_not_shipped" => ("此订单尚未发货。", "This order is not shipped yet."),
        "order_already_received" => ("此订单已确认收货。", "This order is already received."),
        "order_not_received" => ("此订单尚未收货。", "This order is not received yet."),
        "order_already_completed" => ("此订单已完成。", "This order is already completed."),
        "order_no_quantity" => (
            "订单数量必须大于 0。",
            "The order needs a quantity above zero.",
        ),
        "order_price_not_below" => (
            "上级价格不低于您的价格，无法提交上级代发。",
            "Your supplier's price is not below yours: the order cannot be forwarded.",
        ),
        "out_of_stock" => (
            "库存不足：请改为「提交上级代发」。",
            "Not enough stock: forward the order to your supplier instead.",
        ),
        "refund_quantity_exceeds_order" => (
            "退货数量超过了订单中可退的数量。",
            "More returned than the order has left to return.",
        ),
        "referral_to_self" => ("不能推荐自己。", "An agent cannot refer itself."),
        "referral_cycle" => (
            "推荐关系会形成循环：请选择其他推荐人。",
            "That referrer would make a loop: choose another.",
        ),
        "referral_chain_corrupt" => (
            "推荐关系数据有误：请联系总部。",
            "The referral records are inconsistent: contact HQ.",
        ),
        "changed_meanwhile" | "custody_changed_meanwhile" => (
            "此单刚被他人处理过：请刷新后再看。",
            "Someone else changed this meanwhile: reload the page and look again.",
        ),
        "seller_holds_stock" => (
            "您有足够库存：请直接接单发货。",
            "You hold the stock: accept the order and ship it yourself.",
        ),
        "hq_cannot_forward" => (
            "总部是最上级：向总部下的订单不能再代发。",
            "HQ is the top of the chain: its orders cannot be forwarded.",
        ),
        "entry_order_open" => (
            "已有未完成的首批订单：请先付款或取消它。",
            "An entry order is already open: pay or cancel it first.",
        ),
        "upgrade_order_open" => (
            "已有未完成的升级订单：请先付款或取消它。",
            "An upgrade order is already open: pay or cancel it first.",
        ),
        "no_upgrade_yet" => (
            "暂不满足升级条件。",
            "The conditions for an upgrade are not met yet.",
        ),
        "already_at_tier" => (
            "您已是该级别或更高级别。",
            "You are already at that tier or above.",
        ),
        "paid_order_changed_agent" => (
            "此订单已付款并已改变代理级别：请先发货，收货后再办理退货。",
            "This order is paid and has changed the agent: ship it, and refund after receipt.",
        ),
        "cannot_ship" | "no_shipper_yet" => {
            ("此订单现在不能发货。", "This order cannot be shipped now.")
        }
        "item_not_with_buyer" => (
            "此商品不在买方手中，不能从那里退回。",
            "This item is not in the buyer's custody: it cannot be returned from there.",
        ),
        "order_imported" => (
            "此订单从旧系统导入：请在旧系统中办理退款。",
            "This order was imported from the previous system: refund it there.",
        ),
        "agent_not_active" => (
            "该代理当前不是正常状态，不能进行此操作。",
            "This agent is not active: this cannot be done now.",
        ),
        "agent_not_suspended" => ("该代理未被暂停。", "This agent is not suspended."),
        "agent_not_pending" => (
            "该代理已激活，首批订单不能再次激活。",
            "This agent is already active: the entry order cannot activate it again.",
        ),
        "referrer_not_active" => (
            "推荐人当前不是正常状态，不能推荐。",
            "The referrer is not active and cannot refer now.",
        ),
        "inviter_not_active" => (
            "此邀请链接已失效：邀请人当前不能邀请。",
            "This invitation no longer works: the agent who sent it cannot invite now.",
        ),
        "user_already_agent" => (
            "此账号已关联一个代理。",
            "This account is already linked to an agent.",
        ),
        "phone_is_agent" | "phone_has_account" => (
            "此手机号已注册。",
            "This phone number is registered already.",
        ),
        "phone_application_pending" => (
            "此手机号已有待审核的申请。",
            "An application with this phone number is awaiting a decision.",
        ),
        "application_already_decided" | "level_application_closed" => (
            "此申请已处理：请刷新后再看。",
            "This application has been decided already: reload the page.",
        ),
        "level_application_open" => (
            "您已有一份未决的申请：请撤回它或等待审核结果。",
            "You have an application awaiting a decision: withdraw it or wait.",
        ),
        "application_lapsed" => (
            "此申请已失效（条件或政策已变化），未作决定。",
            "This application has lapsed (its conditions or the policy changed); nothing was decided.",
        ),
        "no_level_policy" => ("尚未启用等级政策。", "No level policy is active yet."),
        "level_policy_misfit" => (
            "该等级政策与当前级别政策不再匹配：请修改后再启用。",
            "This level policy no longer fits the active tier policy: edit it first.",
        ),
        "policy_version_exists" => (
            "该版本号已存在：请使用更高的版本号。",
            "That version exists already: give the new document a higher version.",
        ),
        "policy_version_not_draft" => ("只有草稿版本可以启用。", "Only a draft can be activated."),
        "tier_in_use" => (
            "仍有代理处于要删除的级别：请保留所有在用的级别。",
            "Agents still hold a tier this version removes: keep every tier in use.",
        ),
        "withdrawal_not_requested" => (
            "此提现申请已处理过。",
            "This withdrawal has been decided already.",
        ),
        "withdrawal_not_approved" => (
            "只有已批准的提现可以标记为已打款。",
            "Only an approved withdrawal can be marked paid.",
        ),
        "alert_already_decided" => ("此预警已处理过。", "This alert has been decided already."),
        "posting_differs" => (
            "此记账已按不同金额记过：未重复记账。",
            "This posting was booked before with other amounts; nothing was booked.",
        ),
        "batch_already_ended" | "range_already_ended" => (
            "这些码已作废或召回。",
            "These codes are already voided or recalled.",
        ),
        "range_not_releasable" => (
            "此号段中有码不能放行：未做任何更改。",
            "Some codes in the range cannot be released; nothing was changed.",
        ),
        "batch_already_imported" | "file_already_imported" | "batch_overlaps" => (
            "此批次或文件已导入过：未做任何更改。",
            "This batch or file was imported before; nothing was changed.",
        ),
        "sku_exists" => (
            "该产品编码已存在。",
            "A product with this SKU exists already.",
        ),
        "gtin_taken" => (
            "该 GTIN 已属于其他产品。",
            "This GTIN belongs to another product.",
        ),
        "username_taken" => ("该用户名已被使用。", "This user name is taken."),
        "already_exists" => ("该记录已存在。", "This exists already."),
        "join_field_exists" => (
            "该申请字段已存在。",
            "This application field exists already.",
        ),
        "device_registered" => (
            "该设备已登记：请吊销或更换密钥。",
            "This device is registered already: revoke or re-key it.",
        ),
        "device_revoked" => (
            "该设备已吊销：请先恢复或更换密钥。",
            "This device is revoked: reinstate or re-key it first.",
        ),
        "idempotency_unfinished" | "idempotency_in_progress" => (
            "上一次提交仍在处理：请稍后重试。",
            "The first submission is still being processed: try again shortly.",
        ),
        "import_has_problems" => (
            "文件中有问题：请按提示修改后重新上传。",
            "The file has problems: fix them and upload it again.",
        ),
        "print_file_not_here" => (
            "这个批次的印刷文件不在服务器上（只有在“批次与标签”页生成的批次才有），不能制作码包。",
            "This batch's print file is not on the server (only batches made on the Batches page keep theirs): no code pack can be made.",
        ),
        // Scan marketing (issue 21): the campaign desk and payouts.
        "campaign_name" => (
            "请填写活动名称（最多 60 个字）。",
            "Give the campaign a name of at most 60 characters.",
        ),
        "campaign_window" => (
            "结束时间必须晚于开始时间。",
            "The campaign must end after it starts.",
        ),
        "campaign_budget" => (
            "预算须为大于 0、最多两位小数的金额（元）。",
            "The budget is an amount in yuan above zero with at most two decimals.",
        ),
        "campaign_daily_limit" => (
            "每人每天最多领取次数须为 1 到 1000 的整数。",
            "Claims per consumer a day is a whole number from 1 to 1,000.",
        ),
        "campaign_region" => (
            "不是有效的地区代码（GB/T 2260 六位数字，例如 440000 表示广东省）。",
            "is not a GB/T 2260 region code (six digits, e.g. 440000 for Guangdong).",
        ),
        "campaign_sku" => ("不是任何产品的 SKU。", "is not the SKU of any product."),
        "campaign_prizes" => (
            "抽奖活动设 1 到 8 个奖品；其他活动只有一个奖励，每次扫码都得。",
            "A lottery has 1 to 8 prizes; any other campaign has one reward that every scan wins.",
        ),
        "prize_name" => (
            "请填写奖品名称（最多 40 个字）。",
            "Give the prize a name of at most 40 characters.",
        ),
        "prize_value" => (
            "价值有误：积分为 1 到 1,000,000；优惠券填面值；红包为 0.01 到 200.00 元，随机金额先小后大。",
            "The value is not right: points are 1 to 1,000,000; a coupon has a face value; cash is ¥0.01 to ¥200.00, the lower amount first.",
        ),
        "prize_over_budget" => (
            "奖品价值超过了整个预算。",
            "The prize is worth more than the whole budget.",
        ),
        "prize_odds" => (
            "中奖概率须大于 0，所有奖品合计不超过 100%。",
            "Each prize's odds are above zero and all of them add up to at most 100%.",
        ),
        "prize_stock" => (
            "库存须为至少 1 的整数，不填表示不限。",
            "The stock is a whole number of at least 1, or empty for no limit.",
        ),
        "campaign_transition" => (
            "活动当前的状态不能进行此操作（可能刚被别人改过）：请刷新后再看。",
            "The campaign's state does not allow this (someone may just have changed it): reload the page.",
        ),
        "payout_paid" => (
            "此批次已标记付款，不会重复记账。",
            "This batch is already marked paid; nothing was booked again.",
        ),
        "payout_empty" => (
            "目前没有待发放的现金红包，不需要导出。",
            "No cash is owed to anyone: there is nothing to pay out.",
        ),
        "payout_reference" => (
            "请填写银行流水号（1 到 64 个字符）。",
            "Give the bank's reference, 1 to 64 characters.",
        ),
        _ => (
            "此操作现在不能进行：请刷新页面后重试。",
            "This cannot be done now: reload the page and try again.",
        ),
    }
}

/// An error as a page of the agent's phone: the words, a way back, a way home.
pub fn error_page(lang: Lang, e: Error, back: &str) -> Response {
    let status = match &e {
        Error::Unauthorized(_) => return super::staff::to_login("/agent"),
        e => e.status(),
    };
    if status.is_server_error() {
        tracing::error!(error = %e, "agent page failed");
    }
    let body = html! {
        div.card.verdict.bad id="notice" data-status=(status.as_u16()) {
            h2 { (tr(lang, "未能完成", "Not done")) }
            p id="error-words" { (error_words(lang, &e)) }
            p { a href=(back) id="back" { "← " (tr(lang, "返回", "Back")) } " · "
                a href="/home" { (tr(lang, "首页", "Home")) } }
        }
    };
    (
        status,
        super::layout::page(lang, tr(lang, "未能完成", "Not done"), None, body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::refusal_words;

    /// The codes the store and the use cases refuse with (`Error::conflict("…"`,
    /// `Error::refuse("…"`), read from their sources.
    fn refusal_codes() -> Vec<String> {
        fn walk(dir: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for call in ["Error::refuse(", "Error::conflict("] {
                        for (at, _) in text.match_indices(call) {
                            // rustfmt may break the line after the parenthesis.
                            let rest = text[at + call.len()..].trim_start();
                            let Some(rest) = rest.strip_prefix('"') else {
                                continue;
                            };
                            let code: String = rest
                                .chars()
                                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                                .collect();
                            if rest[code.len()..].starts_with('"') && !code.is_empty() {
                                out.push(code);
                            }
                        }
                    }
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut codes = Vec::new();
        walk(&root.join("src"), &mut codes);
        walk(&root.join("../store/src"), &mut codes);
        codes.sort();
        codes.dedup();
        codes
    }

    /// Every refusal reaches a person in words of its own (not the catch-all) and a program
    /// under a code `docs/api.md` lists: a new refusal without either fails here.
    #[test]
    fn every_refusal_code_has_words_and_is_documented() {
        let codes = refusal_codes();
        assert!(codes.len() > 40, "found only {codes:?}");
        let fallback = refusal_words("no such code");
        let api =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md"))
                .expect("docs/api.md");
        for code in &codes {
            assert_ne!(
                refusal_words(code),
                fallback,
                "{code}: no words in refusal_words"
            );
            assert!(
                api.contains(&format!("`{code}`")),
                "{code}: not listed in docs/api.md"
            );
        }
    }
}
