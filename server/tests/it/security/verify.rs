//! Item 9: nobody can lock a genuine consumer out of their own code. Wrong codes are throttled
//! per client and serial; a client that is not itself throttled always gets its answer.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{behind_proxy, call, client};
use crate::common::{backends, make_batch, release};

#[tokio::test]
async fn wrong_codes_from_many_addresses_do_not_lock_out_the_right_code() {
    for backend in backends() {
        let app = behind_proxy(backend);
        let batch = make_batch(&app, "SKU-1", 2, 2);
        release(&app, &batch.rows[0].serial, &batch.rows[1].serial);
        let (row, other) = (&batch.rows[0], &batch.rows[1]);
        let budget = app
            .state
            .settings
            .rate_limit
            .wrong_codes_per_client_serial_per_hour;
        let verify = |code: &str, from| {
            call(
                &app,
                Method::POST,
                "/api/v1/verify",
                Some(json!({"serial": row.serial, "tag": row.tag, "security_code": code})),
                None,
                from,
            )
        };
        // A stranger spends its whole wrong-code budget and one more, then more strangers do the
        // same: several budgets' worth of wrong codes for this one serial.
        for s in 0..3 {
            for _ in 0..=budget {
                let (status, _, body) = verify(&other.security_code, client(s)).await;
                assert_eq!(
                    (status, body["result"].as_str()),
                    (StatusCode::OK, Some("mismatch")),
                    "{backend:?}: stranger {s}"
                );
            }
        }
        // Each stranger is throttled for this serial, even with the right code…
        let (status, headers, body) = verify(&row.security_code, client(0)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}: {body}");
        assert!(crate::common::retry_after(&headers) >= 1);
        // …but the consumer holding the item, from its own phone, is answered.
        let (status, _, body) = verify(&row.security_code, client(500)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["result"], "genuine_first", "{backend:?}");
    }
}
