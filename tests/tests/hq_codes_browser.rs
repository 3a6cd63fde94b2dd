//! Codes from HQ's desk in a real browser (issues 18 and 20), at 1366×900 in Chinese: the admin
//! opens the batches page from the navigation, makes a batch and watches its progress reach
//! done, releases a range after the confirmation step, downloads a label sheet (its QR codes
//! read back) and a code pack (decrypted with the password the page showed once; reloading does
//! not show it again); the warehouse opens a pick list and downloads the packing slip (its text
//! and QR read back).

use std::io::Read;
use std::time::{Duration, Instant};

use chainmark_server::accounts;
use chainmark_server::app::App;
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::network::{Actor, agents, orders, payment};
use chainmark_server::registry::{self, ProductInput};
use chainmark_tests::browser::{chromium, desk, keep_screenshot, launch};
use chainmark_tests::browser_steps::{
    click, download, eval, href, serve, sign_in, sign_out, text, type_into, wait_notice, wait_text,
};
use codegen::keys::MasterKey;
use codegen::serial::{BatchId, Serial};

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "codes-browser-password-1";

fn decrypt(pack: &[u8], password: &str) -> Option<Vec<u8>> {
    let identity =
        age::scrypt::Identity::new(age::secrecy::SecretString::from(password.to_string()));
    let mut reader = age::Decryptor::new(pack)
        .ok()?
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .ok()?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).ok()?;
    Some(out)
}

#[test]
fn hq_makes_a_batch_labels_and_a_code_pack_and_the_warehouse_a_packing_slip() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let base = format!("http://{addr}");
    let key_path = dir.path().join("master.key");
    MasterKey::generate_to(&key_path).expect("master key");
    let settings = Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.path().join("chainmark.db").display()),
        key_files: vec![key_path],
        base_url: base.clone(),
        ..Settings::default()
    };
    let app = App::open(settings).expect("open the app");
    let mut conn = app.db.get().expect("connection");
    let product = registry::create_product(
        &mut conn,
        ProductInput {
            sku: SKU.into(),
            name: "明前龙井 250克".into(),
            name_en: Some("Mingqian Longjing 250 g".into()),
            case_size: Some(24),
            ..ProductInput::default()
        },
    )
    .expect("product");
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
        "wh-zhao",
        "赵仓管",
        Role::Warehouse,
        Some(PASSWORD),
    )
    .expect("warehouse");
    let hq = Actor::Hq {
        user: admin.id,
        role: Role::HqAdmin,
    };
    // An agent's entry order: paid once HQ holds the batch made below, the warehouse's pick list.
    let (user, _) =
        accounts::create_user(&mut conn, "agent-wu", "吴代理", Role::Agent, Some(PASSWORD))
            .expect("agent account");
    let agent = agents::create(
        &mut conn,
        agents::NewAgentInput {
            name: "杭州吴记茶行".into(),
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
    drop(conn);
    let db = app.db.clone();
    serve(app, listener);

    let browser = launch(&chromium, &dir.path().join("profile"));
    let tab = browser.new_tab().expect("tab");
    desk(&tab);
    sign_in(&tab, &base, "hq-admin", PASSWORD, "#shell");

    // The batches page from the navigation; a batch of 500 codes.
    click(&tab, "#shell a[href=\"/hq/batches\"]");
    tab.wait_for_element("#new-batch").expect("the form");
    keep_screenshot(&tab, "codes_batches");
    eval(
        &tab,
        &format!(
            "document.querySelector('#new-product').value = '{}'; \
             document.querySelector('#new-date').value = '2026-12-01'; true",
            product.id
        ),
    );
    // A count the page refuses, in words; nothing starts.
    type_into(&tab, "#new-items", "2000000");
    click(&tab, "#create-batch");
    wait_text(
        &tab,
        "#new-batch-problem",
        "1,000,000",
        Duration::from_secs(15),
    );
    keep_screenshot(&tab, "codes_refused");
    eval(
        &tab,
        &format!(
            "document.querySelector('#new-product').value = '{}'; \
             document.querySelector('#new-items').value = ''; true",
            product.id
        ),
    );
    type_into(&tab, "#new-items", "500");
    type_into(&tab, "#new-note", "首批试产");
    click(&tab, "#create-batch");
    tab.wait_for_element("#job").expect("the job's page");
    keep_screenshot(&tab, "codes_progress");
    // The page refreshes itself until the job is done.
    let start = Instant::now();
    loop {
        let phase = eval(
            &tab,
            "(document.querySelector('#job') || {dataset: {}}).dataset.phase || ''",
        );
        if phase.as_str() == Some("done") {
            break;
        }
        assert_ne!(phase.as_str(), Some("failed"), "{}", text(&tab, "#job"));
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the job never ended"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(text(&tab, "#job-percent").starts_with("100%"));
    keep_screenshot(&tab, "codes_done");
    click(&tab, "#job-batch");
    tab.wait_for_element("#batch").expect("the batch's page");
    let batch_id = eval(&tab, "document.querySelector('#batch').dataset.batch")
        .as_str()
        .expect("batch id")
        .to_string();
    let id = BatchId::parse(&batch_id).expect("batch id");
    let serial = |i: u64| Serial::new(&id, i).expect("serial").to_string();
    assert_eq!(text(&tab, "[data-count=hq]"), "500");
    keep_screenshot(&tab, "codes_batch");

    // Release ten codes, after the confirmation step.
    let release = "form[data-form=release]";
    type_into(
        &tab,
        &format!("{release} input[name=from_serial]"),
        &serial(0),
    );
    type_into(
        &tab,
        &format!("{release} input[name=to_serial]"),
        &serial(9),
    );
    click(&tab, &format!("{release} button"));
    assert_eq!(text(&tab, "#confirm-count"), "10");
    keep_screenshot(&tab, "codes_release_confirm");
    click(&tab, "#confirm-button");
    wait_notice(&tab, "10");
    assert_eq!(text(&tab, "[data-count=released]"), "10");
    assert_eq!(text(&tab, "[data-count=hq]"), "490");

    // A label sheet: the first page's 24 QR codes are the first items' URLs.
    let (status, pdf) = download(&tab, &base, &href(&tab, "#labels-pdf"));
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-"));
    // 4 × 6 labels inside a margin of 28 points (`codegen::label::pdf::SheetLayout`).
    if let Some(codes) = chainmark_test_support::pdf::sheet_codes(&pdf, 1, 4, 6, 28.0) {
        assert_eq!(codes.len(), 24, "{codes:?}");
        assert!(codes.iter().any(|c| c.contains(&serial(0))));
        assert!(codes.iter().any(|c| c.contains(&serial(23))));
        assert!(
            codes
                .iter()
                .all(|c| c.starts_with(&format!("{base}/v/{batch_id}")))
        );
    }

    // The code pack: the password shown once, the pack decrypts to the print file.
    click(&tab, "#make-pack");
    let password = text(&tab, "#pack-password");
    keep_screenshot(&tab, "codes_pack_password");
    let (status, pack) = download(&tab, &base, &href(&tab, "#pack-download"));
    assert_eq!(status, 200);
    let print = std::fs::read(dir.path().join("batches").join(&batch_id).join("print.csv"))
        .expect("the print file");
    assert_eq!(decrypt(&pack, &password).as_deref(), Some(print.as_slice()));
    assert!(decrypt(&pack, "not-the-password-0000").is_none());
    // Reloading sends the same form again: nothing is made and no password is shown.
    tab.reload(false, None).expect("reload");
    tab.wait_for_element("#batch")
        .expect("back on the batch's page");
    let page = eval(&tab, "document.body.innerText");
    assert!(
        !page.as_str().unwrap_or_default().contains(&password),
        "the password is shown once"
    );
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#packs tbody tr').length").as_u64(),
        Some(1),
        "one pack"
    );
    sign_out(&tab);
    {
        let mut conn = db.get().expect("connection");
        orders::accept(&mut conn, entry, hq).expect("accept");
        payment::pay(&mut conn, entry, PaidVia::Offline, hq).expect("paid");
    }

    // The warehouse: a pick list and its packing slip.
    sign_in(&tab, &base, "wh-zhao", PASSWORD, "#shipments");
    click(&tab, &format!("[data-pick=\"{entry}\"]"));
    tab.wait_for_element("#pick-list").expect("the pick list");
    keep_screenshot(&tab, "codes_pick_list");
    let (status, slip) = download(&tab, &base, &href(&tab, "#packing-slip"));
    assert_eq!(status, 200);
    if let Some(words) = chainmark_test_support::pdf::text(&slip) {
        for want in [
            "装箱单",
            "杭州吴记茶行",
            "明前龙井 250克",
            SKU,
            &format!("#{entry}"),
        ] {
            assert!(words.contains(want), "{want} not in {words}");
        }
    }
    if let Some(codes) = chainmark_test_support::pdf::qr_codes(&slip, 1) {
        assert_eq!(codes, vec![format!("CMORDER:{entry}")]);
    }
    if let (Ok(shots), Some(png)) = (
        std::env::var("CHAINMARK_SCREENSHOT_DIR"),
        chainmark_test_support::pdf::render(&slip, 1, 80),
    ) {
        std::fs::write(
            std::path::Path::new(&shots).join("codes_packing_slip.png"),
            png,
        )
        .expect("keep the slip");
    }
}
