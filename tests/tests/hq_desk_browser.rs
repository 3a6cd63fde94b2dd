//! HQ's desk (issue 18) in headless Chromium at 1366×900, zh-CN, by clicks and typing:
//! the admin decides applications (custom fields shown, a rejection with its reason), creates a
//! finance user, registers a handheld and sees its provisioning QR, voids a range of codes after
//! the confirmation step and releases a range for sale, finds an agent's order on the orders desk
//! and accepts it; finance lands on the money desk,
//! approves and pays a withdrawal with a bank reference, generates the month's statements and
//! downloads one; the warehouse opens a pick list with the CMORDER QR. Then a crawl per role
//! (`crawl`): every link of every page reached answers 2xx/3xx, every page links its role's
//! home, no zh-CN page shows an internal key.
//!
//! The server runs in this process on a real SQLite file, with a batch written by codegen's
//! library and imported through the registry.

use chainmark_server::accounts;
use chainmark_server::app::App;
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::{Account, HqAccount, PaidVia, Posting};
use chainmark_server::joining::{self, ApplicationInput};
use chainmark_server::network::{Actor, agents, orders, payment, withdrawals};
use chainmark_server::registry::{self, ImportOptions};
use chainmark_server::store::network::ledger::{self as ledger_store, Meta};
use chainmark_server::store::network::{agent_id, withdrawals as withdrawal_store};
use chainmark_server::store::{desk as desk_store, users};
use chainmark_tests::browser::{chromium, desk, keep_screenshot, launch};
use chainmark_tests::browser_steps::{
    self, click, eval, serve, sign_out, text, type_into, wait_notice,
};
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;
use diesel::prelude::*;
use headless_chrome::Tab;
use serde_json::Value;

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "desk-browser-password-1";

/// Signs in with the scenario's password.
fn sign_in(tab: &Tab, base: &str, username: &str, landmark: &str) {
    browser_steps::sign_in(tab, base, username, PASSWORD, landmark);
}

/// Internal values that must never reach a person (whole words of a zh-CN page's text).
const INTERNAL: &[&str] = &[
    "hq:cash",
    "hq:sales",
    "hq:payables",
    "hq:rebate_expense",
    "awaiting_hq",
    "awaiting_supplier",
    "requested",
    "approved",
    "rejected",
    "submitted",
    "accepted",
    "forwarded",
    "shipping",
    "shipped",
    "completed",
    "cancelled",
    "partially_refunded",
    "hq_admin",
    "hq_finance",
    "hq_auditor",
    "national",
    "provincial",
    "district",
    "special",
    "genuine_first",
    "not_genuine",
    "recalled",
    "void",
];

/// Crawls every same-site link reachable from the role's home (two clicks deep), from inside
/// the signed-in page (its cookies), and answers the problems found.
fn crawl(tab: &Tab, home: &str) -> Vec<String> {
    let internal = serde_json::to_string(INTERNAL).expect("json");
    let js = format!(
        r#"(async () => {{
        const internal = {internal};
        const home = {home:?};
        const seen = new Set([home]);
        let frontier = [home];
        const problems = [];
        for (let depth = 0; depth < 3 && frontier.length; depth++) {{
            const next = [];
            for (const url of frontier) {{
                const r = await fetch(url, {{ credentials: 'same-origin', redirect: 'follow' }});
                if (r.status >= 400) {{ problems.push(url + ' answers ' + r.status); continue; }}
                const type = r.headers.get('content-type') || '';
                if (!type.startsWith('text/html')) continue;
                const html = await r.text();
                const doc = new DOMParser().parseFromString(html, 'text/html');
                // The password page is the one signed-in page outside the shell (a one-time
                // password must be changed before anything else): it links the sign-in only.
                if (url !== '/account/password' && !doc.querySelector('nav.shell a.brand[href="' + home + '"]')) problems.push(url + ' has no link home');
                // The raw policy document (textarea, pre) is the experts' view, not words.
                for (const raw of doc.querySelectorAll('textarea, pre')) raw.remove();
                const words = (doc.body ? doc.body.innerText || doc.body.textContent : '');
                if (doc.documentElement.lang === 'zh-CN') {{
                    for (const key of internal) {{
                        const re = new RegExp('(^|[^A-Za-z_:])' + key.replace(':', '\\:') + '($|[^A-Za-z_])');
                        if (re.test(words)) problems.push(url + ' shows ' + key);
                    }}
                }}
                for (const a of doc.querySelectorAll('a[href^="/"]')) {{
                    const href = a.getAttribute('href');
                    if (href.includes('lang=') || href.startsWith('/api/') || href === '/login') continue;
                    if (!seen.has(href)) {{ seen.add(href); next.push(href); }}
                }}
            }}
            frontier = next;
        }}
        return JSON.stringify({{ problems, pages: seen.size }});
    }})()"#
    );
    let out = eval(tab, &js);
    let out: Value = serde_json::from_str(out.as_str().expect("a string")).expect("json");
    let pages = out["pages"].as_u64().unwrap_or(0);
    assert!(pages >= 2, "the crawl from {home} found pages: {out}");
    out["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn hq_staff_run_the_brand_from_the_desk() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let base = format!("http://{addr}");

    let key_path = dir.path().join("master.key");
    let key = MasterKey::generate_to(&key_path).expect("master key");
    let device_key = dir.path().join("device.key");
    chainmark_server::ingest::device_key::DeviceKey::load_or_create(&device_key)
        .expect("device key");
    let mut settings = Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.path().join("chainmark.db").display()),
        key_files: vec![key_path],
        base_url: base.clone(),
        ..Settings::default()
    };
    settings.mqtt.device_key_file = Some(device_key);
    settings.mqtt.public_url = Some("mqtt://127.0.0.1:1883".into());
    let app = App::open(settings).expect("open the app");
    let mut conn = app.db.get().expect("connection");

    let batch_dir = dir.path().join("batch");
    let mut spec = BatchSpec::new(SKU, 40, &base, &batch_dir);
    spec.case_size = 4;
    write_batch(&spec, &key, &mut |_| {}).expect("write the batch");
    registry::import_batch(
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
    let batch_id = chainmark_server::store::batches::list(&mut conn, 1).expect("batches")[0]
        .id
        .clone();
    let serials: Vec<String> = {
        use chainmark_server::store::schema::items;
        items::table
            .filter(items::batch_id.eq(&batch_id))
            .order(items::item_index)
            .select(items::serial)
            .load(&mut conn)
            .expect("serials")
    };

    let (admin, _) = accounts::create_user(
        &mut conn,
        "hq-admin",
        "总部管理员",
        Role::HqAdmin,
        Some(PASSWORD),
    )
    .expect("admin");
    accounts::create_user(
        &mut conn,
        "fin-li",
        "李会计",
        Role::HqFinance,
        Some(PASSWORD),
    )
    .expect("finance");
    accounts::create_user(
        &mut conn,
        "wh-zhao",
        "赵仓管",
        Role::Warehouse,
        Some(PASSWORD),
    )
    .expect("warehouse");
    accounts::create_user(
        &mut conn,
        "aud-qian",
        "钱稽查",
        Role::HqAuditor,
        Some(PASSWORD),
    )
    .expect("auditor");
    let hq = Actor::Hq {
        user: admin.id,
        role: Role::HqAdmin,
    };
    // An agent with a paid entry order (the warehouse's pick list) and money to withdraw.
    let (user, _) =
        accounts::create_user(&mut conn, "agent-wu", "吴代理", Role::Agent, Some(PASSWORD))
            .expect("agent account");
    let agent = agents::create(
        &mut conn,
        agents::NewAgentInput {
            name: "吴代理".into(),
            tier: "special".into(),
            referrer_id: None,
            region: "330106".into(),
            user_id: Some(user.id),
        },
        Some(admin.id),
    )
    .expect("agent");
    let me = Actor::Agent {
        user: user.id,
        agent: agent.id,
    };
    let entry = orders::submit(&mut conn, me, &orders::OrderInput::single(SKU, 4))
        .expect("entry order")
        .id;
    orders::accept(&mut conn, entry, hq).expect("accept");
    payment::pay(&mut conn, entry, PaidVia::Offline, hq).expect("paid");
    let deposit = Posting::transfers(
        format!("deposit:{}", agent.id),
        [(
            Account::Hq(HqAccount::Cash),
            Account::available(agent_id(agent.id)),
            "300.00".parse().expect("amount"),
        )],
    )
    .expect("posting");
    ledger_store::book(
        &mut conn,
        &deposit,
        Meta {
            kind: chainmark_server::domain::network::PostingKind::Deposit,
            ..Meta::default()
        },
    )
    .expect("deposit");
    // A second agent's entry order, waiting for HQ's answer (the orders desk's walk).
    let waiting = {
        let (user, _) = accounts::create_user(
            &mut conn,
            "agent-chen",
            "陈代理",
            Role::Agent,
            Some(PASSWORD),
        )
        .expect("agent account");
        let chen = agents::create(
            &mut conn,
            agents::NewAgentInput {
                name: "陈代理".into(),
                tier: "special".into(),
                referrer_id: None,
                region: "330106".into(),
                user_id: Some(user.id),
            },
            Some(admin.id),
        )
        .expect("agent");
        let chen = Actor::Agent {
            user: user.id,
            agent: chen.id,
        };
        orders::submit(&mut conn, chen, &orders::OrderInput::single(SKU, 4))
            .expect("entry order")
            .id
    };
    let withdrawal = withdrawals::request(&mut conn, me, "120.00".parse().expect("amount"))
        .expect("withdrawal")
        .id;
    // Two applications to HQ with a custom field.
    let field = chainmark_server::domain::joining::FieldDef::check(
        "shop",
        "店铺名称",
        "Shop",
        true,
        "text",
        "",
    )
    .expect("field");
    joining::add_field(&mut conn, hq, field).expect("add field");
    let code = joining::invite(&mut conn, hq, agent.id, Some("provincial"))
        .expect("invite")
        .code;
    let mut apply = |name: &str, phone: &str, shop: &str| {
        joining::apply(
            &mut conn,
            &code,
            ApplicationInput {
                tier: None,
                name: name.into(),
                phone: phone.into(),
                region: "330106".into(),
                id_number: "33010619900101123X".into(),
                fields: [("shop".to_string(), shop.to_string())].into(),
            },
        )
        .expect("apply")
    };
    apply("周申请", "13800000001", "西湖茶庄");
    apply("郑申请", "13800000002", "拱墅茶行");
    drop(conn);
    let db = app.db.clone();
    serve(app, listener);

    let browser = launch(&chromium, &dir.path().join("profile"));
    let tab = browser.new_tab().expect("tab");
    desk(&tab);

    // The admin: the dashboard's to-do leads to the applications.
    sign_in(&tab, &base, "hq-admin", "#todo");
    assert!(
        tab.get_url().ends_with("/hq"),
        "admin's home: {}",
        tab.get_url()
    );
    keep_screenshot(&tab, "desk_admin_dashboard");
    click(&tab, "#todo-applications");
    tab.wait_for_element("[data-application]")
        .expect("applications");
    let page = text(&tab, "#applications");
    assert!(
        page.contains("西湖茶庄") && page.contains("店铺名称"),
        "custom fields shown: {page}"
    );
    assert!(page.contains("省代"), "the tier in words: {page}");
    keep_screenshot(&tab, "desk_applications");
    // Reject 郑 with a reason, approve 周.
    let reject = "[data-application]:nth-of-type(2) form[action$=\"/reject\"]";
    let second = text(&tab, "[data-application]:nth-of-type(2)");
    type_into(&tab, &format!("{reject} input[name=reason]"), "资料不全");
    click(&tab, &format!("{reject} button"));
    tab.wait_for_element("#notice").expect("rejected notice");
    let rejected_name = if second.contains("郑申请") {
        "郑申请"
    } else {
        "周申请"
    };
    let approved_name = if rejected_name == "郑申请" {
        "周申请"
    } else {
        "郑申请"
    };
    click(&tab, "[data-application] button[data-action=approve]");
    let password = text(&tab, "#password");
    assert!(password.len() >= 8, "a one-time password: {password:?}");
    assert!(text(&tab, "#approved").contains(approved_name));
    {
        let mut c = db.get().expect("connection");
        let left = desk_store::applications(
            &mut c,
            chainmark_server::domain::joining::Status::Rejected,
            None,
            0,
            10,
        )
        .expect("rejected");
        assert_eq!(left.rows.len(), 1);
        assert_eq!(left.rows[0].name, rejected_name);
        assert_eq!(left.rows[0].reason.as_deref(), Some("资料不全"));
    }

    // The admin creates a finance user.
    click(&tab, "nav.shell a[href=\"/hq/staff\"]");
    type_into(&tab, "#new-username", "fin-new");
    type_into(&tab, "#new-name", "新会计");
    tab.evaluate(
        "document.querySelector('#new-role').value = 'hq_finance'",
        false,
    )
    .expect("pick the role");
    click(&tab, "#create-user");
    let one_time = text(&tab, "#password");
    assert!(
        text(&tab, "#one-time").contains("总部财务"),
        "the role in words"
    );
    let created = users::find_by_username(&mut db.get().expect("connection"), "fin-new")
        .expect("find")
        .expect("created");
    assert_eq!(created.role, chainmark_server::domain::Role::HqFinance);
    assert!(created.must_change_password && !one_time.is_empty());
    // ... and disables the warehouse account of someone who left, then enables it again.
    click(&tab, "nav.shell a[href=\"/hq/staff\"]");
    click(&tab, "[data-user=\"wh-zhao\"] button[data-action=disable]");
    tab.wait_for_element("#notice").expect("disabled notice");
    assert!(
        users::find_by_username(&mut db.get().expect("connection"), "wh-zhao")
            .expect("find")
            .expect("user")
            .disabled
    );
    click(&tab, "[data-user=\"wh-zhao\"] button[data-action=enable]");
    tab.wait_for_element("#notice").expect("enabled notice");
    keep_screenshot(&tab, "desk_staff");

    // The admin registers a handheld and sees its provisioning QR.
    click(&tab, "nav.shell a[href=\"/hq/devices\"]");
    type_into(&tab, "#device-id", "hh-01");
    type_into(&tab, "#device-warehouse", "杭州仓");
    click(&tab, "#register-device");
    tab.wait_for_element("#provisioning-qr").expect("the QR");
    let loaded = eval(
        &tab,
        "new Promise(r => { const i = document.querySelector('#provisioning-qr'); \
         if (i.complete) r(i.naturalWidth); else i.onload = () => r(i.naturalWidth); })",
    );
    assert!(
        loaded.as_u64().unwrap_or(0) > 100,
        "the QR image loaded: {loaded}"
    );
    keep_screenshot(&tab, "desk_device_qr");

    // The admin finds an agent, moves its region (province first, then the city) and issues
    // it a certificate for 180 days.
    click(&tab, "nav.shell a[href=\"/hq/agents\"]");
    type_into(&tab, "form input[name=q]", "吴代理");
    tab.press_key("Enter").expect("search");
    click(&tab, &format!("tr[data-agent=\"{}\"] a", agent.id));
    tab.wait_for_element("#manage").expect("the admin's forms");
    eval(&tab, "document.querySelector('#province').value = '330000'");
    click(&tab, "#pick-province");
    tab.wait_for_element("#region-form")
        .expect("the province's regions");
    eval(&tab, "document.querySelector('#region').value = '330100'");
    click(&tab, "#set-region");
    wait_notice(&tab, "杭州市");
    click(&tab, "#certificate-days");
    eval(
        &tab,
        "document.querySelector('#certificate-days').value = ''",
    );
    tab.type_str("180").expect("days");
    click(&tab, "#issue-certificate");
    wait_notice(&tab, "已发放授权证书");
    keep_screenshot(&tab, "desk_agent_manage");

    // The admin makes a product and uploads its picture from the desktop's file picker.
    click(&tab, "nav.shell a[href=\"/hq/products\"]");
    type_into(&tab, "#new-sku", "OOLONG-100");
    type_into(&tab, "#new-name", "乌龙茶 100g");
    type_into(&tab, "#new-name-en", "Oolong 100 g");
    click(&tab, "#create-product");
    tab.wait_for_element("#notice").expect("created notice");
    let photo = dir.path().join("oolong.png");
    image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([(x / 5) as u8, (y / 4) as u8, 90])
    })
    .save(&photo)
    .expect("a photograph");
    tab.wait_for_element("[data-product=\"OOLONG-100\"] input[type=file]")
        .expect("the file input")
        .set_input_files(&[photo.to_str().expect("path")])
        .expect("choose the file");
    click(&tab, "button[data-upload=\"OOLONG-100\"]");
    tab.wait_for_element("#notice").expect("uploaded notice");
    let shown = eval(
        &tab,
        "new Promise(r => { const i = document.querySelector('[data-product=\"OOLONG-100\"] img'); \
         if (!i) r(0); else if (i.complete) r(i.naturalWidth); else i.onload = () => r(i.naturalWidth); })",
    );
    assert_eq!(
        shown.as_u64(),
        Some(800),
        "the stored picture, 800 px wide: {shown}"
    );
    keep_screenshot(&tab, "desk_products");

    // The admin voids a range after the confirmation step, and releases another range.
    click(&tab, "nav.shell a[href=\"/hq\"]");
    let void = "form[data-form=void]";
    type_into(
        &tab,
        &format!("{void} input[name=from_serial]"),
        &serials[30],
    );
    type_into(&tab, &format!("{void} input[name=to_serial]"), &serials[34]);
    type_into(&tab, &format!("{void} input[name=reason]"), "标签印错");
    click(&tab, &format!("{void} button"));
    assert_eq!(
        text(&tab, "#confirm-count").trim(),
        "5",
        "the confirmation says how many"
    );
    keep_screenshot(&tab, "desk_void_confirm");
    let status_of = |serial: &str| -> String {
        use chainmark_server::store::schema::items;
        items::table
            .filter(items::serial.eq(serial))
            .select(items::status)
            .first::<chainmark_server::domain::custody::ItemStatus>(
                &mut db.get().expect("connection"),
            )
            .expect("status")
            .as_str()
            .to_string()
    };
    assert_eq!(
        status_of(&serials[30]),
        "active",
        "nothing changed before confirming"
    );
    click(&tab, "#confirm-button");
    tab.wait_for_element("#batches")
        .expect("back on the console");
    assert_eq!(status_of(&serials[30]), "voided");
    assert_eq!(status_of(&serials[35]), "active");
    let release = "form[data-form=release]";
    type_into(
        &tab,
        &format!("{release} input[name=from_serial]"),
        &serials[20],
    );
    type_into(
        &tab,
        &format!("{release} input[name=to_serial]"),
        &serials[23],
    );
    click(&tab, &format!("{release} button"));
    assert!(text(&tab, "#notice").contains('4'), "four released");

    // The orders desk: from the navigation, search the agent, open its order, accept it.
    click(&tab, "nav.shell a[href=\"/hq/orders\"]");
    tab.wait_for_element("#order-filters")
        .expect("the orders desk");
    type_into(&tab, "#q", "陈代理");
    click(&tab, "#search");
    tab.wait_for_element(&format!("tr[data-order=\"{waiting}\"]"))
        .expect("the order found");
    let rows = eval(&tab, "document.querySelectorAll('tr[data-order]').length");
    assert_eq!(rows.as_u64(), Some(1), "only 陈代理's order");
    let row = text(&tab, &format!("tr[data-order=\"{waiting}\"]"));
    assert!(row.contains("首批进货") && row.contains("待接单"), "{row}");
    keep_screenshot(&tab, "desk_orders");
    click(&tab, &format!("tr[data-order=\"{waiting}\"] a"));
    click(&tab, "#do-accept button");
    let notice = text(&tab, "#notice");
    assert!(notice.contains("已接单"), "{notice}");
    assert!(text(&tab, "#order-state").contains("已接单"));
    keep_screenshot(&tab, "desk_order_accepted");
    {
        use chainmark_server::store::network::orders as order_store;
        let row = order_store::get(&mut db.get().expect("connection"), waiting).expect("order");
        assert_eq!(
            row.state,
            chainmark_server::domain::network::OrderState::Accepted
        );
    }
    let problems = crawl(&tab, "/hq");
    assert!(problems.is_empty(), "admin's crawl: {problems:#?}");
    sign_out(&tab);

    // Finance lands on the money desk, approves and pays the withdrawal, downloads a statement.
    sign_in(&tab, &base, "fin-li", "#withdrawals");
    assert!(
        tab.get_url().ends_with("/hq/money"),
        "finance's home: {}",
        tab.get_url()
    );
    let accounts = text(&tab, "#accounts");
    assert!(
        accounts.contains("总部银行账户") && !accounts.contains("hq:"),
        "{accounts}"
    );
    keep_screenshot(&tab, "desk_money");
    let row = format!("[data-withdrawal=\"{withdrawal}\"]");
    click(&tab, &format!("{row} button[data-action=approve]"));
    tab.wait_for_element("#notice").expect("approved");
    type_into(
        &tab,
        &format!("{row} input[name=reference]"),
        "ICBC-20261207-0042",
    );
    click(&tab, &format!("{row} button[data-action=paid]"));
    tab.wait_for_element("#notice").expect("paid");
    let w = withdrawal_store::get(&mut db.get().expect("connection"), withdrawal).expect("w");
    assert_eq!(
        (w.status.as_str(), w.reference.as_deref()),
        ("paid", Some("ICBC-20261207-0042"))
    );
    // This month's statements (the money moved today): pick the month, show it, generate.
    eval(
        &tab,
        "document.querySelector('#statements input[name=month]').value = \
         new Date().toISOString().slice(0, 7)",
    );
    click(&tab, "#statements form[method=get] button");
    tab.wait_for_element("#generate").expect("the month shown");
    click(&tab, "#generate");
    tab.wait_for_element(&format!("[data-statement=\"{}\"]", agent.id))
        .expect("the agent's statement");
    let csv = eval(
        &tab,
        &format!(
            "fetch(document.querySelector('[data-download=\"{}\"]').href).then(r => \
             r.headers.get('content-type') + '|' + r.status)",
            agent.id
        ),
    );
    assert_eq!(csv.as_str(), Some("text/csv; charset=utf-8|200"));
    let problems = crawl(&tab, "/hq/money");
    assert!(problems.is_empty(), "finance's crawl: {problems:#?}");
    sign_out(&tab);

    // The warehouse opens the pick list of the paid entry order.
    sign_in(&tab, &base, "wh-zhao", "#shipments");
    click(&tab, &format!("[data-pick=\"{entry}\"]"));
    let code = tab
        .wait_for_element("#pick-qr")
        .expect("the QR")
        .get_attribute_value("data-code")
        .expect("attribute");
    assert_eq!(code.as_deref(), Some(format!("CMORDER:{entry}").as_str()));
    assert!(eval(&tab, "!!document.querySelector('#pick-qr svg')").as_bool() == Some(true));
    keep_screenshot(&tab, "desk_pick_list");
    let problems = crawl(&tab, "/warehouse");
    assert!(problems.is_empty(), "warehouse's crawl: {problems:#?}");
    sign_out(&tab);

    // The auditor's crawl.
    sign_in(&tab, &base, "aud-qian", "#shell");
    let problems = crawl(&tab, "/hq/audit");
    assert!(problems.is_empty(), "auditor's crawl: {problems:#?}");
}
