//! An HQ auditor in headless Chromium follows a diversion alert to the item's trace.
//!
//! The brand is set up with the real tools (`chainmark-codegen`, `chainmark import`); a 区代
//! authorised for 杭州 西湖区 buys four items from HQ, which ships them and the agent receives them
//! (the network's use cases on the same SQLite file, as the fixture releases items). Then the
//! real `chainmark serve` runs, a consumer's phone verifies one of the items with its coordinates
//! in 广州 天河区 — another province — and the auditor signs in, opens the newest alert, sees its
//! evidence, follows it to the trace page and sees the chain: shipped, received, verified.

use chainmark_server::accounts;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::network::{Actor, agents, orders, payment, policy, shipping};
use chainmark_server::store::Db;
use chainmark_server::store::diversion_places as places;
use chainmark_tests::browser::{chromium, keep_screenshot, launch};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::Server;
use headless_chrome::Tab;
use serde_json::{Value, json};

const PASSWORD: &str = "audit-browser-password-1";
/// 杭州市 西湖区, where the agent is authorised.
const XIHU: &str = "330106";
/// 广州市 天河区, where the consumer is.
const TIANHE: (f64, f64) = (23.12, 113.36);
const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

/// HQ, an auditor, and an agent holding `serials` that is authorised for 西湖区 only.
fn set_up(fixture: &Fixture, serials: &[String]) -> i64 {
    let db = Db::open(&fixture.database_url, 1).expect("open database");
    let mut conn = db.get().expect("connection");
    policy::active(&mut conn).expect("the shipped policy");
    let (admin, _) = accounts::create_user(
        &mut conn,
        "hq-admin",
        "HQ admin",
        Role::HqAdmin,
        Some(PASSWORD),
    )
    .expect("HQ admin");
    accounts::create_user(
        &mut conn,
        "auditor",
        "审计员",
        Role::HqAuditor,
        Some(PASSWORD),
    )
    .expect("auditor");
    let (user, _) =
        accounts::create_user(&mut conn, "agent-liu", "刘洋", Role::Agent, None).expect("agent");
    let agent = agents::create(
        &mut conn,
        agents::NewAgentInput {
            name: "刘洋".into(),
            tier: "special".into(),
            referrer_id: None,
            region: XIHU.into(),
            user_id: Some(user.id),
        },
        Some(admin.id),
    )
    .expect("create the agent")
    .id;
    places::set_agent_regions(&mut conn, agent, &[XIHU.to_string()]).expect("regions");
    let hq = Actor::Hq {
        user: admin.id,
        role: Role::HqAdmin,
    };
    let me = Actor::Agent {
        user: user.id,
        agent,
    };
    let order = orders::submit(
        &mut conn,
        me,
        &orders::OrderInput::single("TEA-250G", serials.len() as i64),
    )
    .expect("the agent's order")
    .id;
    orders::accept(&mut conn, order, hq).expect("HQ accepts");
    payment::pay(&mut conn, order, PaidVia::Offline, hq).expect("HQ confirms the transfer");
    let shipped =
        shipping::ship_items(&mut conn, order, Some(admin.id), serials).expect("HQ ships");
    assert!(shipped.rejected.is_empty(), "{:?}", shipped.rejected);
    shipping::receive(&mut conn, order, me, false).expect("the agent receives");
    agent
}

fn text_of(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_inner_text()
        .expect("inner text")
}

#[test]
fn an_auditor_follows_the_newest_alert_to_the_trace() {
    let Some(chromium) = chromium() else { return };
    let fixture = Fixture::issue(8);
    let item = fixture.items[5].clone();
    let serials: Vec<String> = fixture.items[4..8]
        .iter()
        .map(|i| i.serial.clone())
        .collect();
    let agent = set_up(&fixture, &serials);
    let server = Server::start(fixture.dir.path(), &fixture.env());

    // A consumer in Guangzhou verifies the item, sharing the phone's location.
    let tag = item
        .verify_path
        .split("t=")
        .nth(1)
        .expect("the QR's tag")
        .to_string();
    let client = reqwest::blocking::Client::new();
    let verdict: Value = client
        .post(server.url("/api/v1/verify"))
        .header("User-Agent", PHONE_UA)
        .json(
            &json!({"serial": item.serial, "tag": tag, "security_code": item.security_code,
                      "latitude": TIANHE.0, "longitude": TIANHE.1}),
        )
        .send()
        .expect("verify")
        .json()
        .expect("verdict JSON");
    assert_eq!(verdict["result"], json!("genuine_first"), "{verdict}");

    let browser = launch(&chromium, &fixture.dir.path().join("auditor-profile"));
    let tab = browser.new_tab().expect("tab");
    tab.set_user_agent(PHONE_UA, Some("zh-CN,zh;q=0.9"), None)
        .expect("user agent");
    let base = &server.base_url;
    tab.navigate_to(&format!("{base}/login?next=/hq/audit/alerts"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("login page");
    tab.wait_for_element("#username")
        .expect("username")
        .click()
        .expect("focus");
    tab.type_str("auditor").expect("type");
    tab.wait_for_element("#password")
        .expect("password")
        .click()
        .expect("focus");
    tab.type_str(PASSWORD).expect("type");
    tab.wait_for_element("form[action=\"/login\"] button[type=submit]")
        .expect("sign-in button")
        .click()
        .expect("sign in");

    // The list, newest first: the alert is the first row.
    let first = tab
        .wait_for_element("#alerts tbody tr")
        .expect("an alert on the list");
    assert_eq!(
        first
            .get_attribute_value("data-kind")
            .expect("attribute")
            .as_deref(),
        Some("diversion")
    );
    let row = text_of(&tab, "#alerts tbody tr");
    assert!(
        row.contains(&item.serial) && row.contains("广东省 广州市 天河区"),
        "{row}"
    );
    tab.wait_for_element("#alerts tbody tr a")
        .expect("the alert's link")
        .click()
        .expect("open the alert");

    // Its evidence.
    let evidence = text_of(&tab, "#evidence");
    for want in [
        item.serial.as_str(),
        "浙江省 杭州市 西湖区 (330106)",
        "广东省 广州市 天河区 (440106)",
        "浏览器定位",
        &format!("刘洋 #{agent}"),
    ] {
        assert!(evidence.contains(want), "{want} in {evidence}");
    }
    assert!(text_of(&tab, "#custody").contains("receive"));
    tab.wait_for_element("#confirm-form")
        .expect("the decision form");

    // The trace: the whole chain on the timeline.
    tab.wait_for_element("#trace-link")
        .expect("the trace link")
        .click()
        .expect("follow it");
    tab.wait_for_element("#timeline").expect("the timeline");
    for selector in [
        // The history starts from the batch's import, recorded once on the batch.
        "#timeline li[data-source=\"custody\"][data-what=\"import\"]",
        "#timeline li[data-what=\"ship\"]",
        "#timeline li[data-what=\"receive\"]",
        "#timeline li[data-source=\"verification\"][data-what=\"genuine_first\"]",
        "#timeline [data-region=\"440106\"]",
    ] {
        tab.wait_for_element(selector)
            .unwrap_or_else(|e| panic!("{selector} on the trace: {e}"));
    }
    assert!(
        tab.get_url()
            .contains(&format!("/hq/audit/trace?code={}", item.serial)),
        "{}",
        tab.get_url()
    );
    let trace = text_of(&tab, "#trace");
    assert!(trace.contains(&item.serial), "{trace}");
    let timeline = text_of(&tab, "#timeline");
    assert!(
        timeline.contains("码入库登记"),
        "the import, in words: {timeline}"
    );
    keep_screenshot(&tab, "audit_trace");

    // The dashboard counts it and draws its charts.
    tab.navigate_to(&format!("{base}/hq/audit"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("dashboard");
    assert_eq!(text_of(&tab, "[data-count=\"open_alerts\"]").trim(), "1");
    let charts = tab
        .wait_for_elements("#charts svg")
        .expect("the charts")
        .len();
    assert_eq!(charts, 2);
    keep_screenshot(&tab, "audit_dashboard");
}
