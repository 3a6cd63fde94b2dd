//! HQ's books by month on the money desk, both backends: how much each HQ account moved in the
//! month (summed by the database), the lines in words paged by line, and the month's CSV.

use axum::http::{StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::network::orders;

use crate::common::{backends, get_with_cookie as get};
use crate::joining::pages::{account, page, session};
use crate::network::Net;

#[tokio::test]
async fn hq_reads_its_books_by_month_in_words_paged_and_as_csv() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "finance", Role::HqFinance);
        net.items((CustodianKind::Hq, None), 72);
        // Thirteen entry orders sold by HQ and paid: 26 or more lines on HQ's accounts.
        for i in 0..13 {
            let (_, buyer) = net.pending(&format!("city-{i}"), "city", None);
            let order = net.submit(buyer, 72);
            orders::accept(&mut net.conn(), order, net.admin).expect("accept");
            net.pay(order, PaidVia::Offline, net.finance);
        }
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let finance = session(&net, "finance").await;
        let here = format!("/hq/money?month={month}&lang=zh");
        let (status, body, _) = page(&net, &here, Some(&finance)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        // 13 × 72 × 31.00 = 29,016.00 of sales this month.
        let sales = body
            .split("data-moved=\"hq:sales\"")
            .nth(1)
            .expect("the sales account moved");
        assert!(
            sales[..200].contains("29016.00"),
            "{backend:?}: {}",
            &sales[..200]
        );
        assert!(
            body.contains("总部销售收入") && body.contains("货款"),
            "in words"
        );
        assert!(
            !body.contains(">hq:sales<") && !body.contains(">paid<"),
            "no stored values"
        );
        assert_eq!(
            body.matches("<tr data-line=").count(),
            25,
            "one page of lines"
        );
        let next = body
            .split("id=\"ledger-next\" href=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a next page")
            .replace("&amp;", "&");
        let (_, rest, _) = page(&net, &next, Some(&finance)).await;
        let more = rest.matches("<tr data-line=").count();
        assert!(more >= 1, "{backend:?}: the later lines");

        let (status, headers, csv) = net
            .app
            .send(get(
                &format!("/hq/money/ledger.csv?month={month}&lang=zh"),
                Some(&finance),
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .starts_with("text/csv")
        );
        let csv = String::from_utf8_lossy(&csv);
        let rows: Vec<&str> = csv.lines().collect();
        assert!(
            rows[0].contains("时间") && rows[0].contains("金额"),
            "{}",
            rows[0]
        );
        assert_eq!(
            rows.len() - 1,
            25 + more,
            "{backend:?}: every line of the month"
        );
        assert!(csv.contains("总部销售收入"));

        // Without a session the CSV is not served (sign in first).
        let (status, _, _) = page(&net, "/hq/money/ledger.csv?month=2026-01", None).await;
        assert!(
            status.is_redirection() || status == StatusCode::UNAUTHORIZED,
            "{status}"
        );
    }
}
