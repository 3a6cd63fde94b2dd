//! The page frame: mobile first, no external assets, works without JavaScript.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::i18n::Lang;

/// The one style sheet, inline; `headers.rs` allows it by its hash.
pub const STYLE: &str = "\
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;\
margin:0;background:#f5f5f4;color:#1c1917;line-height:1.5}\
main{max-width:34rem;margin:auto;padding:1rem}header{display:flex;justify-content:space-between;align-items:center}\
h1{font-size:1.3rem;margin:.5rem 0}.card{background:#fff;border-radius:.75rem;padding:1rem;margin:1rem 0;\
box-shadow:0 1px 3px rgba(0,0,0,.1)}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:0}\
dt{color:#57534e}dd{margin:0;font-weight:600}input[type=text],input[type=password],input[type=tel],input[type=number],\
input[type=search],input[type=datetime-local],textarea,select{width:100%;font-size:1.2rem;padding:.6rem;box-sizing:border-box;\
border:1px solid #a8a29e;border-radius:.5rem;letter-spacing:.05em}button{width:100%;font-size:1.1rem;padding:.7rem;\
margin-top:.75rem;border:0;border-radius:.5rem;background:#b91c1c;color:#fff}\
a.button{display:block;text-align:center;text-decoration:none;font-size:1.1rem;padding:.7rem;margin-top:.75rem;\
border-radius:.5rem;background:#b91c1c;color:#fff}\
.verdict{border-left:.5rem solid;padding-left:.75rem}.ok{border-color:#15803d}.warn{border-color:#d97706}\
.bad{border-color:#b91c1c}.muted{color:#78716c;font-size:.9rem}table{border-collapse:collapse;width:100%}\
td,th{border-bottom:1px solid #e7e5e4;padding:.3rem;text-align:left;font-size:.9rem}a{color:#1d4ed8}\
body.desk main{max-width:88rem;padding:1rem 2rem}\
nav.shell{display:flex;flex-wrap:wrap;align-items:center;gap:.2rem .75rem;background:#1c1917;color:#e7e5e4;\
padding:.5rem 1rem;font-size:.9rem}nav.shell a{color:#e7e5e4;text-decoration:none;padding:.2rem 0}\
nav.shell a[aria-current]{color:#fff;font-weight:700;border-bottom:2px solid #f87171}\
nav.shell .brand{font-weight:700;color:#fff;margin-right:.5rem}nav.shell .who{margin-left:auto;color:#a8a29e}\
nav.shell form{margin:0}nav.shell button{width:auto;font-size:.9rem;padding:.25rem .7rem;margin:0;background:#57534e}\
body.desk main button{width:auto;font-size:.95rem;padding:.4rem .9rem;margin:.15rem .25rem .15rem 0}\
body.desk main input[type=text],body.desk main input[type=password],body.desk main input[type=number],\
body.desk main input[type=month],body.desk main input[type=date],body.desk main select,body.desk main input[type=tel],\
body.desk main input[type=search],body.desk main input[type=datetime-local]{width:auto;font-size:.95rem;\
padding:.35rem;border:1px solid #a8a29e;border-radius:.4rem;letter-spacing:0}\
body.desk table td,body.desk table th{white-space:nowrap}body.desk td.wrap{white-space:normal}\
form.inline{display:inline-block;margin:0}.tabs{display:flex;gap:.25rem;flex-wrap:wrap;margin:.5rem 0}\
.tabs a{padding:.3rem .8rem;border-radius:1rem;background:#e7e5e4;color:#1c1917;text-decoration:none}\
.tabs a[aria-current]{background:#1c1917;color:#fff}.pager{display:flex;gap:1rem;margin-top:.5rem}\
.todo{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:1rem}\
.todo a{display:block;background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px rgba(0,0,0,.1);\
text-decoration:none;color:#1c1917}.todo b{display:block;font-size:1.8rem}.num{text-align:right}\
.secret{font-family:monospace;font-size:1.2rem;background:#fef3c7;padding:.3rem .6rem}\
@media print{nav.shell,.noprint{display:none}body{background:#fff}.card{box-shadow:none}}";

/// How wide a page's column may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// Agents and consumers: one column sized for a phone (390 px), centred on larger screens.
    Phone,
    /// HQ's desk pages: tables with many columns on a 1366 px screen.
    Desk,
}

/// Wraps `body` in the frame of a public page (no navigation). `switch_href` is this page in the
/// other language.
pub fn page(lang: Lang, title: &str, switch_href: Option<&str>, body: Markup) -> Markup {
    frame(lang, title, Width::Phone, html! {}, switch_href, body)
}

/// The frame: `bar` above the page (the signed-in shell's navigation, or nothing), the title
/// with the language switch when `switch_href` is given, then `body`.
pub fn frame(
    lang: Lang,
    title: &str,
    width: Width,
    bar: Markup,
    switch_href: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · chainmark" }
                style { (PreEscaped(STYLE)) }
            }
            body class=[(width == Width::Desk).then_some("desk")] {
                (bar)
                main {
                    header {
                        h1 { (title) }
                        @if let Some(href) = switch_href {
                            a href=(href) hreflang=(lang.other().code()) { (lang.t(super::i18n::Text::Language)) }
                        }
                    }
                    (body)
                }
            }
        }
    }
}
