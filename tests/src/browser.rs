//! Headless Chromium, driven over the DevTools protocol with `headless_chrome`. The browser is
//! the machine's own (`CHAINMARK_CHROMIUM`, else `/usr/bin/chromium`); nothing is downloaded.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use headless_chrome::protocol::cdp::Emulation::SetDeviceMetricsOverride;
use headless_chrome::{Browser, LaunchOptions, Tab};

/// Chromium's path, or `None` (with a note) when it is missing; under CI a missing browser fails.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHAINMARK_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !crate::ci(),
        "CI=true but Chromium is not at {} (set CHAINMARK_CHROMIUM or install chromium)",
        path.display()
    );
    eprintln!(
        "note: Chromium not found at {}: skipping the browser test (set CHAINMARK_CHROMIUM)",
        path.display()
    );
    None
}

/// A phone-sized headless browser with a fresh profile in `profile_dir`.
pub fn launch(chromium: &Path, profile_dir: &Path) -> Browser {
    let args = [
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
    ];
    let options = LaunchOptions::default_builder()
        .path(Some(chromium.to_path_buf()))
        .sandbox(false)
        .headless(true)
        .window_size(Some((390, 844)))
        .user_data_dir(Some(profile_dir.to_path_buf()))
        .idle_browser_timeout(Duration::from_secs(120))
        .args(args.iter().map(OsStr::new).collect())
        .build()
        .expect("browser options");
    Browser::new(options).expect("launch Chromium")
}

/// A phone's browser in China.
const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

/// Makes `tab` a phone in China: a 390×844 screen (a desktop window cannot be narrower than
/// 500 px) and `Accept-Language: zh-CN`, as most phones scanning these codes send.
pub fn phone(tab: &Tab) {
    tab.set_user_agent(PHONE_UA, Some("zh-CN,zh;q=0.9,en;q=0.5"), Some("Android"))
        .expect("phone user agent");
    tab.call_method(SetDeviceMetricsOverride {
        width: 390,
        height: 844,
        device_scale_factor: 2.0,
        mobile: true,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .expect("phone screen");
}

/// Keeps a screenshot of `tab` as `{name}.png` in `CHAINMARK_SCREENSHOT_DIR`, when that is set
/// (for a person to look at; never kept in the repository).
pub fn keep_screenshot(tab: &Tab, name: &str) {
    let Ok(dir) = std::env::var("CHAINMARK_SCREENSHOT_DIR") else {
        return;
    };
    let png = tab
        .capture_screenshot(
            headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption::Png,
            None,
            None,
            true,
        )
        .expect("screenshot");
    let path = std::path::Path::new(&dir).join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Makes `tab` HQ's desk in China: a 1366×900 screen and `Accept-Language: zh-CN`.
pub fn desk(tab: &Tab) {
    tab.set_user_agent(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        Some("zh-CN,zh;q=0.9,en;q=0.5"),
        Some("Linux"),
    )
    .expect("desk user agent");
    tab.call_method(SetDeviceMetricsOverride {
        width: 1366,
        height: 900,
        device_scale_factor: 1.0,
        mobile: false,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .expect("desk screen");
}
