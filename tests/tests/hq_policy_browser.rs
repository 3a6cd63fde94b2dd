//! HQ's tier policy and level policy as forms (issue 18) in headless Chromium at 1366×900, zh-CN,
//! by clicks and typing: the admin opens the tier policy from the navigation, types a price that
//! is not one and sees it refused on its field, edits 市代's price, reviews the change in words
//! and the what-if (a 市代's order of the last 30 days priced both ways), activates it and sees
//! the new version; then starts the level policy from a preset, sees its what-if and activates
//! it. Screenshots go to `CHAINMARK_SCREENSHOT_DIR` when set.

use chainmark_server::accounts;
use chainmark_server::app::App;
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::TierRank;
use chainmark_server::network::{Actor, agents, orders, policy};
use chainmark_server::store::network::agents as agent_store;
use chainmark_server::store::products::{self, NewProduct};
use chainmark_tests::browser::{chromium, desk, keep_screenshot, launch};
use chainmark_tests::browser_steps::{
    click, eval, replace_text, serve, sign_in, text, wait_notice,
};

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "policy-browser-password-1";

#[test]
fn admin_edits_a_price_and_a_level_preset_in_forms_and_activates_them() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let base = format!("http://{addr}");
    let settings = Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.path().join("chainmark.db").display()),
        base_url: base.clone(),
        ..Settings::default()
    };
    let app = App::open(settings).expect("open the app");
    let db = app.db.clone();
    let mut conn = db.get().expect("connection");
    products::create(&mut conn, &NewProduct::named(SKU, "龙井 250克", 72)).expect("product");
    accounts::create_user(
        &mut conn,
        "hq-admin",
        "总部管理员",
        Role::HqAdmin,
        Some(PASSWORD),
    )
    .expect("admin");
    // A 市代 with an order of 72 items: the what-if prices it at 31.00 and at 29.00.
    let (user, _) = accounts::create_user(&mut conn, "agent-li", "李代理", Role::Agent, None)
        .expect("agent account");
    let agent = agents::create(
        &mut conn,
        agents::NewAgentInput {
            name: "李代理".into(),
            tier: "city".into(),
            referrer_id: None,
            region: "330100".into(),
            user_id: Some(user.id),
        },
        None,
    )
    .expect("agent");
    assert!(agent_store::activate(&mut conn, agent.id, agent.tier_rank, 0).expect("activate"));
    orders::submit(
        &mut conn,
        Actor::Agent {
            user: user.id,
            agent: agent.id,
        },
        &orders::OrderInput::single(SKU, 72),
    )
    .expect("order");
    serve(app, listener);

    let profile = tempfile::tempdir().expect("profile dir");
    let browser = launch(&chromium, profile.path());
    let tab = browser.new_tab().expect("tab");
    desk(&tab);
    sign_in(&tab, &base, "hq-admin", PASSWORD, "nav.shell");

    // From the navigation to the tier policy form.
    click(&tab, "nav.shell a[href=\"/hq/policy\"]");
    tab.wait_for_element("#policy-form").expect("the form");
    keep_screenshot(&tab, "policy-form");
    eval(&tab, "document.querySelector('#windows').scrollIntoView()");
    keep_screenshot(&tab, "policy-form-tables");
    let price = "input[name=\"tiers[2].unit_price\"]";
    replace_text(&tab, price, "二十九");
    click(&tab, "#policy-form button[value=review]");
    let refused = text(&tab, "[data-error-for=\"tiers[2].unit_price\"]");
    assert!(refused.contains("不是金额"), "{refused}");
    assert!(text(&tab, "#problems").contains("市代 · 单价"));
    keep_screenshot(&tab, "policy-refused");

    replace_text(&tab, price, "29");
    click(&tab, "#policy-form button[value=review]");
    let changes = text(&tab, "#changes");
    assert!(changes.contains("市代 · 单价: 31.00 → 29.00"), "{changes}");
    let city = text(&tab, "tr[data-effect=\"city\"]");
    assert!(
        city.contains("2232.00") && city.contains("2088.00") && city.contains("-144.00"),
        "{city}"
    );
    keep_screenshot(&tab, "policy-review");
    click(&tab, "form[action=\"/hq/policy/activate\"] button");
    wait_notice(&tab, "已启用第 2 版");
    let value = tab
        .wait_for_element(price)
        .expect("price")
        .get_attribute_value("value")
        .expect("attribute");
    assert_eq!(value.as_deref(), Some("29.00"));
    keep_screenshot(&tab, "policy-activated");
    let (row, active) = policy::active(&mut db.get().expect("connection")).expect("active");
    assert_eq!(row.version, 2);
    assert_eq!(
        active.price(TierRank(3), SKU).map(|p| p.to_string()),
        Some("29.00".into())
    );

    // The level policy from a preset: what-if, then activate.
    click(&tab, "nav.shell a[href=\"/hq/levels\"]");
    click(&tab, "li[data-preset=\"seed-001\"] a");
    tab.wait_for_element("#level-form div[data-level=\"city\"]")
        .expect("the level form");
    keep_screenshot(&tab, "levels-preset");
    eval(
        &tab,
        "document.querySelector('div[data-level=city]').scrollIntoView()",
    );
    keep_screenshot(&tab, "levels-preset-city");
    click(&tab, "#level-form button[value=review]");
    tab.wait_for_element("#what-if").expect("the what-if");
    let changes = text(&tab, "#policy-changes");
    assert!(changes.contains("市代 · 升级路径 1"), "{changes}");
    keep_screenshot(&tab, "levels-review");
    click(&tab, "#activate button[value=activate]");
    wait_notice(&tab, "已启用第 1 版(保持现有等级,记录配额)");
    keep_screenshot(&tab, "levels-activated");
    let (row, _) = chainmark_server::levels::policy::active(&mut db.get().expect("connection"))
        .expect("read")
        .expect("a level policy is active");
    assert!(row.name.starts_with("seed 001"), "{}", row.name);

    // Both pages read in English too.
    for (path, name) in [("/hq/policy", "policy-en"), ("/hq/levels", "levels-en")] {
        tab.navigate_to(&format!("{base}{path}?lang=en"))
            .expect("navigate")
            .wait_until_navigated()
            .expect("page");
        let body = text(&tab, "main");
        let chinese: String = body
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .collect();
        assert!(chinese.is_empty(), "{path} in English shows {chinese:?}");
        keep_screenshot(&tab, name);
    }
}
