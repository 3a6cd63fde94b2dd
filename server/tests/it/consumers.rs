//! Consumers sign in by phone with a one-time code (issue 21) on both backends: a code texted
//! through the sender (a recording one here), used once — also when submitted twice at once —,
//! five tries, an expiry, throttles per phone (from the table) and per client, the session
//! cookie on "my rewards" until sign-out, `next` kept on this site; "my rewards" lists what the
//! consumer claimed, in words, with the ledger's points, by kind and by page.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chainmark_server::domain::marketing::{CampaignState, PrizeKind};
use chainmark_server::domain::network::{Account, ConsumerWallet, HqAccount, Posting};
use chainmark_server::sms::{SmsError, SmsSender};
use chainmark_server::store::schema::{
    campaign_rewards, campaigns, consumer_codes, consumer_sessions, consumers, payout_batches,
};
use chainmark_server::store::typed::Stored;
use chainmark_test_support::form::{cookie_of, enc, hidden};
use diesel::prelude::*;

use crate::common::{Backend, TestApp, backends};

/// Keeps every message "sent".
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, String)>>);

impl SmsSender for Recorder {
    fn send(&self, phone: &str, text: &str) -> Result<(), SmsError> {
        self.0
            .lock()
            .expect("recorder")
            .push((phone.into(), text.into()));
        Ok(())
    }
}

impl Recorder {
    fn count(&self, phone: &str) -> usize {
        let sent = self.0.lock().expect("recorder");
        sent.iter().filter(|(p, _)| p == phone).count()
    }

    /// The code in the last message to `phone`.
    fn code(&self, phone: &str) -> String {
        let sent = self.0.lock().expect("recorder");
        let (_, text) = sent
            .iter()
            .rev()
            .find(|(p, _)| p == phone)
            .unwrap_or_else(|| panic!("no message to {phone}"));
        let digits: String = text
            .split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .expect("a 6-digit code")
            .to_string();
        digits
    }
}

struct Site {
    app: TestApp,
    sms: Arc<Recorder>,
}

fn site(backend: Backend) -> Site {
    let sms = Arc::new(Recorder::default());
    let sender = sms.clone();
    // Behind a proxy we trust, so each scenario can come from an address of its own.
    let app = TestApp::with_app(backend, |s| s.trust_proxy = true, |app| app.sms = sender);
    Site { app, sms }
}

/// A browser at one client address: its cookies, kept as a real one keeps them.
struct Browser<'a> {
    site: &'a Site,
    ip: &'static str,
    cookies: Vec<(String, String)>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl<'a> Browser<'a> {
    fn new(site: &'a Site, ip: &'static str) -> Browser<'a> {
        Browser {
            site,
            ip,
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn request(&self, method: &str, path: &str, body: Option<String>) -> Request<Body> {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("x-forwarded-for", self.ip)
            .header(header::COOKIE, self.cookie_header());
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        b.body(body.map_or_else(Body::empty, Body::from))
            .expect("request")
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for name in ["cm_me_csrf", "cm_consumer"] {
            if let Some(c) = cookie_of(headers, name) {
                let value = c.split_once('=').map_or("", |(_, v)| v).to_string();
                self.cookies.retain(|(k, _)| k != name);
                if !value.is_empty() {
                    self.cookies.push((name.into(), value));
                }
            }
        }
    }

    async fn answer(&mut self, req: Request<Body>) -> Answer {
        let (status, headers, body) = self.site.app.send(req).await;
        self.keep(&headers);
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let req = self.request("GET", path, None);
        self.answer(req).await
    }

    fn form(fields: &[(&str, &str)]) -> String {
        fields
            .iter()
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let req = self.request("POST", path, Some(Self::form(fields)));
        self.answer(req).await
    }

    fn csrf(&self) -> String {
        self.cookies
            .iter()
            .find(|(k, _)| k == "cm_me_csrf")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Opens the sign-in page and asks for a code for `phone`.
    async fn send_code(&mut self, phone: &str, next: &str) -> Answer {
        if self.csrf().is_empty() {
            let page = self.get(&format!("/me/sign-in?next={}", enc(next))).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert_eq!(hidden(&page.body, "csrf"), self.csrf());
            screenshot_source("sign-in-1-phone", &page.body);
        }
        let csrf = self.csrf();
        self.post(
            "/me/sign-in",
            &[("csrf", &csrf), ("phone", phone), ("next", next)],
        )
        .await
    }

    async fn submit_code(&mut self, phone: &str, code: &str, next: &str) -> Answer {
        let csrf = self.csrf();
        self.post(
            "/me/sign-in/code",
            &[
                ("csrf", &csrf),
                ("phone", phone),
                ("code", code),
                ("next", next),
            ],
        )
        .await
    }
}

fn codes_stored(site: &Site, phone: &str) -> i64 {
    consumer_codes::table
        .filter(consumer_codes::phone.eq(phone))
        .count()
        .get_result(&mut site.app.conn())
        .expect("codes")
}

fn sessions(site: &Site) -> i64 {
    consumer_sessions::table
        .count()
        .get_result(&mut site.app.conn())
        .expect("sessions")
}

/// A code one digit off the right one.
fn wrong(code: &str) -> String {
    let last = code.as_bytes()[5] - b'0';
    format!("{}{}", &code[..5], (last + 1) % 10)
}

#[tokio::test]
async fn a_code_signs_in_once_and_the_session_lasts_until_sign_out() {
    for backend in backends() {
        let site = site(backend);
        let phone = "13800138000";
        let mut b = Browser::new(&site, "198.51.100.1");

        // Not signed in: "my rewards" sends to sign in, and comes back.
        let me = b.get("/me").await;
        assert_eq!(me.status, StatusCode::SEE_OTHER, "{backend:?}");
        assert!(
            me.location().starts_with("/me/sign-in?next=%2Fme"),
            "{}",
            me.location()
        );

        // The number as people type it; the code form keeps the phone and `next`.
        let sent = b.send_code("+86 138-0013-8000", "/v/ABC?t=x").await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        assert!(sent.body.contains("138****8000"), "{}", sent.body);
        assert_eq!(hidden(&sent.body, "phone"), phone);
        assert_eq!(hidden(&sent.body, "next"), "/v/ABC?t=x");
        assert!(sent.body.contains("60 秒"), "the wait in words");
        screenshot_source("sign-in-2-code", &sent.body);
        assert_eq!(site.sms.count(phone), 1);
        let code = site.sms.code(phone);
        // Only a hash of it is kept.
        let stored: String = consumer_codes::table
            .select(consumer_codes::code_hash)
            .first(&mut site.app.conn())
            .expect("code row");
        assert!(!stored.contains(&code) && stored.len() == 64);

        // Two submits of the right code at once: one session.
        let mut other = Browser::new(&site, "198.51.100.1");
        other.cookies = b.cookies.clone();
        let (one, two) = tokio::join!(
            b.submit_code(phone, &code, "/v/ABC?t=x"),
            other.submit_code(phone, &code, "/v/ABC?t=x")
        );
        let mut statuses = [one.status, two.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY],
            "{backend:?}"
        );
        assert_eq!(sessions(&site), 1, "{backend:?}: one session");
        let (winner, loser) = if one.status == StatusCode::SEE_OTHER {
            (one, two)
        } else {
            (two, one)
        };
        assert_eq!(winner.location(), "/v/ABC?t=x", "back to next");
        let set = winner
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("cm_consumer="))
            .expect("session cookie")
            .to_string();
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
            assert!(set.contains(attr), "{set}");
        }
        assert!(
            loser.body.contains("验证码不正确或已失效"),
            "{}",
            loser.body
        );
        screenshot_source("sign-in-3-wrong", &loser.body);
        let signed_in = if one_has_cookie(&b) {
            &mut b
        } else {
            &mut other
        };

        // The session works on "my rewards".
        let me = signed_in.get("/me").await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        assert!(me.body.contains("138****8000") && !me.body.contains(phone));
        let consumer: i64 = consumers::table
            .filter(consumers::phone.eq(phone))
            .select(consumers::id)
            .first(&mut site.app.conn())
            .expect("one consumer");
        let resolved = chainmark_server::consumers::signed_in(&site.app.state, &{
            let mut h = HeaderMap::new();
            h.insert(
                header::COOKIE,
                signed_in.cookie_header().parse().expect("cookie"),
            );
            h
        })
        .await
        .expect("read")
        .expect("signed in");
        assert_eq!(resolved.consumer_id, consumer);
        assert_eq!(resolved.phone, phone);

        // The same code again: refused, however it is typed.
        let mut third = Browser::new(&site, "198.51.100.2");
        third.send_code("13900139000", "/me").await;
        let again = third.submit_code(phone, &code, "/me").await;
        assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

        // Already signed in: the sign-in page goes straight on.
        let page = signed_in.get("/me/sign-in?next=/me").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/me");

        // Sign-out ends the session itself, not only the cookie.
        let old = signed_in.cookies.clone();
        let csrf = signed_in.csrf();
        let out = signed_in.post("/me/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
        assert!(!one_has_cookie(signed_in), "cookie cleared");
        assert_eq!(sessions(&site), 0, "{backend:?}");
        signed_in.cookies = old;
        let me = signed_in.get("/me").await;
        assert_eq!(me.status, StatusCode::SEE_OTHER, "the old cookie is dead");
    }
}

fn one_has_cookie(b: &Browser<'_>) -> bool {
    b.cookies.iter().any(|(k, _)| k == "cm_consumer")
}

#[tokio::test]
async fn wrong_tries_expiry_and_throttles_refuse_in_words() {
    for backend in backends() {
        let site = site(backend);

        // Five wrong tries spend the code: then even the right one is refused.
        let phone = "13700137000";
        let mut b = Browser::new(&site, "198.51.100.10");
        b.send_code(phone, "/me").await;
        let code = site.sms.code(phone);
        for _ in 0..5 {
            let a = b.submit_code(phone, &wrong(&code), "/me").await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
            assert!(a.body.contains("验证码不正确或已失效"));
            assert_eq!(hidden(&a.body, "phone"), phone, "the code form again");
        }
        let a = b.submit_code(phone, &code, "/me").await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
        assert_eq!(sessions(&site), 0);
        // A code of the wrong shape is said so, and costs no try.
        let a = b.submit_code(phone, "12ab", "/me").await;
        assert!(a.body.contains("验证码是 6 位数字"), "{}", a.body);

        // A second code within a minute: refused with the wait in words, nothing stored or sent.
        let phone = "13600136000";
        let mut c = Browser::new(&site, "198.51.100.11");
        c.send_code(phone, "/me").await;
        let again = c.send_code(phone, "/me").await;
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        assert!(
            again.body.contains("秒后再获取新的验证码"),
            "{}",
            again.body
        );
        screenshot_source("sign-in-4-wait", &again.body);
        assert_eq!(hidden(&again.body, "phone"), phone, "the code form stays");
        assert_eq!(codes_stored(&site, phone), 1);
        assert_eq!(site.sms.count(phone), 1);
        // …also from another client (the throttle reads the table, not this server's memory).
        let mut d = Browser::new(&site, "198.51.100.12");
        let again = d.send_code(phone, "/me").await;
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(codes_stored(&site, phone), 1);

        // An expired code is refused.
        let code = site.sms.code(phone);
        diesel::update(consumer_codes::table.filter(consumer_codes::phone.eq(phone)))
            .set(
                consumer_codes::expires_at
                    .eq(chainmark_server::store::users::now() - chrono::Duration::seconds(1)),
            )
            .execute(&mut site.app.conn())
            .expect("expire");
        let a = c.submit_code(phone, &code, "/me").await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
        assert_eq!(sessions(&site), 0);

        // Not a mainland mobile: refused in words, nothing sent.
        let mut e = Browser::new(&site, "198.51.100.13");
        let a = e.send_code("010-6512 3456", "/me").await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body.contains("请输入中国大陆手机号"), "{}", a.body);
        assert_eq!(hidden(&a.body, "next"), "/me");

        // One client texting many phones is stopped.
        let mut f = Browser::new(&site, "198.51.100.14");
        let limit = chainmark_server::ratelimit::CONSUMER_CODES_PER_HOUR;
        for i in 0..limit {
            let a = f.send_code(&format!("1590000{:04}", i), "/me").await;
            assert_eq!(a.status, StatusCode::OK, "{i}: {}", a.body);
        }
        let a = f.send_code("15811112222", "/me").await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        assert!(a.body.contains("操作太频繁") && a.headers.contains_key(header::RETRY_AFTER));
        assert_eq!(codes_stored(&site, "15811112222"), 0);

        // One client submitting codes at speed is stopped too, and keeps the code form.
        let phone = "15633334444";
        let mut h = Browser::new(&site, "198.51.100.16");
        h.send_code(phone, "/me").await;
        let code = site.sms.code(phone);
        for _ in 0..chainmark_server::ratelimit::CONSUMER_CODE_CHECKS_PER_MINUTE {
            let a = h.submit_code(phone, &wrong(&code), "/me").await;
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        let a = h.submit_code(phone, &code, "/me").await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        assert!(a.body.contains("操作太频繁") && a.headers.contains_key(header::RETRY_AFTER));
        assert_eq!(hidden(&a.body, "phone"), phone);

        // A form without the browser's CSRF value does nothing.
        let mut g = Browser::new(&site, "198.51.100.15");
        let a = g
            .post(
                "/me/sign-in",
                &[("csrf", "forged"), ("phone", "15722223333")],
            )
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN);
        assert_eq!(codes_stored(&site, "15722223333"), 0);
    }
}

#[tokio::test]
async fn next_never_leaves_the_site() {
    for backend in backends() {
        let site = site(backend);
        for (i, (next, lands)) in [
            ("https://evil.example/x", "/me"),
            ("//evil.example", "/me"),
            ("/v/TEA1?t=abc", "/v/TEA1?t=abc"),
        ]
        .into_iter()
        .enumerate()
        {
            let phone = format!("1350000000{i}");
            let mut b = Browser::new(&site, "198.51.100.20");
            let sent = b.send_code(&phone, next).await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
            let code = site.sms.code(&phone);
            let a = b.submit_code(&phone, &code, next).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{backend:?} {next}");
            assert_eq!(a.location(), lands, "{backend:?} {next}");
        }
    }
}

/// Signs `phone` in; answers the browser and the consumer's id.
async fn signed_in<'a>(site: &'a Site, phone: &str) -> (Browser<'a>, i64) {
    let mut b = Browser::new(site, "198.51.100.30");
    b.send_code(phone, "/me").await;
    let code = site.sms.code(phone);
    let a = b.submit_code(phone, &code, "/me").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let id = consumers::table
        .filter(consumers::phone.eq(phone))
        .select(consumers::id)
        .first(&mut site.app.conn())
        .expect("consumer");
    (b, id)
}

/// A campaign to hang rewards on.
fn campaign(site: &Site, name: &str) -> i64 {
    let at = chainmark_server::store::users::now();
    let mut conn = site.app.conn();
    diesel::insert_into(campaigns::table)
        .values((
            campaigns::name.eq(name),
            campaigns::state.eq(Stored(CampaignState::Running)),
            campaigns::starts_at.eq(at),
            campaigns::ends_at.eq(at + chrono::Duration::days(30)),
            campaigns::budget_cents.eq(1_000_000),
            campaigns::daily_limit.eq(10),
            campaigns::created_at.eq(at),
            campaigns::updated_at.eq(at),
        ))
        .execute(&mut conn)
        .expect("campaign");
    campaigns::table
        .filter(campaigns::name.eq(name))
        .select(campaigns::id)
        .first(&mut conn)
        .expect("campaign id")
}

struct Reward<'a> {
    serial: String,
    kind: Option<PrizeKind>,
    points: i64,
    cents: i64,
    coupon: Option<&'a str>,
    consumer: Option<i64>,
    /// Minutes after the campaign's start it was claimed; `None`: not claimed.
    claimed: Option<i64>,
    batch: Option<i64>,
}

fn reward(site: &Site, campaign: i64, r: Reward<'_>) {
    let at = chainmark_server::store::users::now();
    diesel::insert_into(campaign_rewards::table)
        .values((
            campaign_rewards::serial.eq(&r.serial),
            campaign_rewards::campaign_id.eq(campaign),
            campaign_rewards::kind.eq(r.kind.map(Stored)),
            campaign_rewards::points.eq(r.points),
            campaign_rewards::amount_cents.eq(r.cents),
            campaign_rewards::coupon_code.eq(r.coupon),
            campaign_rewards::consumer_id.eq(r.consumer),
            campaign_rewards::drawn_at.eq(at),
            campaign_rewards::claimed_at.eq(r.claimed.map(|m| at + chrono::Duration::minutes(m))),
            campaign_rewards::payout_batch_id.eq(r.batch),
        ))
        .execute(&mut site.app.conn())
        .expect("reward");
}

fn payout_batch(site: &Site, state: &str) -> i64 {
    let at = chainmark_server::store::users::now();
    let mut conn = site.app.conn();
    diesel::insert_into(payout_batches::table)
        .values((
            payout_batches::state.eq(state),
            payout_batches::total_cents.eq(188),
            payout_batches::line_count.eq(1),
            payout_batches::created_at.eq(at),
        ))
        .execute(&mut conn)
        .expect("batch");
    payout_batches::table
        .select(diesel::dsl::max(payout_batches::id))
        .first::<Option<i64>>(&mut conn)
        .expect("batch id")
        .expect("a batch")
}

/// The words a person reads: the page without its tags.
fn text(page: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut in_style = false;
    for (i, ch) in page.char_indices() {
        match ch {
            '<' => {
                in_tag = true;
                if page[i..].starts_with("<style") {
                    in_style = true;
                } else if page[i..].starts_with("</style") {
                    in_style = false;
                }
            }
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag && !in_style => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn my_rewards_lists_what_i_claimed_in_words_with_the_ledgers_points() {
    for backend in backends() {
        let site = site(backend);
        let (mut me, id) = signed_in(&site, "13800138000").await;
        let (_, someone) = signed_in(&site, "13900139000").await;
        let c = campaign(&site, "双十二扫码有礼");
        let paid = payout_batch(&site, "paid");
        let exported = payout_batch(&site, "exported");
        let mine = |serial: &str, kind, points, cents, coupon, claimed, batch| Reward {
            serial: serial.into(),
            kind,
            points,
            cents,
            coupon,
            consumer: Some(id),
            claimed: Some(claimed),
            batch,
        };
        reward(
            &site,
            c,
            mine("S1", Some(PrizeKind::Points), 50, 50, None, 1, None),
        );
        reward(
            &site,
            c,
            mine(
                "S2",
                Some(PrizeKind::Coupon),
                0,
                1000,
                Some("CP7Q2X"),
                2,
                None,
            ),
        );
        reward(
            &site,
            c,
            mine("S3", Some(PrizeKind::Cash), 0, 188, None, 3, Some(paid)),
        );
        reward(
            &site,
            c,
            mine("S4", Some(PrizeKind::Cash), 0, 266, None, 4, Some(exported)),
        );
        // Someone else's, and one not claimed: not mine.
        reward(
            &site,
            c,
            Reward {
                consumer: Some(someone),
                ..mine("S5", Some(PrizeKind::Points), 999, 999, None, 5, None)
            },
        );
        reward(
            &site,
            c,
            Reward {
                consumer: None,
                claimed: None,
                ..mine("S6", Some(PrizeKind::Points), 777, 777, None, 6, None)
            },
        );
        // The points are the ledger's balance, not a sum of the rows.
        let posting = Posting::transfers(
            "test:points",
            [(
                Account::Hq(HqAccount::RewardsOwed),
                Account::Consumer(id, ConsumerWallet::Points),
                rust_decimal::Decimal::new(150, 2),
            )],
        )
        .expect("posting");
        chainmark_server::store::network::ledger::book(
            &mut site.app.conn(),
            &posting,
            chainmark_server::store::network::ledger::Meta {
                kind: chainmark_server::domain::network::PostingKind::RewardClaim,
                order_id: None,
                withdrawal_id: None,
                policy_version: None,
            },
        )
        .expect("book");

        let page = me.get("/me").await;
        assert_eq!(page.status, StatusCode::OK, "{backend:?}");
        let words = text(&page.body);
        assert!(
            page.body
                .contains(r#"id="points" style="font-size:1.6rem">150<"#),
            "{}",
            page.body
        );
        for shown in [
            "积分 50",
            "优惠券 ¥10.00 · 券码 CP7Q2X",
            "红包 ¥1.88 · 已发放",
            "红包 ¥2.66 · 待发放",
            "双十二扫码有礼",
            "138****8000",
        ] {
            assert!(words.contains(shown), "{backend:?}: {shown} in {words}");
        }
        assert!(!words.contains("999") && !words.contains("777"), "{words}");
        // Newest first.
        let at = |s: &str| words.find(s).expect(s);
        assert!(
            at("¥2.66") < at("¥1.88") && at("¥1.88") < at("¥10.00") && at("¥10.00") < at("积分 50")
        );
        // No internal value reaches the person.
        for internal in [
            "points", "coupon", "cash", "exported", "paid", "running", "None", "Some(",
        ] {
            assert!(!words.contains(internal), "{internal} in {words}");
        }

        // By kind.
        let cash = text(&me.get("/me?kind=cash").await.body);
        assert!(cash.contains("¥1.88") && cash.contains("¥2.66") && !cash.contains("积分 50"));
        let coupons = text(&me.get("/me?kind=coupon").await.body);
        assert!(coupons.contains("CP7Q2X") && !coupons.contains("¥1.88"));

        // English, complete.
        let en_page = me.get("/me?lang=en").await.body;
        screenshot_source("me-en", &en_page);
        let en = text(&en_page);
        for shown in [
            "My rewards",
            "Points 50",
            "Coupon ¥10.00 · code CP7Q2X",
            "Red packet ¥1.88 · paid",
            "Red packet ¥2.66 · to be paid",
            "Sign out",
        ] {
            assert!(en.contains(shown), "{shown} in {en}");
        }
        // The campaign's name is HQ's, and the switch to Chinese is in Chinese.
        let rest = en.replace("双十二扫码有礼", "").replace("中文", "");
        assert!(
            !rest.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese left on the English page: {en}"
        );

        // 20 a page.
        for i in 0..20 {
            reward(
                &site,
                c,
                mine(
                    &format!("P{i:02}"),
                    Some(PrizeKind::Points),
                    1,
                    1,
                    None,
                    10 + i,
                    None,
                ),
            );
        }
        let first = me.get("/me?lang=zh").await.body;
        assert_eq!(first.matches("class=\"reward\"").count(), 20, "{backend:?}");
        assert!(text(&first).contains("第 1 / 2 页"));
        let second = me.get("/me?page=2").await.body;
        assert_eq!(second.matches("class=\"reward\"").count(), 4);
        assert!(text(&second).contains("积分 50"), "the oldest last");
        screenshot_source("me", &first);

        // The verdict page leads here, discreetly.
        let verdict = me.get("/v/TEA0000000001?t=abc").await.body;
        assert!(
            verdict.contains(r#"<a href="/me?lang=zh" id="my-rewards">我的奖励</a>"#),
            "{verdict}"
        );
    }
}

/// Keeps a page's HTML for a look in a browser (`CHAINMARK_SCREENSHOT_DIR`): the pages have no
/// external assets, so the file renders as served.
fn screenshot_source(name: &str, html: &str) {
    if let Ok(dir) = std::env::var("CHAINMARK_SCREENSHOT_DIR") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(
            std::path::Path::new(&dir).join(format!("{name}.html")),
            html,
        );
    }
}
