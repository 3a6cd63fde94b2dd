//! Scan marketing (issue 21) in headless Chromium on a phone (390×844, zh-CN), against a real
//! `chainmark serve` whose text messages go to its log: a consumer scans a product's QR, types the
//! security code and learns it is genuine and won a red packet; taps "claim", types a phone
//! number, reads the sign-in code from the server's log as it would from a text message, signs
//! in, claims, and finds the reward under "my rewards". Verifying a second product while signed
//! in puts its reward in the account at once.

use std::path::Path;
use std::time::{Duration, Instant};

use chainmark_server::domain::marketing::{
    ALL_ODDS, CampaignAction, CampaignDraft, Prize, PrizeKind, Scope,
};
use chainmark_server::store::Db;
use chainmark_tests::browser::{chromium, keep_screenshot, launch, phone};
use chainmark_tests::browser_steps::{click, text, type_into};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::Server;
use chrono::Duration as Days;
use headless_chrome::Tab;
use rust_decimal::Decimal;

const PHONE: &str = "13800138000";

/// A running campaign: every first scan of the brand's tea wins a ¥1.88 red packet.
fn start_campaign(database_url: &str) {
    let db = Db::open(database_url, 1).expect("open the database");
    let mut conn = db.get().expect("connection");
    let now = chainmark_server::store::users::now();
    let draft = CampaignDraft {
        name: "双十二扫码有礼".into(),
        scope: Scope {
            skus: vec!["TEA-250G".into()],
            ..Scope::default()
        },
        starts_at: now - Days::hours(1),
        ends_at: now + Days::days(30),
        budget: Decimal::new(100_000, 2),
        daily_limit: 3,
        lottery: false,
        prizes: vec![Prize {
            name: "扫码红包".into(),
            kind: PrizeKind::Cash,
            points: 0,
            min_cents: 188,
            max_cents: 188,
            odds_bp: ALL_ODDS,
            stock: None,
        }],
    };
    let id = chainmark_server::store::campaigns::create(&mut conn, &draft, None, now)
        .expect("campaign")
        .id;
    chainmark_server::store::campaigns::apply(&mut conn, id, CampaignAction::Start, now)
        .expect("start it");
}

/// The newest sign-in code the log "SMS" sender wrote for `phone`, waiting for it a moment.
fn code_from_log(log: &Path, phone: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let code = text
            .lines()
            .rev()
            .filter(|l| l.contains("chainmark::sms") && l.contains(phone))
            .filter_map(|l| l.split("验证码是 ").nth(1))
            .filter_map(|rest| rest.get(..6))
            .find(|c| c.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string);
        if let Some(code) = code {
            return code;
        }
        assert!(
            Instant::now() < deadline,
            "no sign-in code for {phone} in the server's log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .expect("navigate")
        .wait_until_navigated()
        .expect("page");
}

fn verify_by_typing(tab: &Tab, server: &Server, fixture: &Fixture, i: usize) {
    let item = &fixture.items[i];
    open(tab, &server.url(&item.verify_path));
    type_into(tab, "#code", &item.security_code);
    click(tab, "form button[type=submit]");
    tab.wait_for_element("#verdict[data-result=genuine_first]")
        .unwrap_or_else(|e| panic!("genuine first: {e}"));
}

#[test]
fn a_consumer_wins_signs_in_with_the_code_from_the_log_and_sees_the_reward() {
    let Some(chromium) = chromium() else { return };
    let fixture = Fixture::issue(6);
    fixture.release_all();
    start_campaign(&fixture.database_url);
    let log = fixture.dir.path().join("server.log");
    let mut env = fixture.env();
    env.push(("RUST_LOG", "warn,chainmark::sms=info".into()));
    env.push(("CHAINMARK_SMS", "log".into()));
    let server = Server::start_logged(fixture.dir.path(), &env, &log);

    let browser = launch(&chromium, &fixture.dir.path().join("consumer-profile"));
    let tab = browser.new_tab().expect("tab");
    phone(&tab);

    // Scan, type the code: genuine, and a red packet.
    verify_by_typing(&tab, &server, &fixture, 1);
    let prize = text(&tab, "#reward #prize");
    assert!(prize.contains("红包") && prize.contains("1.88"), "{prize}");
    keep_screenshot(&tab, "marketing-1-won");

    // Claim: sign in by phone first.
    click(&tab, "#claim");
    type_into(&tab, "#phone", PHONE);
    keep_screenshot(&tab, "marketing-2-phone");
    click(&tab, "#send-code");
    tab.wait_for_element("#code-form").expect("the code form");
    let code = code_from_log(&log, PHONE);
    type_into(&tab, "#code", &code);
    keep_screenshot(&tab, "marketing-3-code");
    click(&tab, "#check-code");

    // Back on the claim page, signed in.
    click(&tab, "#claim-submit");
    tab.wait_for_element("#rewards").expect("my rewards");
    let rewards = text(&tab, "#rewards");
    assert!(rewards.contains("1.88"), "{rewards}");
    assert!(rewards.contains("双十二扫码有礼"), "{rewards}");
    keep_screenshot(&tab, "marketing-4-my-rewards");

    // Signed in, a second product's reward is in the account at once.
    verify_by_typing(&tab, &server, &fixture, 2);
    let claimed = text(&tab, "#reward #claimed");
    assert!(claimed.contains("已存入"), "{claimed}");
    keep_screenshot(&tab, "marketing-5-claimed-at-once");
    click(&tab, "#claimed a");
    tab.wait_for_element("#rewards").expect("my rewards");
    let rows = tab
        .find_elements("#rewards tr.reward")
        .expect("reward rows")
        .len();
    assert_eq!(rows, 2, "both rewards are mine");

    // A code already verified draws nothing again.
    verify_by_typing_repeat(&tab, &server, &fixture, 1);
}

fn verify_by_typing_repeat(tab: &Tab, server: &Server, fixture: &Fixture, i: usize) {
    let item = &fixture.items[i];
    open(tab, &server.url(&item.verify_path));
    type_into(tab, "#code", &item.security_code);
    click(tab, "form button[type=submit]");
    tab.wait_for_element("#verdict[data-result=genuine_repeat]")
        .unwrap_or_else(|e| panic!("a repeat: {e}"));
    assert!(
        tab.find_element("#reward").is_err(),
        "a repeat shows no reward"
    );
}
