//! HQ brings a network in from the browser (issue 23), on a desk (1366×900, zh-CN): signs in,
//! opens `/hq/import`, uploads a CSV with one bad row and sees the row named with nothing
//! imported, uploads a good XLSX workbook and sees the preview, confirms, and gets the agents'
//! one-time passwords once; the import is then listed. The server runs in this process on a real
//! SQLite file.

use std::net::SocketAddr;

use chainmark_server::accounts;
use chainmark_server::app::{self, App};
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::network_import::sample;
use chainmark_server::store::products::{self, NewProduct};
use chainmark_server::store::schema::agents;
use chainmark_server::store::users::now;
use chainmark_tests::browser::{chromium, desk, keep_screenshot, launch};
use diesel::prelude::*;
use headless_chrome::Tab;

const SKU: &str = "TEA-250G";
const PASSWORD: &str = "browser-test-password-1";

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

fn text(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_inner_text()
        .expect("text")
}

fn attribute(tab: &Tab, selector: &str, name: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_attribute_value(name)
        .expect("read attribute")
        .unwrap_or_else(|| panic!("{selector} has no {name}"))
}

/// Chooses `path` in the upload form and sends it; waits for `landmark` on the answer.
fn upload(tab: &Tab, path: &std::path::Path, landmark: &str) {
    let input = tab.wait_for_element("#files").expect("file input");
    input
        .set_input_files(&[path.to_str().expect("utf-8 path")])
        .expect("choose the file");
    tab.wait_for_element("#preview")
        .expect("preview button")
        .click()
        .expect("send");
    tab.wait_for_element(landmark)
        .unwrap_or_else(|e| panic!("{landmark} after uploading {}: {e}", path.display()));
}

#[test]
fn hq_uploads_previews_and_confirms_a_network() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let addr = listener.local_addr().expect("local address");
    let base = format!("http://{addr}");
    let settings = Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.path().join("chainmark.db").display()),
        base_url: base.clone(),
        ..Settings::default()
    };
    let app = App::open(settings).expect("open the app");
    let db = app.db.clone();
    {
        let mut conn = db.get().expect("connection");
        products::create(&mut conn, &NewProduct::named(SKU, "龙井 250克", 72)).expect("product");
        accounts::create_user(
            &mut conn,
            "hq-admin",
            "总部管理员",
            Role::HqAdmin,
            Some(PASSWORD),
        )
        .expect("HQ admin");
    }
    serve(app, listener);

    // The files: a CSV of agents whose row 4 names an unknown tier, and a good workbook.
    let s = sample::network(30, now().date(), SKU);
    let mut bad = s.csv_files().expect("csv").remove(0);
    let mut text_csv = String::from_utf8(bad.bytes.clone()).expect("utf-8");
    text_csv = text_csv.replacen(",special,", ",boss,", 1);
    let bad_row = text_csv
        .lines()
        .position(|l| l.contains(",boss,"))
        .expect("the bad row")
        + 1;
    bad.bytes = text_csv.into_bytes();
    let bad_path = dir.path().join("agents.csv");
    std::fs::write(&bad_path, &bad.bytes).expect("write");
    let good_path = dir.path().join("network.xlsx");
    std::fs::write(&good_path, s.xlsx_file("network.xlsx").expect("xlsx").bytes).expect("write");

    let browser = launch(&chromium, &dir.path().join("profile"));
    let tab = browser.new_tab().expect("tab");
    desk(&tab);
    tab.navigate_to(&format!("{base}/login?next=/hq/import"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("login page");
    tab.wait_for_element("#username")
        .expect("username")
        .click()
        .expect("focus");
    tab.type_str("hq-admin").expect("type");
    tab.wait_for_element("#password")
        .expect("password")
        .click()
        .expect("focus");
    tab.type_str(PASSWORD).expect("type");
    tab.wait_for_element("form[action=\"/login\"] button[type=submit]")
        .expect("sign in")
        .click()
        .expect("click");
    tab.wait_for_element("#upload").expect("the import page");
    assert!(
        text(&tab, "#shell").contains("导入网络"),
        "in the navigation"
    );
    assert!(text(&tab, "#templates").contains("模板(中文,XLSX)"));
    keep_screenshot(&tab, "import_upload_desk");

    upload(&tab, &bad_path, "#problems");
    assert_eq!(attribute(&tab, "#problems", "data-count"), "1");
    let problem = text(&tab, "#problems [data-problem=\"unknown_tier\"]");
    assert!(problem.contains("agents.csv"), "{problem}");
    assert!(
        problem.contains(&bad_row.to_string()),
        "row {bad_row}: {problem}"
    );
    assert!(
        problem.contains("等级“boss”不在当前等级政策中"),
        "{problem}"
    );
    assert!(text(&tab, "#problems").contains("没有导入任何数据"));
    keep_screenshot(&tab, "import_problems_desk");
    let mut conn = db.get().expect("connection");
    let count = |conn: &mut chainmark_server::store::PooledConn| -> i64 {
        agents::table
            .count()
            .get_result(&mut **conn)
            .expect("count")
    };
    assert_eq!(count(&mut conn), 0, "nothing imported");

    // The problems page offers the form again.
    upload(&tab, &good_path, "#ready");
    assert_eq!(attribute(&tab, "#ready", "data-agents"), "30");
    let preview = text(&tab, "#agents-preview");
    assert!(preview.contains(&sample::phone(0)), "{preview}");
    assert_eq!(count(&mut conn), 0, "a preview imports nothing");
    keep_screenshot(&tab, "import_preview_desk");

    tab.wait_for_element("#confirm-import")
        .expect("confirm")
        .click()
        .expect("click");
    tab.wait_for_element("#credentials").expect("the result");
    assert_eq!(attribute(&tab, "#credentials", "data-count"), "30");
    assert_eq!(text(&tab, "#imported-agents"), "30");
    let download = attribute(&tab, "#credentials-csv", "href");
    assert!(download.starts_with("data:text/csv"), "{download}");
    keep_screenshot(&tab, "import_done_desk");
    assert_eq!(count(&mut conn), 30);

    // Back on the page: the import is listed; its page shows no password.
    tab.navigate_to(&format!("{base}/hq/import"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("page");
    let listed = text(&tab, "#imports");
    assert!(listed.contains("network.xlsx"), "{listed}");
    tab.navigate_to(&format!("{base}/hq/import/1?lang=en"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("page");
    let summary = text(&tab, "#summary");
    assert!(summary.contains("Imported #1"), "{summary}");
    assert!(
        tab.find_element("#credentials").is_err(),
        "passwords shown once only"
    );
    keep_screenshot(&tab, "import_summary_desk_en");
}
