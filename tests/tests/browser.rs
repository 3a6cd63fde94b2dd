//! A consumer in a phone-sized headless Chromium: opens the QR's page, types the security code,
//! sees "genuine, first verification"; opens it again and sees the repeat warning.

use chainmark_tests::browser::{chromium, launch, phone};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::server::Server;
use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;

/// Opens `url`, enters `code`, submits, and returns the verdict's `data-result`.
fn verify_in_page(tab: &Tab, url: &str, code: &str) -> String {
    tab.navigate_to(url)
        .expect("navigate")
        .wait_until_navigated()
        .expect("page loaded");
    tab.wait_for_element("#code")
        .expect("code field")
        .click()
        .expect("focus");
    tab.type_str(code).expect("type the code");
    tab.wait_for_element("button[type=submit]")
        .expect("submit button")
        .click()
        .expect("submit");
    let verdict = tab.wait_for_element("#verdict").expect("a verdict");
    verdict
        .get_attribute_value("data-result")
        .expect("read attribute")
        .expect("data-result")
}

#[test]
fn a_consumer_verifies_a_released_item_twice() {
    let Some(chromium) = chromium() else { return };
    let fixture = Fixture::issue(4);
    let server = Server::start(fixture.dir.path(), &fixture.env());
    let profile = fixture.dir.path().join("chromium-profile");
    let browser = launch(&chromium, &profile);
    let tab = browser.new_tab().expect("tab");
    phone(&tab);

    let item = &fixture.items[0];
    let url = server.url(&item.verify_path);
    assert_eq!(
        verify_in_page(&tab, &url, &item.security_code),
        "genuine_first"
    );
    let html = tab.get_content().expect("page source");
    assert!(html.contains("TEA-250G"), "the product is named");
    assert!(
        html.contains("<html lang=\"zh-CN\""),
        "a Chinese browser gets the Chinese page"
    );
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    let shot = fixture.dir.path().join("genuine_first.png");
    std::fs::write(&shot, &png).expect("write screenshot");
    if let Ok(keep) = std::env::var("CHAINMARK_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, std::path::Path::new(&keep).join("genuine_first.png"));
    }
    eprintln!("screenshot: {} ({} bytes)", shot.display(), png.len());

    assert_eq!(
        verify_in_page(&tab, &url, &item.security_code),
        "genuine_repeat"
    );
    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .expect("screenshot");
    if let Ok(keep) = std::env::var("CHAINMARK_SCREENSHOT_DIR") {
        let _ = std::fs::write(std::path::Path::new(&keep).join("genuine_repeat.png"), &png);
    }
}
