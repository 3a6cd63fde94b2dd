//! zh-CN and English for the pages. The language comes from `?lang=`, then the `cm_lang` cookie,
//! then `Accept-Language`; Chinese is the default, as most consumers scan in China.

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;

pub const LANG_COOKIE: &str = "cm_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn param(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the language for a request.
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query.and_then(Lang::parse) {
            return lang;
        }
        if let Some(lang) = CookieJar::from_headers(headers)
            .get(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
        {
            return lang;
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Lang::from_accept_language(accept)
    }

    /// The first supported language in `Accept-Language`, by quality.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("zh") {
                Lang::Zh
            } else if tag.starts_with("en") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }

    /// A phrase in this language.
    pub fn t(self, text: Text) -> &'static str {
        let (zh, en) = text.pair();
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Every phrase the pages use, in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    VerifyTitle,
    Product,
    Batch,
    ProductionDate,
    EnterCode,
    CodeHint,
    ShareLocation,
    LocationShared,
    Check,
    GenuineFirst,
    GenuineFirstDetail,
    GenuineRepeat,
    RepeatDetail,
    FirstVerifiedOn,
    Colon,
    In,
    Mismatch,
    MismatchDetail,
    NotGenuine,
    NotGenuineDetail,
    NotReleased,
    AtHq,
    Voided,
    Recalled,
    TooMany,
    TryAgainIn,
    Seconds,
    BadInput,
    VerifyAnother,
    Language,
    SignIn,
    Username,
    Password,
    SignOut,
    ServerError,
    // Staff pages: sign-in, password, HQ console.
    WrongCredentials,
    FormExpired,
    ChangePassword,
    MustChangePassword,
    CurrentPassword,
    NewPassword,
    RepeatPassword,
    PasswordRule,
    PasswordsDiffer,
    WrongCurrentPassword,
    PasswordTooShort,
    PasswordContainsUsername,
    PasswordTooCommon,
    PasswordTooPredictable,
    NoAccess,
    NoAccessDetail,
    HqTitle,
    SignedInAs,
    Overview,
    Products,
    Batches,
    Items,
    ItemsReleased,
    Verifications,
    Counterfeit,
    Mismatches,
    RecentSightings,
    NoSightings,
    Time,
    Serial,
    Outcome,
    Client,
    Place,
    ApiDocs,
    Status,
    Actions,
    Void,
    Recall,
    ConfirmVoid,
    ConfirmRecall,
    Reason,
}

impl Text {
    fn pair(self) -> (&'static str, &'static str) {
        use Text::*;
        match self {
            VerifyTitle => ("防伪查询", "Product verification"),
            Product => ("产品", "Product"),
            Batch => ("批次", "Batch"),
            ProductionDate => ("生产日期", "Production date"),
            EnterCode => (
                "请刮开涂层，输入20位防伪码",
                "Scratch the label and enter the 20-digit security code",
            ),
            CodeHint => (
                "例如 1234 5678 9012 3456 7890",
                "e.g. 1234 5678 9012 3456 7890",
            ),
            ShareLocation => (
                "提供我的位置（可选，帮助品牌打击窜货）",
                "Share my location (optional; helps the brand stop grey-market goods)",
            ),
            LocationShared => ("已提供位置", "Location shared"),
            Check => ("查询", "Verify"),
            GenuineFirst => ("正品：首次查询", "Genuine: first verification"),
            GenuineFirstDetail => (
                "感谢您购买正品。此防伪码现已登记为已查询。",
                "Thank you for buying genuine. This code is now recorded as verified.",
            ),
            GenuineRepeat => ("此防伪码已被查询过", "This code has been verified before"),
            RepeatDetail => (
                "如果不是您本人查询的，此标签可能被复制，请谨慎。已查询次数：",
                "If it was not you, this label may have been copied: be careful. Times verified:",
            ),
            FirstVerifiedOn => ("首次查询时间", "First verified on"),
            Colon => ("：", ": "),
            In => ("地点", "at"),
            Mismatch => ("防伪码不正确", "The security code does not match"),
            MismatchDetail => (
                "请核对后重新输入。多次输入错误将被暂时限制。",
                "Check it and try again. Repeated wrong codes are throttled.",
            ),
            NotGenuine => ("非正品防伪码", "Not a genuine code"),
            NotGenuineDetail => (
                "此二维码不是品牌发放的。请勿购买，并联系品牌方举报。",
                "This QR code was not issued by the brand. Do not buy; please report it to the brand.",
            ),
            NotReleased => ("此产品未授权销售", "This product is not released for sale"),
            AtHq => (
                "此码尚未从品牌仓库发出，标签可能已泄露。请联系品牌方。",
                "This code has not left the brand's warehouse: the label may have leaked. Please contact the brand.",
            ),
            Voided => ("此码已作废。", "This code has been voided."),
            Recalled => (
                "此批产品已召回，请停止使用并联系品牌方。",
                "This product has been recalled: stop using it and contact the brand.",
            ),
            TooMany => ("查询过于频繁", "Too many verifications"),
            TryAgainIn => ("请稍后再试：", "Please try again in"),
            Seconds => ("秒", "seconds"),
            BadInput => ("输入有误", "Invalid input"),
            VerifyAnother => (
                "查询其他产品请重新扫码",
                "Scan another code to verify another product",
            ),
            Language => ("English", "中文"),
            SignIn => ("登录", "Sign in"),
            Username => ("用户名", "Username"),
            Password => ("密码", "Password"),
            SignOut => ("退出", "Sign out"),
            ServerError => (
                "服务暂时不可用，请稍后再试",
                "The service is unavailable; please try again later",
            ),
            WrongCredentials => ("用户名或密码错误", "Wrong username or password"),
            FormExpired => (
                "表单已过期或不是从本站提交的，请刷新页面后重试。",
                "The form has expired or did not come from this site: reload the page and try again.",
            ),
            ChangePassword => ("修改密码", "Change password"),
            MustChangePassword => (
                "首次登录，请先设置新密码。",
                "Please choose a new password before you continue.",
            ),
            CurrentPassword => ("当前密码", "Current password"),
            NewPassword => ("新密码", "New password"),
            RepeatPassword => ("再次输入新密码", "New password again"),
            PasswordRule => (
                "新密码至少10个字符，不能与当前密码相同，不能含用户名，也不能是容易猜到的密码（常见密码、重复或连续的字符、键盘行、日期）。",
                "The new password needs at least 10 characters, must differ from the current one, must not contain the user name and must not be easy to guess (common passwords, repeated or consecutive characters, keyboard rows, dates).",
            ),
            PasswordTooShort => (
                "新密码太短：至少需要10个字符。",
                "The new password is too short: use at least 10 characters.",
            ),
            PasswordContainsUsername => (
                "新密码太容易猜到：它包含用户名。",
                "The new password is too easy to guess: it contains the user name.",
            ),
            PasswordTooCommon => (
                "新密码太容易猜到：它是常见密码或单词（或与之相近）。请用几个不常见的词组合。",
                "The new password is too easy to guess: it is a common password or word, or close to one. Use a few uncommon words.",
            ),
            PasswordTooPredictable => (
                "新密码太容易猜到：重复、连续的字符（1234、abcd）、键盘行或日期会被最先尝试。请用几个不常见的词组合。",
                "The new password is too easy to guess: repeats, sequences (1234, abcd), keyboard rows and dates are tried first. Use a few uncommon words.",
            ),
            PasswordsDiffer => ("两次输入的新密码不一致", "The two new passwords differ"),
            WrongCurrentPassword => ("当前密码不正确", "The current password is wrong"),
            NoAccess => ("无权访问", "No access"),
            NoAccessDetail => (
                "此页面仅供品牌总部人员使用。",
                "This page is for the brand's HQ staff only.",
            ),
            HqTitle => ("总部控制台", "HQ console"),
            SignedInAs => ("当前用户", "Signed in as"),
            Overview => ("概览", "Overview"),
            Products => ("产品", "Products"),
            Batches => ("批次", "Batches"),
            Items => ("单品码", "Item codes"),
            ItemsReleased => ("已出库", "Released"),
            Verifications => ("正品查询", "Verifications"),
            Counterfeit => ("假码查询", "Counterfeit sightings"),
            Mismatches => ("防伪码错误", "Wrong codes"),
            RecentSightings => ("最新查询记录", "Latest sightings"),
            NoSightings => ("暂无记录", "None yet"),
            Time => ("时间 (UTC)", "Time (UTC)"),
            Serial => ("明码", "Serial"),
            Outcome => ("结果", "Result"),
            Client => ("来源", "Client"),
            Place => ("地点", "Place"),
            ApiDocs => ("API 文档", "API documentation"),
            Status => ("状态", "Status"),
            Actions => ("操作", "Actions"),
            Void => ("作废", "Void"),
            Recall => ("召回", "Recall"),
            ConfirmVoid => (
                "作废后此批所有码都将显示为已作废，且不可恢复。",
                "Voiding makes every code of this batch answer \"voided\"; it cannot be undone.",
            ),
            Reason => ("原因（必填）", "Reason (required)"),
            ConfirmRecall => (
                "召回后此批所有码都将提示消费者停止使用。",
                "A recall tells every consumer who verifies this batch to stop using it.",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_by_quality() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("fr-FR, en;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("de"), Lang::Zh);
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
    }
}
