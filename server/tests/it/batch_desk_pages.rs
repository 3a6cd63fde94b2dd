//! HQ's batches page through the router, both backends (issues 18 and 20): a batch made from
//! the form is generated and imported in the background until its progress reads 100 %; the
//! same form sent twice starts one job; a bad count is refused in words; label sheets (ZPL and
//! PDF) carry the items' anti-counterfeit URLs, read back from the ^FD fields and from the
//! rendered PDF's QR codes; the code pack decrypts with the password shown once to the exact
//! print file, and not with another; a packing slip shows the order's lines and case codes and
//! its QR opens the order.

use chainmark_server::domain::custody::CustodianKind;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::network::orders;
use chainmark_server::store::schema::{audit_log, batch_jobs, items};
use chainmark_test_support::form::post;
use codegen::serial::{BatchId, Serial};
use diesel::prelude::*;

use crate::common::{backends, get_with_cookie as get};
use crate::joining::pages::{account, hidden_csrf, page, session};
use crate::network::{Net, SKU};

/// The hidden form key of the form posting to `action` on `page`.
fn key_of(page: &str, action: &str) -> String {
    let form = page
        .split("<form")
        .find(|f| f.contains(&format!("action=\"{action}\"")))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let marker = "name=\"idempotency_key\" value=\"";
    let at = form.find(marker).expect("a form key") + marker.len();
    form[at..].split('"').next().expect("value").to_string()
}

fn location(h: &HeaderMap) -> String {
    h.get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_string()
}

fn attr<'a>(body: &'a str, name: &str) -> &'a str {
    let marker = format!("{name}=\"");
    let at = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in the page"))
        + marker.len();
    body[at..].split('"').next().expect("value")
}

/// The address of the link with id `id`.
fn link_of(body: &str, id: &str) -> String {
    let tag = body
        .split("<a ")
        .find(|t| {
            t.split('>')
                .next()
                .is_some_and(|t| t.contains(&format!("id=\"{id}\"")))
        })
        .unwrap_or_else(|| panic!("no link {id}"));
    attr(tag, "href").to_string()
}

fn product_id(net: &Net) -> i64 {
    chainmark_server::store::products::find_by_sku(&mut net.conn(), SKU)
        .expect("read")
        .expect("the product")
        .id
}

fn audited(net: &Net, action: &str) -> i64 {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

/// The anti-counterfeit URL of `serial` under the app's key, as its label must carry it.
fn url_of(net: &Net, serial: &str) -> String {
    let s = Serial::parse(serial).expect("serial");
    let batch = BatchId::parse(&serial[..8]).expect("batch id");
    let tag = net.app.key.batch_key(&batch).tag(&s);
    codegen::batch::verify_url(crate::common::BASE_URL, &s, &tag)
}

/// Makes a batch of `items` from the page; answers the job's page address.
async fn make(net: &Net, admin: &str, items: &str) -> (StatusCode, HeaderMap, String) {
    let (_, list, _) = page(net, "/hq/batches", Some(admin)).await;
    let fields = [
        ("csrf", hidden_csrf(&list)),
        ("idempotency_key", key_of(&list, "/hq/batches/new")),
        ("product", product_id(net).to_string()),
        ("items", items.to_string()),
        ("case_size", "72".to_string()),
        ("production_date", "2026-12-01".to_string()),
        ("note", "首批试产".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, headers, body) = net
        .app
        .send(post("/hq/batches/new", Some(admin), &fields))
        .await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// Follows the job's page until it ends; answers the page.
async fn wait_for(net: &Net, admin: &str, job: &str) -> String {
    let started = Instant::now();
    loop {
        let (status, body, _) = page(net, job, Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let phase = attr(&body, "data-phase").to_string();
        if phase == "done" || phase == "failed" {
            return body;
        }
        assert!(
            body.contains("http-equiv=\"refresh\" content=\"2\""),
            "a running job's page refreshes itself"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the job did not end: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_batch_made_on_the_page_is_imported_labelled_and_packed_for_the_printer() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        let admin = session(&net, "admin").await;
        let (status, list, _) = page(&net, "/hq/batches", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(list.contains("href=\"/hq/batches\""), "in the navigation");

        // Bad counts are refused in words; no job starts.
        for (bad, words) in [
            ("0", "1 到 1,000,000 之间的整数"),
            ("abc", "1 到 1,000,000 之间的整数"),
            ("2000000", "最多生成 1,000,000 个码"),
        ] {
            let (status, _, body) = make(&net, &admin, bad).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
            assert!(body.contains(words), "{bad}: {body}");
        }
        let jobs = || -> i64 {
            batch_jobs::table
                .count()
                .get_result(&mut net.conn())
                .expect("count")
        };
        assert_eq!(jobs(), 0, "{backend:?}: nothing started");

        // The form sent twice with its key starts one job.
        let (_, list, _) = page(&net, "/hq/batches", Some(&admin)).await;
        let fields = [
            ("csrf", hidden_csrf(&list)),
            ("idempotency_key", key_of(&list, "/hq/batches/new")),
            ("product", product_id(&net).to_string()),
            ("items", "300".to_string()),
            ("case_size", "72".to_string()),
            ("production_date", "2026-12-01".to_string()),
            ("note", "首批试产".to_string()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, first, _) = net
            .app
            .send(post("/hq/batches/new", Some(&admin), &fields))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, again, _) = net
            .app
            .send(post("/hq/batches/new", Some(&admin), &fields))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let job = location(&first);
        assert!(job.starts_with("/hq/batches/jobs/"), "{job}");
        assert_eq!(location(&again), job, "the replay goes to the same job");
        assert_eq!(jobs(), 1, "{backend:?}: one job for one form");

        let done = wait_for(&net, &admin, &job).await;
        assert_eq!(attr(&done, "data-phase"), "done", "{done}");
        assert_eq!(attr(&done, "data-percent"), "100");
        assert!(
            !done.contains("http-equiv=\"refresh\""),
            "a finished job stops refreshing"
        );
        let batch_href = link_of(&done, "job-batch");
        let batch_id = batch_href.trim_start_matches("/hq/batches/").to_string();
        assert_eq!(batch_id.len(), 8, "{batch_href}");
        let imported: i64 = items::table
            .filter(items::batch_id.eq(&batch_id))
            .count()
            .get_result(&mut net.conn())
            .expect("count");
        assert_eq!(imported, 300, "{backend:?}: every item imported");

        // The batch's page: its tally and the note.
        let (status, batch_page, _) = page(&net, &batch_href, Some(&admin)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            batch_page.contains("data-count=\"hq\">300<"),
            "{batch_page}"
        );
        assert!(batch_page.contains("首批试产"));

        // ZPL: one label per item, each ^FD the item's URL.
        let first_serial = Serial::new(&BatchId::parse(&batch_id).expect("id"), 0).expect("serial");
        let (status, headers, zpl) = net
            .app
            .send(get(&format!("{batch_href}/labels.zpl"), Some(&admin)))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_DISPOSITION]
                .to_str()
                .expect("ascii")
                .contains("attachment")
        );
        let zpl = String::from_utf8(zpl.to_vec()).expect("ZPL is text");
        let payloads: Vec<&str> = zpl
            .lines()
            .filter(|l| l.contains("^BQN"))
            .map(|l| {
                l.split("^FD")
                    .nth(1)
                    .and_then(|p| p.strip_suffix("^FS"))
                    .and_then(|p| p.strip_prefix("MA,"))
                    .expect("a QR field")
            })
            .collect();
        assert_eq!(payloads.len(), 300);
        assert_eq!(payloads[0], url_of(&net, first_serial.as_str()));
        let last = Serial::new(&BatchId::parse(&batch_id).expect("id"), 299).expect("serial");
        assert_eq!(payloads[299], url_of(&net, last.as_str()));

        // PDF of a range of 5: the rendered page's QR codes are exactly those items' URLs.
        let s = |i: u64| {
            Serial::new(&BatchId::parse(&batch_id).expect("id"), i)
                .expect("serial")
                .to_string()
        };
        let (status, headers, pdf) = net
            .app
            .send(get(
                &format!("{batch_href}/labels.pdf?from={}&to={}", s(10), s(14)),
                Some(&admin),
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        if let Some(codes) = chainmark_test_support::pdf::qr_codes(&pdf, 1) {
            let mut want: Vec<String> = (10..15).map(|i| url_of(&net, &s(i))).collect();
            want.sort();
            assert_eq!(codes, want, "{backend:?}: the sheet's QR codes");
        }
        // A range too big for one PDF is refused in words.
        let (status, _, body) = net
            .app
            .send(get(
                &format!("{batch_href}/labels.pdf?from={}", s(1)),
                Some(&admin),
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "half a range");
        assert!(!body.is_empty());
        assert_eq!(audited(&net, "labels.download"), 2, "{backend:?}");

        // The code pack: its password shown once; the pack decrypts to the print file.
        let (_, batch_page, _) = page(&net, &batch_href, Some(&admin)).await;
        let action = format!("{batch_href}/packs");
        let fields = [
            ("csrf", hidden_csrf(&batch_page)),
            ("idempotency_key", key_of(&batch_page, &action)),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, made) = net.app.send(post(&action, Some(&admin), &fields)).await;
        let made = String::from_utf8_lossy(&made).into_owned();
        assert_eq!(status, StatusCode::OK, "{made}");
        let password = made
            .split("id=\"pack-password\"")
            .nth(1)
            .and_then(|s| s.split('>').nth(1))
            .and_then(|s| s.split('<').next())
            .expect("the password")
            .to_string();
        assert_eq!(password.len(), 29, "{password}");
        let link = link_of(&made, "pack-download");
        // Sent again, the form makes nothing and shows no password; neither does the batch page.
        let (status, headers, replay) = net.app.send(post(&action, Some(&admin), &fields)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(location(&headers), batch_href);
        assert!(!String::from_utf8_lossy(&replay).contains(&password));
        let (_, batch_page, _) = page(&net, &batch_href, Some(&admin)).await;
        assert!(!batch_page.contains(&password), "shown once");
        assert!(batch_page.contains(&link), "the pack is listed");

        let (status, _, pack) = net.app.send(get(&link, Some(&admin))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(audited(&net, "code_pack.download"), 1);
        let print = std::fs::read(
            net.app
                .tmp
                .path()
                .join("batches")
                .join(&batch_id)
                .join("print.csv"),
        )
        .expect("the print file");
        assert_eq!(
            decrypt(&pack, &password).expect("the right password"),
            print
        );
        assert!(
            decrypt(&pack, "wrong-pass-word-1234-abcd").is_none(),
            "another password fails"
        );
        let packs = net
            .app
            .tmp
            .path()
            .join("batches")
            .join(&batch_id)
            .join("packs");
        for f in std::fs::read_dir(&packs).expect("packs") {
            let mode = f
                .expect("entry")
                .metadata()
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o077,
                0,
                "{backend:?}: a pack is for the server's user only"
            );
        }
    }
}

fn decrypt(pack: &[u8], password: &str) -> Option<Vec<u8>> {
    let identity =
        age::scrypt::Identity::new(age::secrecy::SecretString::from(password.to_string()));
    let decryptor = age::Decryptor::new(pack).ok()?;
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .ok()?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).ok()?;
    Some(out)
}

#[tokio::test]
async fn a_packing_slip_shows_the_lines_and_cases_and_its_qr_opens_the_order() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "warehouse", Role::Warehouse);
        let (agent, buyer) = net.pending("hz-tea", "city", None);
        // A Chinese name, as agents have (the test's account names are ASCII).
        diesel::update(
            chainmark_server::store::schema::agents::table
                .filter(chainmark_server::store::schema::agents::id.eq(agent)),
        )
        .set(chainmark_server::store::schema::agents::name.eq("杭州茶行"))
        .execute(&mut net.conn())
        .expect("rename");
        let order = net.submit(buyer, 72);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        net.ship_and_receive(order, buyer);
        // The shipped items came in one case.
        let shipped: Vec<String> = chainmark_server::store::schema::order_items::table
            .filter(chainmark_server::store::schema::order_items::order_id.eq(order))
            .select(chainmark_server::store::schema::order_items::serial)
            .load(&mut net.conn())
            .expect("shipped");
        {
            use chainmark_server::store::schema::cases;
            diesel::insert_into(cases::table)
                .values((
                    cases::code.eq("NETB00010000017"),
                    cases::batch_id.eq(&net.batch),
                    cases::case_index.eq(0i64),
                    cases::opened.eq(false),
                ))
                .execute(&mut net.conn())
                .expect("a case");
        }
        diesel::update(items::table.filter(items::serial.eq_any(&shipped)))
            .set(items::case_code.eq("NETB00010000017"))
            .execute(&mut net.conn())
            .expect("case");

        for (who, path) in [
            ("admin", format!("/hq/orders/{order}/packing-slip.pdf")),
            (
                "warehouse",
                format!("/warehouse/orders/{order}/packing-slip.pdf"),
            ),
        ] {
            let cookie = session(&net, who).await;
            let (status, headers, pdf) = net.app.send(get(&path, Some(&cookie))).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{backend:?} {who}: {}",
                String::from_utf8_lossy(&pdf)
            );
            assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
            if let Some(text) = chainmark_test_support::pdf::text(&pdf) {
                for want in [
                    "装箱单",
                    "杭州茶行",
                    "龙井 250克",
                    SKU,
                    "72",
                    "NETB00010000017",
                    &format!("#{order}"),
                ] {
                    assert!(text.contains(want), "{who}: {want} not in {text}");
                }
            }
            if let Some(codes) = chainmark_test_support::pdf::qr_codes(&pdf, 1) {
                assert_eq!(codes, vec![format!("CMORDER:{order}")], "{who}");
            }
        }
        // The pages link it.
        let admin = session(&net, "admin").await;
        let (_, order_page, _) = page(&net, &format!("/hq/orders/{order}"), Some(&admin)).await;
        assert!(order_page.contains(&format!("/hq/orders/{order}/packing-slip.pdf")));
        let wh = session(&net, "warehouse").await;
        let (_, pick, _) = page(&net, &format!("/warehouse/orders/{order}/pick"), Some(&wh)).await;
        assert!(pick.contains(&format!("/warehouse/orders/{order}/packing-slip.pdf")));
        // Not for agents.
        let (status, _, _) = net
            .app
            .send(get(&format!("/hq/orders/{order}/packing-slip.pdf"), None))
            .await;
        assert_ne!(status, StatusCode::OK);
    }
}
