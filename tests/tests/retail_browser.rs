//! Retail, O2O and printing (issue 20) in headless Chromium, by clicks and typing:
//! - on a phone (390×844, zh-CN), a 区代 opens "零售" from its navigation, scans two items out
//!   of its stock (typed as a keyboard-wedge scanner types them, one line each) to a customer,
//!   and opens the receipt; a consumer opens the logistics URL of an item the shop sold, sees
//!   who sold it and orders two more; the shop sees the scan order, fulfils it by scanning, and
//!   finds the consumer among its members;
//! - at a desk (1366×900), the warehouse opens the printers from its page, adds the label
//!   printer (a local listener playing it), prints the waybill label of a shipped order from the
//!   order's page and adds a tracking event; a second server instance on the same database sends
//!   the label; the queue shows it printed and the printer got exactly one label whose QR reads.
//!
//! The server runs in this process on a real SQLite file, with a batch written by codegen's
//! library and imported through the registry.

use std::io::Read;
use std::sync::{Arc, Mutex};

use chainmark_server::accounts;
use chainmark_server::app::App;
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::network::{Actor, agents, orders, payment, scan_ship, shipping};
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::network::agents as agent_store;
use chainmark_server::store::schema::items;
use chainmark_server::store::typed::Stored;
use chainmark_tests::browser::{chromium, desk, keep_screenshot, launch, phone};
use chainmark_tests::browser_steps::{click, serve, sign_in, text, type_into, wait_notice};
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;
use diesel::prelude::*;

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "retail-browser-password-1";

#[test]
fn a_shop_sells_a_consumer_reorders_and_the_warehouse_prints() {
    let Some(chromium) = chromium() else { return };
    let Some(_) = chainmark_test_support::fonts() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let base = format!("http://{addr}");
    let key_path = dir.path().join("master.key");
    let key = MasterKey::generate_to(&key_path).expect("master key");
    let settings = Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.path().join("chainmark.db").display()),
        key_files: vec![key_path],
        base_url: base.clone(),
        brand_name: "西湖龙井".into(),
        ..Settings::default()
    };
    let app = App::open(settings.clone()).expect("open the app");
    let mut conn = app.db.get().expect("connection");

    let batch_dir = dir.path().join("batch");
    let mut spec = BatchSpec::new(SKU, 60, &base, &batch_dir);
    spec.case_size = 10;
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
    .expect("import");
    let serials: Vec<String> = items::table
        .filter(items::batch_id.eq(&imported.batch_id))
        .order(items::item_index)
        .select(items::serial)
        .load(&mut conn)
        .expect("serials");

    // The shop: a 区代 of 杭州 with ten items in stock.
    let (user, _) = accounts::create_user(
        &mut conn,
        "shop-wang",
        "王小店",
        Role::Agent,
        Some(PASSWORD),
    )
    .expect("shop account");
    let shop = agents::create(
        &mut conn,
        agents::NewAgentInput {
            name: "王小店".into(),
            tier: "district".into(),
            referrer_id: None,
            region: "330106".into(),
            user_id: Some(user.id),
        },
        None,
    )
    .expect("shop");
    assert!(agent_store::activate(&mut conn, shop.id, shop.tier_rank, 0).expect("activate"));
    diesel::update(items::table.filter(items::serial.eq_any(&serials[..10])))
        .set((
            items::custodian_kind.eq(Stored(CustodianKind::Agent)),
            items::custodian_id.eq(Some(shop.id)),
        ))
        .execute(&mut conn)
        .expect("stock the shop");

    // HQ's shipment to the shop, shipped with a waybill: the warehouse prints its label.
    let admin = accounts::create_user(
        &mut conn,
        "hq-admin",
        "总部管理员",
        Role::HqAdmin,
        Some(PASSWORD),
    )
    .expect("admin")
    .0;
    let finance = accounts::create_user(
        &mut conn,
        "hq-finance",
        "总部财务",
        Role::HqFinance,
        Some(PASSWORD),
    )
    .expect("finance")
    .0;
    accounts::create_user(
        &mut conn,
        "wh-li",
        "仓库李",
        Role::Warehouse,
        Some(PASSWORD),
    )
    .expect("warehouse");
    let shop_actor = Actor::Agent {
        user: user.id,
        agent: shop.id,
    };
    let admin_actor = Actor::Hq {
        user: admin.id,
        role: Role::HqAdmin,
    };
    let order = orders::submit(&mut conn, shop_actor, &orders::OrderInput::single(SKU, 20))
        .expect("order")
        .id;
    orders::accept(&mut conn, order, admin_actor).expect("accept");
    payment::pay(
        &mut conn,
        order,
        PaidVia::Offline,
        Actor::Hq {
            user: finance.id,
            role: Role::HqFinance,
        },
    )
    .expect("pay");
    shipping::ship_items(&mut conn, order, Some(admin.id), &serials[20..40]).expect("ship");
    scan_ship::set_waybill(&mut conn, order, admin_actor, "顺丰速运", "SF1357924680")
        .expect("waybill");
    drop(conn);
    let second = App::open(settings).expect("a second instance on the same database");
    serve(app, listener);

    let profile = tempfile::tempdir().expect("profile dir");
    let browser = launch(&chromium, profile.path());
    let tab = browser.new_tab().expect("tab");

    // The shop on its phone: a sale by scanning.
    phone(&tab);
    sign_in(&tab, &base, "shop-wang", PASSWORD, "nav.shell");
    click(&tab, "nav.shell a[href=\"/agent/retail\"]");
    tab.wait_for_element("#codes").expect("the sale form");
    type_into(&tab, "#codes", &serials[0]);
    tab.press_key("Enter").expect("enter");
    tab.type_str(&serials[1]).expect("second scan");
    type_into(&tab, "#customer-name", "赵女士");
    type_into(&tab, "#customer-phone", "13600136000");
    keep_screenshot(&tab, "retail-1-sale-form");
    click(&tab, "#sell");
    wait_notice(&tab, "已开单");
    keep_screenshot(&tab, "retail-2-sold");
    click(&tab, "#sales a[data-sale]");
    tab.wait_for_element("#receipt").expect("the receipt");
    let receipt = text(&tab, "#receipt");
    assert!(
        receipt.contains(&serials[0])
            && receipt.contains(&serials[1])
            && receipt.contains("赵女士"),
        "{receipt}"
    );
    keep_screenshot(&tab, "retail-3-receipt");
    click(&tab, "form.signout button");
    tab.wait_for_element("#username").expect("signed out");

    // A consumer scans the logistics QR of an item the shop sold and orders two more.
    tab.navigate_to(&format!("{base}/s/{}", serials[0]))
        .expect("navigate")
        .wait_until_navigated()
        .expect("item page");
    assert!(text(&tab, "#seller").contains("王小店"));
    type_into(&tab, "#r-name", "赵女士");
    type_into(&tab, "#r-phone", "13600136000");
    tab.find_element("#r-quantity")
        .expect("quantity")
        .click()
        .expect("click");
    tab.press_key("Backspace").expect("clear");
    tab.type_str("2").expect("quantity");
    keep_screenshot(&tab, "retail-4-reorder");
    click(&tab, "#reorder-submit");
    tab.wait_for_element("#answer").expect("the answer");
    assert!(text(&tab, "#answer").contains("已提交给 王小店"));
    keep_screenshot(&tab, "retail-5-reordered");

    // The shop fulfils the scan order by scanning two more items.
    sign_in(&tab, &base, "shop-wang", PASSWORD, "nav.shell");
    click(&tab, "nav.shell a[href=\"/agent/retail\"]");
    tab.wait_for_element("#o2o [data-fulfil]")
        .expect("the scan order");
    assert!(text(&tab, "#o2o").contains("赵女士 13600136000"));
    click(&tab, "#o2o [data-fulfil]");
    tab.wait_for_element("#fulfilling").expect("fulfilling");
    type_into(&tab, "#codes", &serials[2]);
    tab.press_key("Enter").expect("enter");
    tab.type_str(&serials[3]).expect("second scan");
    click(&tab, "#sell");
    wait_notice(&tab, "已开单");
    assert!(text(&tab, "#o2o").contains("没有待处理的扫码订单"));
    // A code not in stock sells nothing and says which.
    type_into(&tab, "#codes", &serials[0]);
    click(&tab, "#sell");
    wait_notice(&tab, "不能售出");
    assert!(text(&tab, "#notice").contains("此码不在您的库存中"));
    click(&tab, "#to-customers");
    tab.wait_for_element("#members [data-member]")
        .expect("members");
    let members = text(&tab, "#members");
    assert!(
        members.contains("赵女士") && members.contains("购买 2"),
        "{members}"
    );
    keep_screenshot(&tab, "retail-6-members");
    click(&tab, "form.signout button");
    tab.wait_for_element("#username").expect("signed out");

    // The warehouse at its desk: a printer, a label, a tracking event.
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::new(Mutex::new(Vec::new()));
    let printer = std::net::TcpListener::bind("127.0.0.1:0").expect("the printer's port");
    let printer_addr = printer.local_addr().expect("address");
    let seen = got.clone();
    std::thread::spawn(move || {
        for conn in printer.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut bytes = Vec::new();
            let _ = conn.read_to_end(&mut bytes);
            seen.lock().expect("lock").push(bytes);
        }
    });
    desk(&tab);
    sign_in(&tab, &base, "wh-li", PASSWORD, "nav.shell");
    tab.navigate_to(&format!("{base}/warehouse"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("warehouse");
    click(&tab, "#to-printers a");
    type_into(&tab, "#printer-warehouse", "杭州总仓");
    type_into(&tab, "#printer-name", "发货台一号");
    type_into(&tab, "#printer-address", &printer_addr.to_string());
    click(&tab, "#add-printer");
    wait_notice(&tab, "已添加打印机");
    tab.navigate_to(&format!("{base}/hq/orders/{order}"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("order page");
    click(&tab, "#print-label button[type=submit]");
    wait_notice(&tab, "面单已加入打印队列");
    type_into(&tab, "#t-detail", "已到达杭州转运中心");
    click(&tab, "#tracking-form button[type=submit]");
    wait_notice(&tab, "物流信息已添加");
    assert!(text(&tab, "#tracking").contains("已到达杭州转运中心"));
    keep_screenshot(&tab, "retail-7-order-label-tracking");

    // Another instance's sender prints it; the queue says so; the printer got it once.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let round = runtime
        .block_on(chainmark_server::printing::run_once(
            &second.db,
            "second",
            chainmark_server::store::users::now(),
        ))
        .expect("round");
    assert_eq!(round.printed, 1);
    tab.navigate_to(&format!("{base}/warehouse/printers"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("printers");
    let queue = text(&tab, "#jobs");
    assert!(
        queue.contains("已打印") && queue.contains("SF1357924680"),
        "{queue}"
    );
    assert!(text(&tab, "#printers").contains("正常"));
    keep_screenshot(&tab, "retail-8-printed");
    let received = got.lock().expect("lock").clone();
    assert_eq!(received.len(), 1, "one label");
    let picture = codegen::card::decode_graphic(&String::from_utf8_lossy(&received[0]))
        .expect("a graphic field");
    match codegen::decode::decode_gray(picture).expect("decode") {
        codegen::decode::Decoded::Payloads(p) => {
            assert_eq!(p, [format!("{base}/agent/orders/{order}")]);
        }
        codegen::decode::Decoded::Unreadable => panic!("the label's QR does not read"),
    }
}
