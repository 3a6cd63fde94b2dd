//! The tier policy as a form (`/hq/policy`, issue 18) through the router, both backends: a price
//! edited in the form, reviewed (the change in words, the last 30 days' orders priced both
//! ways) and activated becomes the active version's price; bad fields are refused in words on
//! their fields with what was typed kept, and nothing changes; only HQ admins get the page.

use axum::http::StatusCode;
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::levels::form as level_form;
use chainmark_server::domain::levels::presets;
use chainmark_server::domain::network::TierRank;
use chainmark_server::domain::network::policy::form;
use chainmark_server::network::policy;
use chainmark_test_support::form::post;

use crate::common::backends;
use crate::joining::pages::{account, hidden_csrf, page, session};
use crate::network::{Net, SKU, dec};

/// The value of the hidden field `name` of the form posting to `action`, unescaped.
pub(crate) fn hidden_of(page: &str, action: &str, name: &str) -> String {
    let form = page
        .split("<form")
        .find(|f| f.contains(&format!("action=\"{action}\"")))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let marker = format!("name=\"{name}\" value=\"");
    let at = form.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    form[at..]
        .split('"')
        .next()
        .expect("value")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The form's values for the active policy, as the browser sends them, with `edits`.
fn filled(net: &Net, csrf: &str, edits: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut c = net.conn();
    let (_, active) = policy::active(&mut c).expect("active");
    let mut f = form::fields(&active, &[SKU.to_string()]);
    for (k, v) in edits {
        f.insert((*k).to_string(), (*v).to_string());
    }
    f.insert("csrf".into(), csrf.into());
    f.insert("action".into(), "review".into());
    f.into_iter().collect()
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn a_price_edited_in_the_form_is_reviewed_and_becomes_the_active_price() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        let (_, city) = net.active("c1", "city", None);
        net.items((CustodianKind::Hq, None), 100);
        net.submit(city, 72);
        let before = policy::active(&mut net.conn()).expect("active").0.version;

        let admin = session(&net, "admin").await;
        let (status, html, _) = page(&net, "/hq/policy", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("href=\"/hq/policy\""), "in the navigation");
        assert!(html.contains("name=\"tiers[2].unit_price\" value=\"31.00\""));
        assert!(
            html.contains("name=\"tiers[1].same_tier_rate\" value=\"9\""),
            "a percentage"
        );
        let csrf = hidden_csrf(&html);

        let sent = filled(&net, &csrf, &[("tiers[2].unit_price", "29")]);
        let (status, _, body) = net
            .app
            .send(post("/hq/policy", Some(&admin), &pairs(&sent)))
            .await;
        let review = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, StatusCode::OK, "{backend:?}: {review}");
        assert!(review.contains("市代 · 单价: 31.00 → 29.00"), "{review}");
        assert_eq!(review.matches("data-change=").count(), 1, "one change");
        // The city agent's 72 items of the last 30 days: 2,232.00 then, 2,088.00 now.
        let row = review
            .split("data-effect=\"city\"")
            .nth(1)
            .expect("the city row");
        let row = row.split("</tr>").next().expect("row");
        assert!(row.contains("72") && row.contains("2232.00") && row.contains("2088.00"));
        assert!(row.contains("-144.00"), "{row}");
        assert_eq!(
            policy::active(&mut net.conn()).expect("active").0.version,
            before,
            "a review changes nothing"
        );

        let document = hidden_of(&review, "/hq/policy/activate", "document");
        let key = hidden_of(&review, "/hq/policy/activate", "idempotency_key");
        let form = [
            ("csrf", csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("document", document.as_str()),
        ];
        for _ in 0..2 {
            // Twice with the same key (a double click): one new version.
            let (status, headers, _) = net
                .app
                .send(post("/hq/policy/activate", Some(&admin), &form))
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
            let to = headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(to.starts_with("/hq/policy?notice="), "{to}");
        }
        let (row, active) = policy::active(&mut net.conn()).expect("active");
        assert_eq!(row.version, before + 1, "{backend:?}");
        assert_eq!(active.price(TierRank(3), SKU), Some(dec("29.00")));
        assert_eq!(active.price(TierRank(2), SKU), Some(dec("25.00")));
        let (_, html, _) = page(&net, "/hq/policy", Some(&admin)).await;
        assert!(html.contains("name=\"tiers[2].unit_price\" value=\"29.00\""));
    }
}

#[tokio::test]
async fn bad_fields_are_refused_in_words_on_their_fields_and_nothing_changes() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "auditor", Role::HqAuditor);
        let before = policy::active(&mut net.conn()).expect("active").0;
        let admin = session(&net, "admin").await;
        let (_, html, _) = page(&net, "/hq/policy", Some(&admin)).await;
        let csrf = hidden_csrf(&html);

        let sent = filled(
            &net,
            &csrf,
            &[
                ("tiers[0].unit_price", "-5"),
                ("tiers[1].same_tier_rate", "120"),
                ("tiers[3].entry_quantity", "abc"),
                // 市代 below 省代 (25.00): prices must rise as rank falls.
                ("tiers[2].unit_price", "24.00"),
                ("prices.TEA-250.city", "x"),
            ],
        );
        let (status, _, body) = net
            .app
            .send(post("/hq/policy", Some(&admin), &pairs(&sent)))
            .await;
        let html = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        for (field, words) in [
            ("tiers[0].unit_price", "须大于 0"),
            ("tiers[1].same_tier_rate", "须在 0% 到 100% 之间"),
            ("tiers[3].entry_quantity", "“abc”不是整数"),
            ("tiers[2].unit_price", "须高于省代的 25.00"),
            ("prices.TEA-250.city", "“x”不是金额"),
        ] {
            let at = html
                .find(&format!("data-error-for=\"{field}\""))
                .unwrap_or_else(|| panic!("{backend:?}: no error on {field}: {html}"));
            assert!(
                html[at..]
                    .split("</div>")
                    .next()
                    .unwrap_or("")
                    .contains(words),
                "{field}"
            );
        }
        assert!(
            html.contains("总代 · 单价"),
            "the summary names the field in words"
        );
        assert!(
            html.contains("value=\"-5\"") && html.contains("value=\"abc\""),
            "typed kept"
        );
        assert!(
            !html.contains("tiers[0].unit_price:"),
            "no field path reaches a person"
        );

        // The raw document goes through the same checks.
        let raw = [
            ("csrf", csrf.as_str()),
            ("action", "raw"),
            ("document", before.document.as_str()),
        ];
        let (_, _, body) = net.app.send(post("/hq/policy", Some(&admin), &raw)).await;
        assert!(String::from_utf8_lossy(&body).contains("版本号须为新的"));

        let after = policy::active(&mut net.conn()).expect("active").0;
        assert_eq!(
            (after.version, after.document),
            (before.version, before.document)
        );

        // Auditors read policies but do not edit them: no page, no review.
        let auditor = session(&net, "auditor").await;
        let (status, _, _) = page(&net, "/hq/policy", Some(&auditor)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        let (_, html, _) = page(&net, "/hq/network", Some(&auditor)).await;
        assert!(
            !html.contains("href=\"/hq/policy\""),
            "no link for an auditor"
        );
    }
}

#[test]
fn every_level_preset_fits_the_active_tiers_on_both_databases() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut c = net.conn();
        for p in presets::PRESETS {
            let levels = chainmark_server::levels::policy::validate(&mut c, p.document)
                .unwrap_or_else(|e| panic!("{backend:?} {}: {e}", p.key));
            assert_eq!(levels.version, 1);
        }
    }
}

/// The level form's values for `document`, as the browser sends them, with `edits`.
fn level_filled(
    net: &Net,
    csrf: &str,
    document: &str,
    edits: &[(&str, &str)],
) -> Vec<(String, String)> {
    let (_, tiers) = policy::active(&mut net.conn()).expect("active");
    let mut f = level_form::fields(document, &tiers);
    for (k, v) in edits {
        f.insert((*k).to_string(), (*v).to_string());
    }
    f.insert("csrf".into(), csrf.into());
    f.insert("action".into(), "review".into());
    f.into_iter().collect()
}

#[tokio::test]
async fn a_level_preset_is_reviewed_with_its_what_if_and_activated() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        let admin = session(&net, "admin").await;
        let (status, html, _) = page(&net, "/hq/levels?preset=seed-003", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("data-preset=\"seed-000\"") && html.contains("充值金额达标升级"));
        assert!(
            html.contains("name=\"lv.city.paths[0].thresholds.recharge\" value=\"1000.00\""),
            "the form holds the preset"
        );
        let csrf = hidden_csrf(&html);
        let preset = presets::preset("seed-003").expect("preset").document;

        // A bad field: refused in words on its row, nothing activated.
        let bad = level_filled(
            &net,
            &csrf,
            preset,
            &[("lv.city.paths[0].window_days", "abc")],
        );
        let (status, _, body) = net
            .app
            .send(post("/hq/levels", Some(&admin), &pairs(&bad)))
            .await;
        let body = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("data-error-for=\"lv.city.paths[0].window_days\""),
            "{body}"
        );
        assert!(
            body.contains("“abc”不是整数天数") && body.contains("市代 · 升级路径 1 · 考核天数")
        );
        assert!(body.contains("value=\"abc\""), "what was typed stays");
        let bad = level_filled(
            &net,
            &csrf,
            preset,
            &[("lv.city.paths[0].thresholds.recharge", "-1")],
        );
        let (_, _, body) = net
            .app
            .send(post("/hq/levels", Some(&admin), &pairs(&bad)))
            .await;
        assert!(String::from_utf8_lossy(&body).contains("不能为负数"));
        assert!(
            chainmark_server::store::levels::policies::active(&mut net.conn())
                .expect("read")
                .is_none(),
            "{backend:?}: nothing activated"
        );

        let good = level_filled(
            &net,
            &csrf,
            preset,
            &[("lv.city.paths[0].thresholds.recharge", "1200")],
        );
        let (status, _, body) = net
            .app
            .send(post("/hq/levels", Some(&admin), &pairs(&good)))
            .await;
        let review = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, StatusCode::OK, "{review}");
        assert!(review.contains("id=\"what-if\""), "the what-if");
        assert!(
            review.contains("市代 · 升级路径 1 · 充值金额门槛: (无) → 1200"),
            "{review}"
        );
        let document = hidden_of(&review, "/hq/levels", "document");
        let form = [
            ("csrf", csrf.as_str()),
            ("action", "activate"),
            ("document", document.as_str()),
        ];
        let (status, _, _) = net.app.send(post("/hq/levels", Some(&admin), &form)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let (row, levels) = chainmark_server::levels::policy::active(&mut net.conn())
            .expect("read")
            .expect("active");
        assert_eq!(row.version, 1);
        assert!(row.name.starts_with("seed 003"));
        let city = levels.level(TierRank(3)).expect("city");
        assert_eq!(city.paths[0].set.conditions.len(), 1);
        // The next form starts from it, numbered 2.
        let (_, html, _) = page(&net, "/hq/levels", Some(&admin)).await;
        assert!(html.contains("name=\"lv.city.paths[0].thresholds.recharge\" value=\"1200\""));
        assert!(html.contains("version = 2"));
    }
}
