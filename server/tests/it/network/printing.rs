//! The print queue (issue 20) on both backends, against a local listener that plays a label
//! printer on raw TCP: a label queued while the printer is away waits (and the printer's later
//! jobs with it), prints once when it comes back — the bytes received are the job's document,
//! the label reads back to the order's QR — and never again; two instances sending at once print
//! each job once; a job whose sender died becomes uncertain and is not resent, a reprint is a new
//! job; who may print, and the refusals.

use chainmark_server::domain::custody::CustodianKind;
use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::domain::printing::JobState;
use chainmark_server::error::Error;
use chainmark_server::network::{Actor, orders, scan_ship, shipping};
use chainmark_server::printing::{self, Round};
use chainmark_server::store::printing as store;
use chainmark_server::store::users::now;
use chrono::Duration;

use super::Net;
use crate::common::backends;
use crate::joining::pages::{account, agent};

fn code<T>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Refused { code, .. }) => code.to_string(),
        Err(Error::Forbidden(_)) => "forbidden".into(),
        Err(Error::BadRequest(m)) => format!("bad_request: {m}"),
        Err(e) => format!("{e:?}"),
        Ok(_) => "ok".into(),
    }
}

/// A printer on `port`: every connection's bytes, in order of arrival.
fn printer_on(port: u16) -> Arc<Mutex<Vec<Vec<u8>>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the printer's port");
    let seen = got.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut bytes = Vec::new();
            let _ = conn.read_to_end(&mut bytes);
            seen.lock().expect("lock").push(bytes);
        }
    });
    got
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port()
}

fn state_of(net: &Net, job: i64) -> JobState {
    store::job(&mut net.conn(), job)
        .expect("read")
        .expect("job")
        .state
}

#[tokio::test]
async fn labels_wait_for_an_away_printer_and_print_exactly_once() {
    let Some(fonts) = chainmark_test_support::fonts() else {
        return;
    };
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 300);
        let warehouse = Actor::Hq {
            user: account(&net, "wh-zhang", Role::Warehouse),
            role: Role::Warehouse,
        };
        let (_, buyer) = agent(&net, "city-buyer", "city", None);
        let order = net.submit(buyer, 72);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        let serials = net.held((CustodianKind::Hq, None), 72);
        shipping::ship_items(&mut net.conn(), order, None, &serials).expect("ship");

        let port = free_port();
        // Who may add printers; what an address is.
        assert_eq!(
            code(printing::add_printer(
                &mut net.conn(),
                net.finance,
                "杭州总仓",
                "P",
                "127.0.0.1"
            )),
            "forbidden"
        );
        assert_eq!(
            code(printing::add_printer(
                &mut net.conn(),
                warehouse,
                "杭州总仓",
                "P",
                "http://x/"
            )),
            "printer_address_bad"
        );
        assert_eq!(
            code(printing::add_printer(
                &mut net.conn(),
                warehouse,
                "杭州总仓",
                " ",
                "10.0.0.9"
            )),
            "printer_name_bad"
        );
        assert_eq!(
            code(printing::add_printer(
                &mut net.conn(),
                warehouse,
                " ",
                "P",
                "10.0.0.9"
            )),
            "printer_warehouse_bad"
        );
        let printer = printing::add_printer(
            &mut net.conn(),
            warehouse,
            "杭州总仓",
            "仓库一号打印机",
            &format!("127.0.0.1:{port}"),
        )
        .expect("printer");
        assert_eq!(
            code(printing::add_printer(
                &mut net.conn(),
                warehouse,
                "杭州总仓",
                "仓库一号打印机",
                "10.0.0.9"
            )),
            "printer_name_taken"
        );
        // No waybill number yet: no label.
        assert_eq!(
            code(printing::waybill_label(
                &mut net.conn(),
                warehouse,
                order,
                "品牌总部",
                "https://brand.example"
            )),
            "no_waybill",
            "{backend:?}"
        );
        scan_ship::set_waybill(
            &mut net.conn(),
            order,
            warehouse,
            "顺丰速运",
            "SF1234567890",
        )
        .expect("waybill");
        let label = printing::waybill_label(
            &mut net.conn(),
            warehouse,
            order,
            "品牌总部",
            "https://brand.example",
        )
        .expect("label");
        assert_eq!(label.recipient, "city-buyer");
        assert_eq!(
            code(printing::queue_waybill_label(
                &mut net.conn(),
                net.finance,
                order,
                printer.id,
                &label,
                Some(&fonts)
            )),
            "forbidden"
        );
        let first = printing::queue_waybill_label(
            &mut net.conn(),
            warehouse,
            order,
            printer.id,
            &label,
            Some(&fonts),
        )
        .expect("queued");

        // The printer is away: the job waits, tried once.
        let db = &net.app.state.db;
        let at = now();
        let round = printing::run_once(db, "one", at).await.expect("round");
        assert_eq!(
            round,
            Round {
                waiting: 1,
                ..Round::default()
            },
            "{backend:?}"
        );
        let row = store::job(&mut net.conn(), first)
            .expect("read")
            .expect("job");
        assert_eq!((row.state, row.attempts), (JobState::Queued, 1));
        assert!(row.next_try_at > at && row.last_error.is_some());
        assert!(printing::waits_for_printer(&row));
        // A test label queued meanwhile waits behind it: nothing is due yet.
        let second = printing::queue_test(
            &mut net.conn(),
            warehouse,
            printer.id,
            "https://brand.example",
            Some(&fonts),
        )
        .expect("test label");
        let round = printing::run_once(db, "one", now()).await.expect("round");
        assert_eq!(
            round,
            Round::default(),
            "{backend:?}: the printer's queue waits"
        );

        // The printer comes back: both print, in order, once.
        let got = printer_on(port);
        let later = now() + Duration::minutes(3);
        let round = printing::run_once(db, "one", later).await.expect("round");
        assert_eq!(round.printed, 2, "{backend:?}");
        assert_eq!(
            (state_of(&net, first), state_of(&net, second)),
            (JobState::Printed, JobState::Printed)
        );
        let received = got.lock().expect("lock").clone();
        assert_eq!(received.len(), 2);
        let (_, document) = store::full_job(&mut net.conn(), first)
            .expect("read")
            .expect("job");
        assert_eq!(
            received[0],
            document.as_bytes(),
            "the printer got the job's bytes"
        );
        let picture = codegen::card::decode_graphic(&String::from_utf8_lossy(&received[0]))
            .expect("a graphic field");
        assert_eq!(picture.dimensions(), (800, 1200));
        let found = match codegen::decode::decode_gray(picture).expect("decode") {
            codegen::decode::Decoded::Payloads(p) => p,
            codegen::decode::Decoded::Unreadable => Vec::new(),
        };
        assert_eq!(
            found,
            [format!("https://brand.example/agent/orders/{order}")]
        );
        let round = printing::run_once(db, "one", later + Duration::minutes(5))
            .await
            .expect("round");
        assert_eq!(round, Round::default());
        assert_eq!(
            got.lock().expect("lock").len(),
            2,
            "{backend:?}: nothing printed twice"
        );

        // Two instances at once: each of five jobs printed once.
        let jobs: Vec<i64> = (0..5)
            .map(|_| {
                printing::queue_test(
                    &mut net.conn(),
                    warehouse,
                    printer.id,
                    "https://brand.example",
                    Some(&fonts),
                )
                .expect("queued")
            })
            .collect();
        let t = now() + Duration::minutes(10);
        let (a, b) = tokio::join!(
            printing::run_once(db, "one", t),
            printing::run_once(db, "two", t)
        );
        let printed = a.expect("one").printed + b.expect("two").printed;
        assert_eq!(printed, 5, "{backend:?}");
        assert_eq!(got.lock().expect("lock").len(), 7, "{backend:?}: each once");
        assert!(jobs.iter().all(|j| state_of(&net, *j) == JobState::Printed));

        // A sender that died while sending: uncertain, not resent; a reprint is a new job.
        let lost = printing::queue_test(
            &mut net.conn(),
            warehouse,
            printer.id,
            "https://brand.example",
            Some(&fonts),
        )
        .expect("queued");
        assert!(
            store::claim(&mut net.conn(), lost, "dead", now() - Duration::minutes(5))
                .expect("claim")
        );
        let round = printing::run_once(db, "one", now()).await.expect("round");
        assert_eq!(round.abandoned, 1, "{backend:?}");
        assert_eq!(state_of(&net, lost), JobState::Uncertain);
        assert_eq!(got.lock().expect("lock").len(), 7);
        let again = printing::reprint(&mut net.conn(), warehouse, lost).expect("reprint");
        printing::run_once(db, "one", now()).await.expect("round");
        assert_eq!(state_of(&net, again), JobState::Printed);
        assert_eq!(got.lock().expect("lock").len(), 8);

        // Switched off: its queued job waits and can be cancelled, once; no new jobs.
        let waiting = printing::queue_test(
            &mut net.conn(),
            warehouse,
            printer.id,
            "https://brand.example",
            Some(&fonts),
        )
        .expect("queued");
        printing::set_disabled(&mut net.conn(), warehouse, printer.id, true).expect("off");
        assert_eq!(
            printing::run_once(db, "one", now()).await.expect("round"),
            Round::default()
        );
        assert_eq!(
            code(printing::queue_test(
                &mut net.conn(),
                warehouse,
                printer.id,
                "https://brand.example",
                Some(&fonts)
            )),
            "printer_disabled"
        );
        printing::cancel(&mut net.conn(), warehouse, waiting).expect("cancel");
        assert_eq!(state_of(&net, waiting), JobState::Cancelled);
        assert_eq!(
            code(printing::cancel(&mut net.conn(), warehouse, waiting)),
            "print_job_not_queued"
        );
        // Without a CJK font the server says so instead of printing boxes.
        printing::set_disabled(&mut net.conn(), warehouse, printer.id, false).expect("on");
        assert_eq!(
            code(printing::queue_test(
                &mut net.conn(),
                warehouse,
                printer.id,
                "https://brand.example",
                None
            )),
            "no_label_font"
        );
        assert_eq!(got.lock().expect("lock").len(), 8, "{backend:?}");
    }
}

/// The hidden key of the form posting to `action` on `page`.
fn key_of(page: &str, action: &str) -> String {
    let form = page
        .split("<form")
        .find(|f| f.contains(&format!("action=\"{action}\"")))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let marker = "name=\"idempotency_key\" value=\"";
    let at = form.find(marker).expect("a form key") + marker.len();
    form[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn the_warehouse_prints_a_waybill_label_from_the_pages() {
    use axum::http::StatusCode;
    use chainmark_test_support::form::post;

    use crate::joining::pages::{hidden_csrf, page, session};

    let Some(_) = chainmark_test_support::fonts() else {
        return;
    };
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        account(&net, "wh-li", Role::Warehouse);
        account(&net, "aud-wu", Role::HqAuditor);
        let (_, buyer) = agent(&net, "city-buyer", "city", None);
        let order = net.submit(buyer, 72);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        let serials = net.held((CustodianKind::Hq, None), 72);
        shipping::ship_items(&mut net.conn(), order, None, &serials).expect("ship");
        scan_ship::set_waybill(&mut net.conn(), order, net.admin, "顺丰速运", "SF99887766")
            .expect("waybill");

        // The auditor reads the warehouse but not the printers.
        let auditor = session(&net, "aud-wu").await;
        let (status, _, _) = page(&net, "/warehouse/printers", Some(&auditor)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        let (_, body, _) = page(&net, "/warehouse", Some(&auditor)).await;
        assert!(
            !body.contains("/warehouse/printers"),
            "no link it may not open"
        );

        let wh = session(&net, "wh-li").await;
        let (status, body, _) = page(&net, "/warehouse", Some(&wh)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("id=\"to-printers\""));
        let (_, body, _) = page(&net, "/warehouse/printers", Some(&wh)).await;
        assert!(body.contains("还没有打印机"), "{backend:?}");
        let csrf = hidden_csrf(&body);
        // A bad address: refused in words, nothing added.
        let key = key_of(&body, "/warehouse/printers/new");
        let (status, _, bad) = net
            .app
            .send(post(
                "/warehouse/printers/new",
                Some(&wh),
                &[
                    ("csrf", &csrf),
                    ("idempotency_key", &key),
                    ("warehouse", "杭州总仓"),
                    ("name", "发货台一号"),
                    ("address", "http://printer/"),
                ],
            ))
            .await;
        assert!(status.is_client_error());
        assert!(String::from_utf8_lossy(&bad).contains("打印机地址有误"));
        assert!(
            store::printers(&mut net.conn())
                .expect("printers")
                .is_empty()
        );
        let port = free_port();
        let got = printer_on(port);
        let address = format!("127.0.0.1:{port}");
        let (_, body, _) = page(&net, "/warehouse/printers", Some(&wh)).await;
        let key = key_of(&body, "/warehouse/printers/new");
        let (status, _, _) = net
            .app
            .send(post(
                "/warehouse/printers/new",
                Some(&wh),
                &[
                    ("csrf", &csrf),
                    ("idempotency_key", &key),
                    ("warehouse", "杭州总仓"),
                    ("name", "发货台一号"),
                    ("address", &address),
                ],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);

        // The order page offers the label; printing it queues one job, however often posted.
        let (_, body, _) = page(&net, &format!("/hq/orders/{order}"), Some(&wh)).await;
        assert!(
            body.contains("id=\"print-label\"") && body.contains("发货台一号"),
            "{backend:?}"
        );
        let key = key_of(&body, &format!("/hq/orders/{order}/label"));
        let printer_id = store::printers(&mut net.conn()).expect("printers")[0]
            .id
            .to_string();
        for _ in 0..2 {
            let (status, _, _) = net
                .app
                .send(post(
                    &format!("/hq/orders/{order}/label"),
                    Some(&wh),
                    &[
                        ("csrf", &csrf),
                        ("idempotency_key", &key),
                        ("printer", &printer_id),
                    ],
                ))
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER);
        }
        let jobs =
            store::jobs(&mut net.conn(), None, None, None, Some(order), None, 10).expect("jobs");
        assert_eq!(jobs.len(), 1, "{backend:?}: one label for a double click");
        let (_, body, _) = page(&net, "/warehouse/printers", Some(&wh)).await;
        assert!(body.contains("排队中") && body.contains("SF99887766"));

        let round = printing::run_once(&net.app.state.db, "one", now())
            .await
            .expect("round");
        assert_eq!(round.printed, 1, "{backend:?}");
        assert_eq!(got.lock().expect("lock").len(), 1);
        let (_, body, _) = page(
            &net,
            "/warehouse/printers?state=printed&warehouse=杭州总仓&lang=en",
            Some(&wh),
        )
        .await;
        assert!(
            body.contains("data-job="),
            "{backend:?}: the warehouse's queue"
        );
        let (_, other, _) = page(&net, "/warehouse/printers?warehouse=宁波仓", Some(&wh)).await;
        assert!(
            other.contains("no-jobs"),
            "{backend:?}: another warehouse's queue is empty"
        );
        assert!(
            body.contains("Printed") && body.contains("Waybill label") && body.contains("Working")
        );
        assert!(!body.contains(">printed<") && !body.contains("waybill_label"));

        // The preview and the file.
        let (status, headers, png) = net
            .app
            .send(chainmark_test_support::form::get_with_cookie(
                &format!("/hq/orders/{order}/label.png"),
                Some(&wh),
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("image/png")
        );
        let found = match codegen::decode::decode_bytes(&png).expect("decode") {
            codegen::decode::Decoded::Payloads(p) => p,
            codegen::decode::Decoded::Unreadable => Vec::new(),
        };
        assert_eq!(found.len(), 1, "{backend:?}: the preview's QR reads");
        let (status, _, zpl) = net
            .app
            .send(chainmark_test_support::form::get_with_cookie(
                &format!("/hq/orders/{order}/label.zpl"),
                Some(&wh),
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(zpl.starts_with(b"^XA\n^PW800\n^LL1200\n"));
        // The same label as a 100 × 150 mm PDF: its QR reads once rendered.
        let (status, headers, pdf) = net
            .app
            .send(chainmark_test_support::form::get_with_cookie(
                &format!("/hq/orders/{order}/label.pdf"),
                Some(&wh),
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/pdf")
        );
        assert!(
            String::from_utf8_lossy(&pdf).contains("/MediaBox [0 0 283.46"),
            "100 mm wide"
        );
        let codes = chainmark_test_support::pdf::qr_codes(&pdf, 1)
            .expect("pdftoppm (poppler-utils) renders the PDF");
        assert_eq!(
            codes,
            [format!("{}/agent/orders/{order}", crate::common::BASE_URL)],
            "{backend:?}"
        );
        let (status, _, _) = net
            .app
            .send(chainmark_test_support::form::get_with_cookie(
                &format!("/hq/orders/{order}/label.png"),
                Some(&auditor),
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
