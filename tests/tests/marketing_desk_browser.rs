//! HQ's campaign desk (扫码营销, issue 21) in headless Chromium at 1366×900, zh-CN, by clicks and
//! typing: the admin opens scan marketing from the navigation, fills in a lottery campaign, types
//! a budget that is not one and sees it refused next to its field with everything typed kept,
//! fixes it, saves it, starts it through the confirmation step and reads its dashboard; then
//! finance exports the cash owed (one claimed red packet seeded in the database) as a payout
//! batch, downloads its CSV and marks it paid with the bank's reference. Screenshots go to
//! `CHAINMARK_SCREENSHOT_DIR` when set.

use chainmark_server::accounts;
use chainmark_server::campaign_desk;
use chainmark_server::domain::Role;
use chainmark_server::domain::marketing::{ALL_ODDS, CampaignDraft, Prize, PrizeKind, Scope};
use chainmark_server::domain::network::{Account, ConsumerWallet, HqAccount, Posting};
use chainmark_server::network::Actor;
use chainmark_server::store::campaigns as campaign_store;
use chainmark_server::store::network::ledger::{self, Meta};
use chainmark_server::store::network::money;
use chainmark_server::store::products::{self, NewProduct};
use chainmark_server::store::schema::{campaign_rewards, consumers};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;
use chainmark_tests::browser::{chromium, desk, keep_screenshot, launch};
use chainmark_tests::browser_steps::{
    click, download, eval, href, local_app, replace_text, serve, sign_in, sign_out, text,
    type_into, wait_notice,
};
use diesel::prelude::*;

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "marketing-browser-password-1";

/// A running cash campaign with one red packet of ¥6.66 claimed by a consumer: what the reward
/// engine and a sign-in leave behind.
fn seed_claimed_cash(conn: &mut chainmark_server::store::DbConnection) {
    // A day, in the chrono type the server uses (the tests crate does not name chrono itself).
    let day = campaign_desk::CHINA * 3;
    let draft = CampaignDraft {
        name: "开业红包".into(),
        scope: Scope::default(),
        starts_at: now() - day,
        ends_at: now() + day * 30,
        budget: "1000".parse().expect("budget"),
        daily_limit: 3,
        lottery: false,
        prizes: vec![Prize {
            name: "现金红包".into(),
            kind: PrizeKind::Cash,
            points: 0,
            min_cents: 100,
            max_cents: 1000,
            odds_bp: ALL_ODDS,
            stock: None,
        }],
    };
    let campaign = campaign_desk::create(conn, Actor::System, &draft).expect("campaign");
    let consumer: i64 = diesel::insert_into(consumers::table)
        .values((
            consumers::phone.eq("13800138000"),
            consumers::created_at.eq(now()),
            consumers::last_seen_at.eq(now()),
        ))
        .returning(consumers::id)
        .get_result(conn)
        .expect("consumer");
    diesel::insert_into(campaign_rewards::table)
        .values((
            campaign_rewards::serial.eq("SEEDED0001"),
            campaign_rewards::campaign_id.eq(campaign.id),
            campaign_rewards::kind.eq(Some(Stored(PrizeKind::Cash))),
            campaign_rewards::amount_cents.eq(666i64),
            campaign_rewards::consumer_id.eq(Some(consumer)),
            campaign_rewards::drawn_at.eq(now()),
            campaign_rewards::claimed_at.eq(Some(now())),
        ))
        .execute(conn)
        .expect("reward");
    let claim = Posting::transfers(
        "seed-claim:SEEDED0001",
        [(
            Account::Hq(HqAccount::MarketingExpense),
            Account::Consumer(consumer, ConsumerWallet::Cash),
            money(666),
        )],
    )
    .expect("posting");
    ledger::book(
        conn,
        &claim,
        Meta {
            kind: chainmark_server::domain::network::PostingKind::RewardClaim,
            ..Meta::default()
        },
    )
    .expect("book");
}

#[test]
fn admin_runs_a_lottery_and_finance_pays_the_red_packets_out() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let (app, listener, base) = local_app(dir.path());
    let db = app.db.clone();
    let mut conn = db.get().expect("connection");
    products::create(&mut conn, &NewProduct::named(SKU, "龙井 250克", 72)).expect("product");
    for (name, words, role) in [
        ("hq-admin", "总部管理员", Role::HqAdmin),
        ("hq-finance", "总部财务", Role::HqFinance),
    ] {
        accounts::create_user(&mut conn, name, words, role, Some(PASSWORD)).expect("user");
    }
    seed_claimed_cash(&mut conn);
    drop(conn);
    serve(app, listener);

    let profile = tempfile::tempdir().expect("profile dir");
    let browser = launch(&chromium, profile.path());
    let tab = browser.new_tab().expect("tab");
    desk(&tab);
    sign_in(&tab, &base, "hq-admin", PASSWORD, "nav.shell");

    // From the navigation to the new campaign form.
    click(&tab, "nav.shell a[href=\"/hq/marketing\"]");
    tab.wait_for_element("#campaign-form").expect("the form");
    keep_screenshot(&tab, "marketing-list");
    type_into(&tab, "#c-name", "双十二扫码抽奖");
    click(&tab, &format!("input[data-sku=\"{SKU}\"]"));
    type_into(&tab, "#c-regions", "440000 330000");
    type_into(&tab, "#c-budget", "500.005");
    eval(
        &tab,
        "document.querySelector('#c-reward').value = 'lottery'",
    );
    type_into(&tab, "#p1_name", "一等奖 88 元红包");
    eval(&tab, "document.querySelector('#p1_kind').value = 'cash'");
    type_into(&tab, "#p1_value", "88");
    type_into(&tab, "#p1_odds", "0.5");
    type_into(&tab, "#p1_stock", "3");
    type_into(&tab, "#p2_name", "20 积分");
    eval(&tab, "document.querySelector('#p2_kind').value = 'points'");
    type_into(&tab, "#p2_value", "20");
    type_into(&tab, "#p2_odds", "60");
    click(&tab, "#create-campaign");

    // The budget is refused next to its field; what was typed is kept.
    let problem = text(&tab, "#problem-budget");
    assert!(problem.contains("预算须为大于 0"), "{problem}");
    let kept = eval(&tab, "document.querySelector('#p1_name').value");
    assert_eq!(kept.as_str(), Some("一等奖 88 元红包"));
    let ticked = eval(
        &tab,
        &format!("document.querySelector('input[data-sku=\"{SKU}\"]').checked"),
    );
    assert_eq!(ticked.as_bool(), Some(true));
    assert!(text(&tab, "#region-names").contains("广东省"));
    eval(
        &tab,
        "document.querySelector('#problem-budget').scrollIntoView()",
    );
    keep_screenshot(&tab, "marketing-refused");
    replace_text(&tab, "#c-budget", "500");
    click(&tab, "#create-campaign");
    wait_notice(&tab, "已保存活动");
    assert_eq!(text(&tab, "#state"), "草稿");
    keep_screenshot(&tab, "campaign-draft");

    // Started through the confirmation step.
    click(&tab, "a[data-action=\"start\"]");
    let confirm = text(&tab, "#confirm");
    assert!(confirm.contains("开始活动"), "{confirm}");
    keep_screenshot(&tab, "campaign-confirm");
    click(&tab, "#confirm-button");
    wait_notice(&tab, "活动现在：进行中");
    assert_eq!(text(&tab, "#state"), "进行中");
    let prizes = text(&tab, "#prizes");
    assert!(
        prizes.contains("¥88.00") && prizes.contains("0.50%"),
        "{prizes}"
    );
    tab.wait_for_element("#tile-map").expect("the region view");
    eval(
        &tab,
        "document.querySelector('#dashboard').scrollIntoView()",
    );
    keep_screenshot(&tab, "campaign-dashboard");
    let url = tab.get_url();
    let campaign_path = url.split('?').next().unwrap_or(&url).to_string();
    let mut conn = db.get().expect("connection");
    let saved = campaign_store::page(&mut conn, Some("双十二"), None, 0, 1)
        .expect("list")
        .rows;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].budget_cents, 50_000);
    assert_eq!(saved[0].regions, "440000 330000");
    drop(conn);

    // In English, the same page in English words.
    tab.navigate_to(&format!("{campaign_path}?lang=en"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("page");
    assert_eq!(text(&tab, "#state"), "Running");
    keep_screenshot(&tab, "campaign-en");
    // Back to Chinese (the choice is remembered by the browser).
    tab.navigate_to(&format!("{campaign_path}?lang=zh"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("page");
    sign_out(&tab);

    // Finance pays the red packet out.
    sign_in(&tab, &base, "hq-finance", PASSWORD, "nav.shell");
    click(&tab, "nav.shell a[href=\"/hq/marketing/payouts\"]");
    let owed = text(&tab, "#owed-total");
    assert!(owed.contains("6.66"), "{owed}");
    keep_screenshot(&tab, "payouts-owed");
    click(&tab, "#export");
    wait_notice(&tab, "已导出批次 HB");
    let csv_href = href(&tab, "#csv");
    let (status, bytes) = download(&tab, &base, &csv_href);
    assert_eq!(status, 200);
    let body = String::from_utf8(bytes).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let lines: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("line").iter().map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0][1..3],
        ["13800138000".to_string(), "6.66".to_string()]
    );
    keep_screenshot(&tab, "payout-batch");
    type_into(&tab, "#reference", "ICBC-20261212-0001");
    click(&tab, "#mark-paid");
    wait_notice(&tab, "已标记付款");
    assert_eq!(text(&tab, "#batch-state"), "已付款");
    assert_eq!(text(&tab, "#batch-reference"), "ICBC-20261212-0001");
    keep_screenshot(&tab, "payout-paid");
    let mut conn = db.get().expect("connection");
    let hq_cash = ledger::balance(&mut conn, &Account::Hq(HqAccount::Cash)).expect("balance");
    assert_eq!(hq_cash, money(666), "the payout left the bank in the books");
}
