//! HQ's products page and product pictures through the router, both backends: a product made
//! on the page, its picture uploaded (checked, scaled, stored as JPEG, served with an ETag), a
//! bad file refused in words with nothing changed, only HQ admin writing, and the picture in the
//! agent's catalogue.

use std::io::Cursor;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_test_support::form::post;

use crate::common::{backends, get_with_cookie as get};
use crate::joining::pages::{account, agent, hidden_csrf, page, session};
use crate::network::Net;

/// A multipart form with a CSRF field and one file field `picture`.
fn upload(path: &str, cookie: &str, csrf: &str, file: &[u8]) -> Request<Body> {
    let boundary = "----chainmark-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"picture\"; filename=\"tea.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Request::builder()
        .method("POST")
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("accept-language", "zh-CN")
        .body(Body::from(body))
        .expect("request")
}

fn photo(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 120, 40]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("png");
    out
}

#[tokio::test]
async fn hq_makes_a_product_and_uploads_its_picture_which_the_catalogue_shows() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "auditor", Role::HqAuditor);
        let admin = session(&net, "admin").await;
        let (status, list, _) = page(&net, "/hq/products", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(list.contains("href=\"/hq/products\""), "in the navigation");
        let csrf = hidden_csrf(&list);

        // A wrong GTIN is refused in words, nothing made.
        let bad = [
            ("csrf", csrf.as_str()),
            ("sku", "OOLONG-100"),
            ("name", "乌龙茶 100g"),
            ("gtin", "6901234567891"),
            ("case_size", "48"),
        ];
        let (status, _, body) = net
            .app
            .send(post("/hq/products/new", Some(&admin), &bad))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            String::from_utf8_lossy(&body).contains("GTIN"),
            "{backend:?}"
        );
        assert!(
            !page(&net, "/hq/products?q=OOLONG", Some(&admin))
                .await
                .1
                .contains("data-product=\"OOLONG-100\"")
        );

        let good = [
            ("csrf", csrf.as_str()),
            ("sku", "OOLONG-100"),
            ("name", "乌龙茶 100g"),
            ("name_en", "Oolong 100 g"),
            ("gtin", ""),
            ("case_size", "48"),
        ];
        let (status, _, _) = net
            .app
            .send(post("/hq/products/new", Some(&admin), &good))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let sku_row = chainmark_server::store::products::find_by_sku(&mut net.conn(), "OOLONG-100")
            .expect("find")
            .expect("made");
        assert_eq!((sku_row.case_size, sku_row.image_url.clone()), (48, None));

        // Not a picture: refused in words, nothing stored.
        let (status, _, body) = net
            .app
            .send(upload(
                &format!("/hq/products/{}/picture", sku_row.id),
                &admin,
                &csrf,
                b"%PDF-1.4 not a picture",
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            String::from_utf8_lossy(&body).contains("JPEG 或 PNG"),
            "{backend:?}"
        );
        assert_eq!(
            page(&net, &format!("/products/{}/picture", sku_row.id), None)
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        // The auditor reads the list but may not upload.
        let auditor = session(&net, "auditor").await;
        let (status, seen, _) = page(&net, "/hq/products", Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !seen.contains("data-upload="),
            "no upload form for a reader"
        );
        let auditor_csrf = hidden_csrf(&page(&net, "/account/password", Some(&auditor)).await.1);
        let (status, _, _) = net
            .app
            .send(upload(
                &format!("/hq/products/{}/picture", sku_row.id),
                &auditor,
                &auditor_csrf,
                &photo(50, 50),
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // A 1600 × 1000 photograph: stored as an 800 × 500 JPEG, served with its ETag.
        let (status, headers, _) = net
            .app
            .send(upload(
                &format!("/hq/products/{}/picture", sku_row.id),
                &admin,
                &csrf,
                &photo(1600, 1000),
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert!(
            headers[header::LOCATION]
                .to_str()
                .expect("location")
                .contains("notice=")
        );
        let url = chainmark_server::store::products::find_by_sku(&mut net.conn(), "OOLONG-100")
            .expect("find")
            .expect("product")
            .image_url
            .expect("the picture's address");
        assert!(
            url.starts_with(&format!("/products/{}/picture?v=", sku_row.id)),
            "{url}"
        );
        let (status, headers, jpeg) = net.app.send(get(&url, None)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        let img = image::load_from_memory(&jpeg).expect("a picture");
        assert_eq!((img.width(), img.height()), (800, 500));
        let etag = headers[header::ETAG].to_str().expect("etag").to_string();
        assert!(
            url.ends_with(etag.trim_matches('"')),
            "the address carries the ETag"
        );
        let again = Request::builder()
            .uri(&url)
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .expect("request");
        assert_eq!(net.app.send(again).await.0, StatusCode::NOT_MODIFIED);
        let (_, listed, _) = page(&net, "/hq/products?q=乌龙", Some(&admin)).await;
        assert!(
            listed.contains(&format!("src=\"{}\"", url.replace('&', "&amp;"))),
            "{listed}"
        );

        // An agent sees the picture of each product it may order in its catalogue.
        let tea =
            chainmark_server::store::products::find_by_sku(&mut net.conn(), crate::network::SKU)
                .expect("find")
                .expect("the network's product");
        let (status, _, _) = net
            .app
            .send(upload(
                &format!("/hq/products/{}/picture", tea.id),
                &admin,
                &csrf,
                &photo(300, 300),
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let tea_url =
            chainmark_server::store::products::find_by_sku(&mut net.conn(), crate::network::SKU)
                .expect("find")
                .expect("product")
                .image_url
                .expect("the picture's address");
        agent(&net, "nat", "national", None);
        let cookie = session(&net, "nat").await;
        let (_, home, _) = page(&net, "/agent", Some(&cookie)).await;
        assert!(
            home.contains(&format!("src=\"{}\"", tea_url.replace('&', "&amp;"))),
            "{backend:?}: {home}"
        );
    }
}

/// A second picture replaces the first in place (one upsert: two instances storing a picture at
/// once cannot both insert), and a missing product stores nothing.
#[test]
fn a_new_picture_replaces_the_old_one() {
    use chainmark_server::store::products::{self, NewPicture, NewProduct};
    use chainmark_server::store::users::now;

    use crate::common::{TestDb, with_conn};

    let picture = |etag: &str, bytes: &[u8]| NewPicture {
        content_type: "image/jpeg".into(),
        bytes: bytes.to_vec(),
        etag: etag.into(),
        width: 1,
        height: 1,
    };
    for backend in backends() {
        let db = TestDb::new(backend);
        with_conn(&db, |c| {
            let p = products::create(c, &NewProduct::named("TEA-1", "茶", 6)).expect("product");
            assert!(
                products::set_picture(c, p.id, &picture("one", b"first"), None, now())
                    .expect("first")
            );
            assert!(
                products::set_picture(c, p.id, &picture("two", b"second"), None, now())
                    .expect("second")
            );
            let (_, bytes, etag) = products::picture(c, p.id)
                .expect("read")
                .expect("a picture");
            assert_eq!(
                (bytes.as_slice(), etag.as_str()),
                (&b"second"[..], "two"),
                "{backend:?}"
            );
            assert!(
                !products::set_picture(c, p.id + 1000, &picture("x", b"x"), None, now())
                    .expect("none")
            );
            assert!(
                products::picture(c, p.id + 1000).expect("read").is_none(),
                "{backend:?}"
            );
        });
    }
}
