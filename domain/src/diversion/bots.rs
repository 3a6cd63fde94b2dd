//! Obvious bots do not count as sightings: no browser, a crawler's user agent, or a burst of
//! requests from one client address.

/// More verifications than this from one client address within [`BURST_WINDOW_SECS`] is a burst.
pub const BURST_LIMIT: usize = 10;
pub const BURST_WINDOW_SECS: u64 = 60;

/// Words that crawlers, link previews and scripting clients put in their user agents.
const CRAWLER_WORDS: [&str; 16] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "curl",
    "wget",
    "python",
    "httpclient",
    "okhttp",
    "go-http-client",
    "java/",
    "scrapy",
    "headlesschrome",
    "phantomjs",
    "facebookexternalhit",
    "preview",
];

/// Why a request is not a person's sighting.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum BotReason {
    /// No user agent, or one no browser sends (every browser's starts with `Mozilla/`).
    NoBrowser,
    Crawler,
    Burst,
}

impl BotReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `recent_from_client` counts this client's verifications in the burst window, this one included.
pub fn bot_reason(user_agent: Option<&str>, recent_from_client: usize) -> Option<BotReason> {
    let ua = user_agent.map(str::trim).unwrap_or("");
    if ua.is_empty() || !ua.starts_with("Mozilla/") {
        return Some(BotReason::NoBrowser);
    }
    let lower = ua.to_ascii_lowercase();
    if CRAWLER_WORDS.iter().any(|w| lower.contains(w)) {
        return Some(BotReason::Crawler);
    }
    if recent_from_client > BURST_LIMIT {
        return Some(BotReason::Burst);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                         (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40";

    #[test]
    fn people_pass_bots_do_not() {
        assert_eq!(bot_reason(Some(PHONE), 1), None);
        assert_eq!(bot_reason(None, 1), Some(BotReason::NoBrowser));
        assert_eq!(
            bot_reason(Some("curl/8.5.0"), 1),
            Some(BotReason::NoBrowser)
        );
        assert_eq!(
            bot_reason(
                Some(
                    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)"
                ),
                1
            ),
            Some(BotReason::Crawler)
        );
        assert_eq!(
            bot_reason(
                Some("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0"),
                1
            ),
            Some(BotReason::Crawler)
        );
        assert_eq!(bot_reason(Some(PHONE), BURST_LIMIT), None);
        assert_eq!(
            bot_reason(Some(PHONE), BURST_LIMIT + 1),
            Some(BotReason::Burst)
        );
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_bot_reason() {
        crate::pin_stored_names(
            &[
                (BotReason::NoBrowser, "no_browser"),
                (BotReason::Crawler, "crawler"),
                (BotReason::Burst, "burst"),
            ],
            BotReason::as_str,
            |s: &str| s.parse::<BotReason>().ok(),
        );
    }
}
