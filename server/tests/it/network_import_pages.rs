//! The HQ import page through the router, both backends: only HQ admin may open it, the upload
//! needs the session's CSRF token and may exceed `max_body_bytes`, problems come back as 422
//! naming the row, the preview writes nothing, the confirmation imports once and shows the
//! passwords once, and a resubmitted confirmation is redirected to the import's page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::network_import::{Upload, sample};
use chainmark_server::store::schema::{agents, network_imports};
use chainmark_server::store::users::now;
use diesel::prelude::*;

use crate::common::backends;
use crate::levels::pages::{account, hidden_csrf, request, send, session};
use crate::network::{Net, SKU};

const BOUNDARY: &str = "----chainmark-test-boundary";

fn multipart(cookie: &str, csrf: Option<&str>, files: &[Upload]) -> Request<Body> {
    let mut body = Vec::new();
    if let Some(csrf) = csrf {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            )
            .as_bytes(),
        );
    }
    for f in files {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n",
                f.name
            )
            .as_bytes(),
        );
        body.extend(&f.bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri("/hq/import/preview")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .expect("request")
}

fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in the page"))
        + marker.len();
    page[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn hq_admin_previews_and_confirms_once() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "finance", Role::HqFinance);
        let finance = session(&net, "finance").await;
        let (status, _) = send(&net, request("GET", "/hq/import", Some(&finance), &[])).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{backend:?}: finance may not import"
        );

        let admin = session(&net, "admin").await;
        let (status, page) = send(&net, request("GET", "/hq/import", Some(&admin), &[])).await;
        assert_eq!(status, StatusCode::OK);
        let csrf = hidden_csrf(&page);

        // 1,000 agents: the agents CSV alone is larger than max_body_bytes (64 KiB).
        let mut s = sample::network(1_000, now().date(), SKU);
        let files = s.csv_files().expect("csv");
        assert!(files[0].bytes.len() > 64 * 1024);
        let (status, _) = send(&net, multipart(&admin, None, &files)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");

        s.rows_mut(chainmark_server::domain::network_import::Sheet::Balances)
            .expect("balances")[7][2] = "12.345".into();
        let bad = s.csv_files().expect("csv");
        let (status, page) = send(&net, multipart(&admin, Some(&csrf), &bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(
            page.contains("data-problem=\"too_many_decimals\" data-row=\"8\""),
            "{page}"
        );
        assert!(page.contains("金额“12.345”超过两位小数"), "{page}");

        let (status, page) = send(&net, multipart(&admin, Some(&csrf), &files)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("data-agents=\"1000\""));
        let n: i64 = agents::table
            .count()
            .get_result(&mut net.conn())
            .expect("n");
        assert_eq!(n, 0, "a preview writes nothing");

        let form = [
            ("csrf", csrf.clone()),
            ("token", field(&page, "token")),
            ("idempotency_key", field(&page, "idempotency_key")),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, done) = send(
            &net,
            request("POST", "/hq/import/confirm", Some(&admin), &form),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert!(done.contains("id=\"credentials\" data-count=\"1000\""));
        assert!(done.contains(&sample::phone(999)));

        let (status, headers, _) = net
            .app
            .send(request("POST", "/hq/import/confirm", Some(&admin), &form))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}: a resubmission");
        let id: i64 = network_imports::table
            .select(network_imports::id)
            .first(&mut net.conn())
            .expect("import");
        assert_eq!(
            headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
            Some(format!("/hq/import/{id}").as_str())
        );
        let (status, page) = send(
            &net,
            request("GET", &format!("/hq/import/{id}"), Some(&admin), &[]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !page.contains("id=\"credentials\""),
            "passwords are shown once"
        );
        let n: i64 = agents::table
            .count()
            .get_result(&mut net.conn())
            .expect("n");
        assert_eq!(n, 1_000, "imported once");
    }
}
