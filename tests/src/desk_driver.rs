//! Driving the served app in headless Chromium: serve an in-process [`App`] on a listener, sign
//! in, click, type, read and wait for a page's notice. Generic over pages, for the browser
//! scenarios (`tests/tests/*_browser.rs`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chainmark_server::app::{self, App};
use headless_chrome::Tab;
use serde_json::Value;

/// Serves `app` on `listener` from a thread of its own, for the rest of the test.
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

/// Signs in on `/login` and waits for `landmark` on the page it lands on.
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

/// Waits until the page's notice says `needle` (the form's answer may still be loading).
pub fn wait_notice(tab: &Tab, needle: &str) {
    let start = Instant::now();
    loop {
        let now = tab
            .find_element("#notice")
            .and_then(|e| e.get_inner_text())
            .unwrap_or_default();
        if now.contains(needle) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the notice never said {needle:?}: {now:?} on {}",
            tab.get_url()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn eval(tab: &Tab, js: &str) -> Value {
    tab.evaluate(js, true)
        .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
        .value
        .unwrap_or(Value::Null)
}
