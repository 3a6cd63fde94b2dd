//! Error bodies as clients see them: what a database refusal turns into.

use axum::response::IntoResponse;
use chainmark_server::store::products::NewProduct;
use chainmark_server::store::schema::products;
use diesel::prelude::*;
use http_body_util::BodyExt;

use crate::common::{TestDb, backends};

/// A unique key that is taken answers 409 `already_exists`, and the backend's text (the constraint,
/// the table, the column) stays in the log. Before, the body said "already exists (UNIQUE
/// constraint failed: products.sku)" on SQLite and named the index on PostgreSQL.
#[tokio::test]
async fn a_taken_unique_key_answers_conflict_without_the_constraint() {
    for backend in backends() {
        let db = TestDb::new(backend);
        let mut c = db.conn();
        let new = NewProduct::named("DUP-SKU-1", "一号", 6);
        diesel::insert_into(products::table)
            .values(&new)
            .execute(&mut *c)
            .expect("first insert");
        let refused = diesel::insert_into(products::table)
            .values(&new)
            .execute(&mut *c)
            .expect_err("the SKU is taken");
        let error = chainmark_server::Error::from(chainmark_server::store::Error::from(refused));
        let response = error.into_response();
        assert_eq!(response.status(), 409, "{backend:?}");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"]["code"], "already_exists", "{backend:?}");
        let message = body["error"]["message"]
            .as_str()
            .expect("message")
            .to_lowercase();
        for schema_word in [
            "unique",
            "constraint",
            "products",
            "sku",
            "duplicate key",
            "index",
        ] {
            assert!(
                !message.contains(schema_word),
                "{backend:?}: the body names the schema ({schema_word}): {message}"
            );
        }
    }
}
