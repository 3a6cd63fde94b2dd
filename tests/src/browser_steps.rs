//! The steps of a browser scenario on the desk, shared by the browser tests: serve an app
//! in-process, sign in, click, type, read, wait for a notice, evaluate a script, download a file
//! with the browser's own session.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chainmark_server::app::{self, App};
use headless_chrome::Tab;
use serde_json::Value;

/// Serves `app` on `listener` from a thread of its own with a runtime of its own.
pub fn serve(app: App, listener: std::net::TcpListener) {
    listener.set_nonblocking(true).expect("non-blocking");
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

/// An app on a fresh SQLite database in `dir`, on a free local port: the app (not served yet,
/// so a test can seed its database first), its listener and its base address.
pub fn local_app(dir: &std::path::Path) -> (App, std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let base = format!("http://{addr}");
    let settings = chainmark_server::config::Settings {
        listen: addr,
        database_url: format!("sqlite://{}", dir.join("chainmark.db").display()),
        base_url: base.clone(),
        ..chainmark_server::config::Settings::default()
    };
    (App::open(settings).expect("open the app"), listener, base)
}

/// Signs in on `/login` and waits for `landmark` on the page that follows.
pub fn sign_in(tab: &Tab, base: &str, username: &str, password: &str, landmark: &str) {
    tab.navigate_to(&format!("{base}/login"))
        .expect("navigate")
        .wait_until_navigated()
        .expect("login page");
    type_into(tab, "#username", username);
    type_into(tab, "#password", password);
    click(tab, "form[action=\"/login\"] button[type=submit]");
    tab.wait_for_element(landmark)
        .unwrap_or_else(|e| panic!("signed in as {username}, {landmark}: {e}"));
}

pub fn sign_out(tab: &Tab) {
    click(tab, "#shell-signout");
    tab.wait_for_element("#username").expect("signed out");
}

pub fn click(tab: &Tab, selector: &str) {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
}

pub fn type_into(tab: &Tab, selector: &str, text: &str) {
    click(tab, selector);
    tab.type_str(text)
        .unwrap_or_else(|e| panic!("type into {selector}: {e}"));
}

/// Empties a text box, then types into it.
pub fn replace_text(tab: &Tab, selector: &str, text: &str) {
    let js = format!(
        "document.querySelector({}).value = ''",
        serde_json::to_string(selector).expect("selector")
    );
    eval(tab, &js);
    type_into(tab, selector, text);
}

pub fn text(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_inner_text()
        .expect("inner text")
}

/// Waits until `selector`'s text says `needle` (a page may still be loading or refreshing).
pub fn wait_text(tab: &Tab, selector: &str, needle: &str, within: Duration) {
    let start = Instant::now();
    loop {
        let now = tab
            .find_element(selector)
            .and_then(|e| e.get_inner_text())
            .unwrap_or_default();
        if now.contains(needle) {
            return;
        }
        assert!(
            start.elapsed() < within,
            "{selector} never said {needle:?}: {now:?} on {}",
            tab.get_url()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the page's notice says `needle`.
pub fn wait_notice(tab: &Tab, needle: &str) {
    wait_text(tab, "#notice", needle, Duration::from_secs(15));
}

pub fn eval(tab: &Tab, js: &str) -> Value {
    tab.evaluate(js, true)
        .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
        .value
        .unwrap_or(Value::Null)
}

/// Downloads `href` (a path on `base`) with the tab's cookies, as its link would: the status
/// and the bytes. (Page scripts may fetch nothing under the pages' CSP, so the file is taken
/// with the browser's session cookie rather than from inside the page.)
pub fn download(tab: &Tab, base: &str, href: &str) -> (u16, Vec<u8>) {
    let cookies = tab.get_cookies().expect("cookies");
    let header = cookies
        .iter()
        .map(|c| format!("{}={}", c.name, c.value))
        .collect::<Vec<_>>()
        .join("; ");
    let response = reqwest::blocking::Client::new()
        .get(format!("{base}{href}"))
        .header("cookie", header)
        .header("accept-language", "zh-CN")
        .send()
        .expect("download");
    let status = response.status().as_u16();
    (status, response.bytes().expect("body").to_vec())
}

/// The `href` of the element `selector`.
pub fn href(tab: &Tab, selector: &str) -> String {
    tab.wait_for_element(selector)
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .get_attribute_value("href")
        .expect("attribute")
        .unwrap_or_else(|| panic!("{selector} has no href"))
}
