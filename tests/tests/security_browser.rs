//! The pages under their Content-Security-Policy (issue 15, item 8), in headless Chromium: the
//! inline style sheet applies, style attributes apply, and the verification page's inline
//! script runs (it reveals the "share my location" button), while a script the page did not
//! ship is blocked.

use chainmark_tests::browser::{chromium, launch, phone};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::Server;

#[test]
fn the_pages_own_style_and_script_work_under_the_csp() {
    let Some(chromium) = chromium() else { return };
    let fixture = Fixture::issue(2);
    let server = Server::start(fixture.dir.path(), &fixture.env());
    let profile = fixture.dir.path().join("chromium-profile");
    let browser = launch(&chromium, &profile);
    let tab = browser.new_tab().expect("tab");
    phone(&tab);
    let url = server.url(&fixture.items[0].verify_path);
    tab.navigate_to(&url)
        .expect("navigate")
        .wait_until_navigated()
        .expect("page loaded");
    tab.wait_for_element("#code").expect("the code form");
    let eval = |js: &str| -> String {
        tab.evaluate(js, false)
            .expect("evaluate")
            .value
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    // The inline style sheet (by its hash).
    assert_eq!(
        eval("getComputedStyle(document.body).backgroundColor"),
        "\"rgb(245, 245, 244)\"",
        "the inline style sheet is blocked"
    );
    // The inline script (by its hash) un-hides the location button…
    assert_eq!(
        eval("document.getElementById('geo').hidden"),
        "false",
        "the inline script is blocked"
    );
    // …whose style attribute applies.
    assert_eq!(
        eval("getComputedStyle(document.getElementById('geo')).backgroundColor"),
        "\"rgb(87, 83, 78)\"",
        "style attributes are blocked"
    );
    // A script the page did not ship does not run.
    eval(
        "(function(){var s=document.createElement('script');s.textContent='window.injected=1';\
         document.body.appendChild(s);})()",
    );
    assert_eq!(
        eval("typeof window.injected"),
        "\"undefined\"",
        "CSP lets any inline script run"
    );
}
