//! An agent on its phone in headless Chromium: signs in through the login page, opens the portal
//! (`/agent`), places a restock order with the form and sees it listed, and a double submission
//! of the form places one order; HQ, in a browser of its own, finds the first order on
//! `/hq/network`.
//!
//! The server runs in this process on a real SQLite file, with a batch written by codegen's
//! library and imported through the registry, so HQ holds real stock. The agent is made active
//! the way a real one is: its entry order accepted and its transfer confirmed by HQ.

use std::net::SocketAddr;

use chainmark_server::accounts;
use chainmark_server::app::{self, App};
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::network::{Actor, agents, orders, payment, policy};
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::network::agents as agent_store;
use chainmark_server::store::network::orders as order_store;
use chainmark_tests::browser::{chromium, keep_screenshot, launch, phone};
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;
use headless_chrome::Tab;

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "browser-test-password-1";
/// 12 items at the 特约 price of seed 004 (60.00).
const QUANTITY: i64 = 12;

/// Serves `app` on `listener` from a thread of its own for the rest of the test process.
fn serve(app: App, listener: std::net::TcpListener) {
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let router =
                app::router(app.into_state()).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, router).await.expect("serve");
        });
    });
}

/// Signs in on the login page and waits for `landmark`, an element of the page `next`.
fn sign_in(tab: &Tab, base: &str, username: &str, next: &str, landmark: &str) {
    tab.navigate_to(&format!("{base}/login?next={next}"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("login page");
    tab.wait_for_element("#username")
        .expect("username field")
        .click()
        .expect("focus");
    tab.type_str(username).expect("type the username");
    tab.wait_for_element("#password")
        .expect("password field")
        .click()
        .expect("focus");
    tab.type_str(PASSWORD).expect("type the password");
    tab.wait_for_element("form[action=\"/login\"] button[type=submit]")
        .expect("sign-in button")
        .click()
        .expect("sign in");
    // The landmark, not the navigation event: a click's navigation may not have begun yet.
    tab.wait_for_element(landmark)
        .unwrap_or_else(|e| panic!("signed in as {username}, {landmark} on {next}: {e}"));
}

fn attribute(tab: &Tab, selector: &str, name: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_attribute_value(name)
        .expect("read attribute")
        .unwrap_or_else(|| panic!("{selector} has no {name}"))
}

#[test]
fn an_agent_orders_from_the_portal_and_hq_sees_it() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    let base = format!("http://{addr}");

    let key_path = dir.path().join("master.key");
    let key = MasterKey::generate_to(&key_path).expect("master key");
    let settings = Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.path().join("chainmark.db").display()),
        key_files: vec![key_path],
        base_url: base.clone(),
        ..Settings::default()
    };
    let app = App::open(settings).expect("open the app");
    let mut conn = app.db.get().expect("connection");

    // HQ's stock: a batch of real codes imported into the registry.
    let batch_dir = dir.path().join("batch");
    let mut spec = BatchSpec::new(SKU, 40, &base, &batch_dir);
    spec.case_size = 4;
    write_batch(&spec, &key, &mut |_| {}).expect("write the batch");
    let imported = registry::import_batch(
        &mut conn,
        &app.keys,
        &app.settings.key_files,
        &batch_dir,
        ImportOptions {
            create_product: true,
            actor: None,
        },
        &mut |_, _| {},
    )
    .expect("import the batch");
    assert_eq!(imported.items, 40);

    let (policy_row, _) = policy::active(&mut conn).expect("the active policy");
    assert_eq!(policy_row.name, "seed-004");

    // Known passwords, so neither account is sent to change its password first.
    let (admin, _) = accounts::create_user(
        &mut conn,
        "hq-admin",
        "HQ admin",
        Role::HqAdmin,
        Some(PASSWORD),
    )
    .expect("HQ admin");
    let (user, _) =
        accounts::create_user(&mut conn, "agent-li", "李四", Role::Agent, Some(PASSWORD))
            .expect("agent account");
    let input = agents::NewAgentInput {
        name: "李四".into(),
        tier: "special".into(),
        referrer_id: None,
        region: "330106".into(),
        user_id: Some(user.id),
    };
    let agent = agents::create(&mut conn, input, Some(admin.id)).expect("agent");
    let hq = Actor::Hq {
        user: admin.id,
        role: Role::HqAdmin,
    };
    let me = Actor::Agent {
        user: user.id,
        agent: agent.id,
    };
    let entry = orders::OrderInput::single(SKU, 4);
    let entry = orders::submit(&mut conn, me, &entry)
        .expect("entry order")
        .id;
    orders::accept(&mut conn, entry, hq).expect("HQ accepts");
    payment::pay(&mut conn, entry, PaidVia::Offline, hq).expect("HQ confirms the transfer");
    assert!(
        agent_store::get(&mut conn, agent.id)
            .expect("agent")
            .is_active(),
        "the paid entry order activated the agent"
    );
    drop(conn);
    let db = app.db.clone();
    serve(app, listener);

    let agent_browser = launch(&chromium, &dir.path().join("agent-profile"));
    let tab = agent_browser.new_tab().expect("tab");
    phone(&tab);
    sign_in(&tab, &base, "agent-li", "/agent", "#place");
    assert!(
        tab.get_url().ends_with("/agent"),
        "signed in straight to the portal, not {}",
        tab.get_url()
    );
    tab.wait_for_element(&format!("#place input[name=\"qty.{SKU}\"]"))
        .expect("quantity field")
        .click()
        .expect("focus");
    tab.type_str(&QUANTITY.to_string())
        .expect("type the quantity");
    tab.wait_for_element("#place button[type=submit]")
        .expect("place button")
        .click()
        .expect("place the order");
    let notice = tab
        .wait_for_element("#notice")
        .expect("a notice")
        .get_inner_text()
        .expect("notice text");
    let order: i64 = notice
        .trim()
        .trim_start_matches('#')
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the notice names the order: {notice:?}"));
    assert_eq!(
        attribute(
            &tab,
            &format!("#placed [data-order=\"{order}\"]"),
            "data-state"
        ),
        "submitted",
        "the order is listed among mine"
    );
    let stored = order_store::get(&mut db.get().expect("connection"), order).expect("the order");
    assert_eq!(
        (stored.buyer_id, stored.kind.as_str(), stored.quantity),
        (agent.id, "restock", QUANTITY)
    );
    assert_eq!(
        stored.seller_kind,
        chainmark_server::domain::network::PartyKind::Hq,
        "a 特约 without referrer buys from HQ"
    );
    let lines =
        order_store::lines_of(&mut db.get().expect("connection"), &[stored.id]).expect("lines");
    assert_eq!(lines.len(), 1, "one product in the cart: one line");
    assert_eq!(lines[0].unit_price_cents, 6000, "priced at the 特约 tier");

    // A double submission from the page as the browser rendered it (its hidden idempotency key
    // included): the same form sent twice at once places one order.
    let sent = tab
        .evaluate(
            r#"(async () => {
                const f = document.querySelector('#place');
                f.querySelector('input[name^="qty."]').value = '4';
                const send = () => fetch(f.action, {
                    method: 'POST', body: new URLSearchParams(new FormData(f)),
                    redirect: 'manual', credentials: 'same-origin' });
                const answers = await Promise.all([send(), send()]);
                return answers.map(a => a.type).join(',');
            })()"#,
            true,
        )
        .expect("post the form twice");
    assert_eq!(
        sent.value
            .and_then(|v| v.as_str().map(String::from))
            .as_deref(),
        Some("opaqueredirect,opaqueredirect"),
        "both submissions are redirected"
    );
    let fours = order_store::list(
        &mut db.get().expect("connection"),
        order_store::Listing::PlacedBy(agent.id),
        None,
        0,
        10,
    )
    .expect("orders")
    .into_iter()
    .filter(|o| o.quantity == 4 && o.kind == chainmark_server::domain::network::OrderKind::Restock)
    .count();
    assert_eq!(fours, 1, "the double submission placed one order");
    tab.reload(false, None).expect("reload");
    tab.wait_for_element("#place").expect("the portal again");
    keep_screenshot(&tab, "agent_portal_phone");

    // HQ in a browser of its own (its own cookies), on a desk.
    let hq_browser = launch(&chromium, &dir.path().join("hq-profile"));
    let hq_tab = hq_browser.new_tab().expect("tab");
    sign_in(&hq_tab, &base, "hq-admin", "/hq/network", "#orders");
    let row = format!("#orders [data-order=\"{order}\"]");
    assert_eq!(attribute(&hq_tab, &row, "data-state"), "submitted");
    let text = hq_tab
        .wait_for_element(&row)
        .expect("the order on HQ's page")
        .get_inner_text()
        .expect("row text");
    assert!(
        text.contains(&format!("{QUANTITY} × 60.00")),
        "HQ sees the quantity and price: {text:?}"
    );
    keep_screenshot(&hq_tab, "hq_network_desk");
}
