//! Retail (issue 20) on both backends: an agent sells scanned items out of its custody to a
//! customer (all or nothing; a receipt; the custody history says so), never an item twice — also
//! when two sales of it run at once; members by phone (a sale, a consumer joining from a verified
//! item); an O2O reorder from an item's code reaches the agent that sold it, or the agent of the
//! region picked, and is fulfilled by a sale once; the phone pages and the consumer's forms.

use axum::http::StatusCode;
use chainmark_server::domain::custody::{CustodianKind, CustodyEventKind};
use chainmark_server::domain::retail::{CustomerSource, RetailOrderState};
use chainmark_server::error::Error;
use chainmark_server::retail::{self, ReorderInput, SaleInput, Unsold};
use chainmark_server::store::retail as store;
use chainmark_server::store::schema::{custody_events, items};
use chainmark_server::store::typed::Stored;
use chainmark_test_support::form::post;
use chainmark_wire::RejectReason;
use diesel::prelude::*;

use super::Net;
use crate::common::backends;
use crate::joining::pages::{agent, hidden_csrf, page, session};

fn code<T>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Refused { code, .. }) => code.to_string(),
        Err(Error::Forbidden(_)) => "forbidden".into(),
        Err(e) => format!("{e:?}"),
        Ok(_) => "ok".into(),
    }
}

fn sale(codes: &[String], name: &str, phone: &str) -> SaleInput {
    SaleInput {
        codes: codes.join("\n"),
        customer_name: name.into(),
        customer_phone: phone.into(),
        retail_order: None,
    }
}

fn custodian(net: &Net, serial: &str) -> String {
    items::table
        .find(serial)
        .select(items::custodian_kind)
        .first::<CustodianKind>(&mut net.conn())
        .expect("item")
        .as_str()
        .to_string()
}

#[tokio::test]
async fn an_agent_sells_at_retail_keeps_members_and_fulfils_reorders() {
    for backend in backends() {
        let net = Net::new(backend);
        let (shop, shop_actor) = agent(&net, "district-shop", "district", None);
        let (_, other) = agent(&net, "city-other", "city", None);
        // Real codes (a batch written by codegen and imported), twelve of them in the shop's
        // custody.
        let batch = crate::common::make_batch(&net.app, "TEA-GIFT", 20, 10);
        diesel::update(
            items::table
                .filter(items::batch_id.eq(&batch.batch_id))
                .filter(items::item_index.lt(12)),
        )
        .set((
            items::custodian_kind.eq(Stored(CustodianKind::Agent)),
            items::custodian_id.eq(Some(shop)),
        ))
        .execute(&mut net.conn())
        .expect("stock the shop");
        let stock: Vec<String> = batch.rows[..12].iter().map(|r| r.serial.clone()).collect();
        let keys = &net.app.state.keys;

        // A sale of three to a customer: sold, with a receipt and the history.
        let sold = retail::sell(
            &mut net.conn(),
            keys,
            shop_actor,
            &sale(&stock[0..3], " 王女士 ", "138 0013 8000"),
        )
        .expect("sell")
        .expect("all sellable");
        assert_eq!(sold.sale.item_count, 3, "{backend:?}");
        assert!(
            sold.receipt.starts_with('R')
                && sold.receipt.ends_with(&format!("{:06}", sold.sale.id))
        );
        assert!(stock[0..3].iter().all(|s| custodian(&net, s) == "sold"));
        let note = format!("retail sale {}", sold.sale.id);
        let events: i64 = custody_events::table
            .filter(custody_events::kind.eq(Stored(CustodyEventKind::Sell)))
            .filter(custody_events::note.eq(&note))
            .count()
            .get_result(&mut net.conn())
            .expect("events");
        assert_eq!(events, 3);
        let (_, number, lines, customer) =
            retail::receipt(&mut net.conn(), shop_actor, sold.sale.id).expect("receipt");
        assert_eq!(number, sold.receipt);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].serials.len(), 3);
        assert_eq!(customer.expect("a member").phone, "13800138000");
        assert!(matches!(
            retail::receipt(&mut net.conn(), other, sold.sale.id),
            Err(Error::NotFound { .. })
        ));

        // All or nothing: one sold item among the codes sells nothing.
        let mixed = [stock[2].clone(), stock[3].clone()];
        let refused = retail::sell(&mut net.conn(), keys, shop_actor, &sale(&mixed, "", ""))
            .expect("sell")
            .expect_err("not all sellable");
        assert_eq!(
            refused,
            [Unsold {
                code: stock[2].clone(),
                reason: RejectReason::NotInCustody
            }]
        );
        assert_eq!(
            custodian(&net, &stock[3]),
            "agent",
            "{backend:?}: nothing sold"
        );
        // Not another agent's items, not HQ staff, not nonsense.
        let theirs = retail::sell(&mut net.conn(), keys, other, &sale(&stock[3..4], "", ""))
            .expect("sell")
            .expect_err("not theirs");
        assert_eq!(theirs[0].reason, RejectReason::NotInCustody);
        assert_eq!(
            code(retail::sell(
                &mut net.conn(),
                keys,
                net.admin,
                &sale(&stock[3..4], "", "")
            )),
            "forbidden"
        );
        let unknown = retail::sell(
            &mut net.conn(),
            keys,
            shop_actor,
            &sale(&["NOPE-1".to_string()], "", ""),
        )
        .expect("sell")
        .expect_err("unknown");
        assert_eq!(unknown[0].reason, RejectReason::UnknownCode);
        assert_eq!(
            code(retail::sell(
                &mut net.conn(),
                keys,
                shop_actor,
                &sale(&stock[3..4], "王女士", "")
            )),
            "customer_phone"
        );
        assert_eq!(
            code(retail::sell(
                &mut net.conn(),
                keys,
                shop_actor,
                &sale(&[], "", "")
            )),
            "nothing_to_sell"
        );

        // A walk-in sale has no member.
        let walk_in = retail::sell(
            &mut net.conn(),
            keys,
            shop_actor,
            &sale(&stock[3..4], "", ""),
        )
        .expect("sell")
        .expect("sold");
        assert_eq!(walk_in.sale.customer_id, None);

        // An item scanned twice, not one after the other, is one item sold.
        let twice = [stock[10].clone(), stock[11].clone(), stock[10].clone()];
        let sold_once = retail::sell(&mut net.conn(), keys, shop_actor, &sale(&twice, "", ""))
            .expect("sell")
            .expect("sold");
        assert_eq!(sold_once.sale.item_count, 2, "{backend:?}");

        // Two sales of one item at once: one sells it.
        let one = stock[4].clone();
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let one = one.clone();
                    let db = &net.app.state.db;
                    s.spawn(move || {
                        let mut c = db.get().expect("connection");
                        retail::sell(&mut c, keys, shop_actor, &sale(&[one], "", ""))
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        let made = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert_eq!(made, 1, "{backend:?}: {results:?}");
        let rows: i64 = chainmark_server::store::schema::retail_sale_items::table
            .filter(chainmark_server::store::schema::retail_sale_items::serial.eq(&one))
            .count()
            .get_result(&mut net.conn())
            .expect("count");
        assert_eq!(rows, 1);

        // Members: the consumer of a sold item joins the agent that sold it; a known phone is
        // found again.
        assert_eq!(
            retail::join_as_member(&mut net.conn(), &stock[0], "王丽", "13800138000")
                .expect("join"),
            "district-shop"
        );
        retail::join_as_member(&mut net.conn(), &stock[1], "李先生", "13900139000").expect("join");
        let members = store::customers(&mut net.conn(), shop, None, None, 10).expect("members");
        assert_eq!(members.len(), 2, "{backend:?}");
        let wang = members
            .iter()
            .find(|(m, _)| m.phone == "13800138000")
            .expect("王");
        assert_eq!(
            (wang.0.name.as_str(), wang.0.source, wang.1),
            ("王丽", CustomerSource::Sale, 1)
        );
        assert_eq!(
            store::customers(&mut net.conn(), shop, Some("139"), None, 10)
                .expect("search")
                .len(),
            1
        );
        assert_eq!(
            code(retail::join_as_member(
                &mut net.conn(),
                &stock[8],
                "张",
                "13700137000"
            )),
            "no_agent_for_region",
            "an item not sold by an agent has no agent to join"
        );

        // A reorder from a sold item goes to the shop; the shop fulfils it once.
        let input = ReorderInput {
            name: "李先生".into(),
            phone: "13900139000".into(),
            quantity: "2".into(),
            note: "周末送".into(),
            region: None,
        };
        let (order, to) = retail::reorder(&mut net.conn(), &stock[1], &input).expect("reorder");
        assert_eq!(
            (order.agent_id, to.as_str(), order.quantity),
            (shop, "district-shop", 2)
        );
        let bad = ReorderInput {
            quantity: "0".into(),
            ..input.clone()
        };
        assert_eq!(
            code(retail::reorder(&mut net.conn(), &stock[1], &bad)),
            "retail_quantity"
        );
        let fulfil = SaleInput {
            codes: stock[5..7].join("\n"),
            retail_order: Some(order.id),
            ..SaleInput::default()
        };
        let done = retail::sell(&mut net.conn(), keys, shop_actor, &fulfil)
            .expect("sell")
            .expect("sold");
        assert_eq!(done.sale.retail_order_id, Some(order.id));
        assert!(done.sale.customer_id.is_some(), "the order's customer");
        let closed = store::retail_order(&mut net.conn(), order.id)
            .expect("read")
            .expect("order");
        assert_eq!(closed.state, RetailOrderState::Fulfilled);
        let again = SaleInput {
            codes: stock[7].clone(),
            retail_order: Some(order.id),
            ..SaleInput::default()
        };
        assert_eq!(
            code(retail::sell(&mut net.conn(), keys, shop_actor, &again)),
            "retail_order_not_open"
        );
        assert_eq!(custodian(&net, &stock[7]), "agent");
        assert_eq!(
            code(retail::cancel_order(&mut net.conn(), shop_actor, order.id)),
            "retail_order_not_open"
        );
        assert!(matches!(
            retail::cancel_order(&mut net.conn(), other, order.id),
            Err(Error::NotFound { .. })
        ));

        // An item HQ sold: the consumer picks a region; the agent of that city gets it.
        let hq_item = batch.rows[15].serial.clone();
        chainmark_server::registry::release(
            &mut net.conn(),
            &batch.batch_id,
            &hq_item,
            &hq_item,
            None,
        )
        .expect("release");
        let no_region = ReorderInput {
            region: None,
            ..input.clone()
        };
        assert_eq!(
            code(retail::reorder(&mut net.conn(), &hq_item, &no_region)),
            "no_agent_for_region"
        );
        let far = ReorderInput {
            region: Some("650102".into()),
            ..input.clone()
        };
        assert_eq!(
            code(retail::reorder(&mut net.conn(), &hq_item, &far)),
            "no_agent_for_region"
        );
        let near = ReorderInput {
            region: Some("330106".into()),
            ..input.clone()
        };
        let (routed, _) = retail::reorder(&mut net.conn(), &hq_item, &near).expect("reorder");
        assert_eq!(
            routed.agent_id, shop,
            "{backend:?}: the 区代 of 杭州 before the 市代"
        );
        retail::cancel_order(&mut net.conn(), shop_actor, routed.id).expect("cancel");

        // The pages: the shop sells by its form once, however often it is sent.
        let cookie = session(&net, "district-shop").await;
        let (status, body, _) = page(&net, "/agent/retail", Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("零售开单") && body.contains("王丽"),
            "{backend:?}"
        );
        let csrf = hidden_csrf(&body);
        let form = body
            .split("<form")
            .find(|f| f.contains("id=\"sale\""))
            .expect("sale form");
        let marker = "name=\"idempotency_key\" value=\"";
        let at = form.find(marker).expect("key") + marker.len();
        let key = form[at..].split('"').next().expect("value").to_string();
        let codes = stock[8..10].join("\n");
        let fields = [
            ("csrf", csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("codes", codes.as_str()),
            ("name", "赵女士"),
            ("phone", "13600136000"),
        ];
        let mut locations = Vec::new();
        for _ in 0..2 {
            let (status, headers, _) = net
                .app
                .send(post("/agent/retail/sell", Some(&cookie), &fields))
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            locations.push(
                headers
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(String::from),
            );
        }
        assert_eq!(
            locations[0], locations[1],
            "the resubmission is answered the same"
        );
        let sales = store::sales(&mut net.conn(), shop, None, None, 100).expect("sales");
        let zhao: Vec<_> = sales
            .iter()
            .filter(|s| {
                s.item_count == 2 && s.retail_order_id.is_none() && s.id != sold_once.sale.id
            })
            .collect();
        assert_eq!(zhao.len(), 1, "{backend:?}: one sale for two posts");
        let (_, receipt, _) = page(
            &net,
            &format!("/agent/retail/sales/{}", zhao[0].id),
            Some(&cookie),
        )
        .await;
        assert!(
            receipt.contains("赵女士") && receipt.contains(&stock[8]),
            "{backend:?}"
        );
        let (_, members, _) = page(&net, "/agent/customers?q=赵", Some(&cookie)).await;
        assert!(members.contains("13600136000") && members.contains("门店购买"));
        // Another agent cannot read the receipt.
        let other_cookie = session(&net, "city-other").await;
        let (status, _, _) = page(
            &net,
            &format!("/agent/retail/sales/{}", zhao[0].id),
            Some(&other_cookie),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // A consumer verifying an item it bought is shown the way to join or reorder.
        let row = &batch.rows[8];
        let (status, _, verdict) = net
            .app
            .send(post(
                &format!("/v/{}", row.serial),
                None,
                &[
                    ("t", row.tag.as_str()),
                    ("code", row.security_code.as_str()),
                ],
            ))
            .await;
        let verdict = String::from_utf8_lossy(&verdict);
        assert_eq!(status, StatusCode::OK, "{verdict}");
        assert!(
            verdict.contains("id=\"to-reorder\"")
                && verdict.contains(&format!("/s/{}", row.serial)),
            "{backend:?}"
        );

        // The consumer's item page names the seller and takes a reorder.
        let (status, item, _) = page(&net, &format!("/s/{}", stock[8]), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            item.contains("district-shop")
                && item.contains("id=\"reorder\"")
                && item.contains("id=\"member\"")
        );
        let (status, _, answer) = net
            .app
            .send(post(
                &format!("/s/{}/reorder", stock[8]),
                None,
                &[
                    ("name", "赵女士"),
                    ("phone", "13600136000"),
                    ("quantity", "1"),
                    ("note", ""),
                ],
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(String::from_utf8_lossy(&answer).contains("已提交给 district-shop"));
        let (status, _, answer) = net
            .app
            .send(post(
                &format!("/s/{}/reorder", stock[8]),
                None,
                &[("name", "赵女士"), ("phone", "12"), ("quantity", "1")],
            ))
            .await;
        assert!(status.is_client_error());
        assert!(String::from_utf8_lossy(&answer).contains("手机号有误"));
        let (_, body, _) = page(&net, "/agent/retail", Some(&cookie)).await;
        assert!(body.contains("data-retail-order=") && body.contains("赵女士 13600136000"));
    }
}
