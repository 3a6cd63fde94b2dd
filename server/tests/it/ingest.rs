//! Device ingest against a real database on both backends: scans applied at most once with
//! signed acks, custody moved with its events, and every kind of bad message refused with
//! nothing changed. The broker is left out here (see tests/ for the real processes): the
//! consumer hands exactly these (topic, payload) pairs to `handle_scan_message`.

use chainmark_server::devices::{self, Registration};
use chainmark_server::domain::custody::{CustodianKind, CustodyEventKind};
use chainmark_server::domain::network::OrderState;
use chainmark_server::ingest::MqttSettings;
use chainmark_server::ingest::device_key::DeviceKey;
use chainmark_server::ingest::directory::DeviceDirectory;
use chainmark_server::ingest::handle::{Reply, handle_scan_message};
use chainmark_server::store::DbConnection;
use chainmark_server::store::schema::{cases, custody_events, device_scans, items};
use chainmark_server::store::typed::Stored;
use chainmark_wire::{self as wire, AckResult, RejectReason, Scan, ScanEvent, ScanKind};
use diesel::prelude::*;

use crate::common::{BatchFixture, TestApp, backends, make_batch};

const PREFIX: &str = "chainmark";

struct Rig {
    app: TestApp,
    directory: DeviceDirectory,
    batch: BatchFixture,
    secret: String,
}

impl Rig {
    fn new(backend: crate::common::Backend) -> Rig {
        let app = TestApp::new(backend);
        let directory = DeviceDirectory::new(DeviceKey::from_bytes([42; 32]));
        let batch = make_batch(&app, "TEA-1", 12, 4);
        let secret = crate::common::register_hq_device(&app, &directory, "hh-01");
        Rig {
            app,
            directory,
            batch,
            secret,
        }
    }

    fn event(&self, seq: u64, kind: ScanKind, code: &str, context: Option<&str>) -> Vec<u8> {
        let scan = Scan {
            kind,
            code: code.into(),
            context: context.map(Into::into),
            scanned_at: "2026-11-24T09:00:00+08:00".into(),
        };
        ScanEvent::signed("hh-01", seq, &scan, self.secret.as_bytes()).to_json()
    }

    fn send_on(&self, topic: &str, payload: &[u8]) -> Option<Reply> {
        let mut conn = self.app.conn();
        let keys = self.app.state.keys.clone();
        chainmark_server::store::in_transaction::<_, chainmark_server::Error>(
            &mut conn,
            |c: &mut DbConnection| {
                handle_scan_message(c, &self.directory, &keys, PREFIX, topic, payload)
            },
        )
        .expect("handled without a storage error")
    }

    fn send(&self, payload: &[u8]) -> Option<Reply> {
        self.send_on(&wire::scans_topic(PREFIX, "hh-01"), payload)
    }

    /// Sends and checks the ack is signed for this device and seq; returns its result.
    fn scan(&self, seq: u64, kind: ScanKind, code: &str, context: Option<&str>) -> AckResult {
        let reply = self
            .send(&self.event(seq, kind, code, context))
            .expect("an answer");
        assert_eq!(reply.topic, wire::acks_topic(PREFIX, "hh-01"));
        let ack = wire::decode_ack(&reply.payload, "hh-01", self.secret.as_bytes())
            .expect("ack signed under the device secret");
        assert_eq!(ack.seq, seq);
        assert_eq!(ack.result, reply.result);
        reply.result
    }

    fn custodian(&self, serial: &str) -> (String, Option<i64>) {
        let mut conn = self.app.conn();
        let (kind, id): (CustodianKind, Option<i64>) = items::table
            .filter(items::serial.eq(serial))
            .select((items::custodian_kind, items::custodian_id))
            .first(&mut *conn)
            .expect("item");
        (kind.as_str().to_string(), id)
    }

    fn scans_recorded(&self) -> i64 {
        let mut conn = self.app.conn();
        device_scans::table
            .count()
            .get_result(&mut *conn)
            .expect("count")
    }

    fn device_events(&self) -> Vec<(String, String, Option<String>, Option<i64>)> {
        let mut conn = self.app.conn();
        let rows: Vec<(String, CustodyEventKind, Option<String>, Option<i64>)> =
            custody_events::table
                .filter(custody_events::device_id.is_not_null())
                .order(custody_events::id)
                .select((
                    custody_events::serial,
                    custody_events::kind,
                    custody_events::device_id,
                    custody_events::device_seq,
                ))
                .load(&mut *conn)
                .expect("events");
        rows.into_iter()
            .map(|(serial, kind, device, seq)| (serial, kind.as_str().to_string(), device, seq))
            .collect()
    }
}

fn rejected(reason: RejectReason) -> AckResult {
    AckResult::Rejected { reason }
}

#[test]
fn scans_move_custody_once_and_answer_with_signed_acks() {
    for backend in backends() {
        let rig = Rig::new(backend);
        let rows = &rig.batch.rows;
        let case0 = rows[0].case_code.clone();
        let case1 = rows[4].case_code.clone();
        assert_ne!(case0, case1, "4 items per case");

        // Inspect: accepted, nothing moves.
        assert_eq!(
            rig.scan(1, ScanKind::Inspect, &rows[0].serial, None),
            AckResult::Accepted
        );
        assert_eq!(rig.custodian(&rows[0].serial), ("hq".into(), None));

        // Unpack case 0, once.
        assert_eq!(
            rig.scan(2, ScanKind::Unpack, &case0, None),
            AckResult::Accepted
        );
        assert_eq!(
            rig.scan(3, ScanKind::Unpack, &case0, None),
            rejected(RejectReason::CaseOpened)
        );
        let mut conn = rig.app.conn();
        let opened: bool = cases::table
            .filter(cases::code.eq(&case0))
            .select(cases::opened)
            .first(&mut *conn)
            .expect("case");
        drop(conn);
        assert!(opened);

        // A loose item packs into case 1; an item still sealed in case 1 cannot go elsewhere.
        assert_eq!(
            rig.scan(4, ScanKind::Pack, &rows[0].serial, Some(&case1)),
            AckResult::Accepted
        );
        assert_eq!(
            rig.scan(5, ScanKind::Pack, &rows[5].serial, Some(&case0)),
            rejected(RejectReason::AlreadyPacked)
        );
        assert_eq!(
            rig.scan(6, ScanKind::Pack, &rows[1].serial, Some("NOT-A-CASE")),
            rejected(RejectReason::UnknownCode)
        );

        // Sell a loose item by its anti-counterfeit URL: custody moves, with its event.
        assert_eq!(
            rig.scan(7, ScanKind::Sell, &rows[1].verify_url, None),
            AckResult::Accepted
        );
        assert_eq!(rig.custodian(&rows[1].serial), ("sold".into(), None));
        assert_eq!(
            rig.device_events(),
            vec![(
                rows[1].serial.clone(),
                "sell".into(),
                Some("hh-01".into()),
                Some(7)
            )]
        );

        // Selling a whole sealed case moves each of its items (case 1 now holds 5).
        assert_eq!(
            rig.scan(8, ScanKind::Sell, &case1, None),
            AckResult::Accepted
        );
        for row in [&rows[0], &rows[4], &rows[7]] {
            assert_eq!(rig.custodian(&row.serial), ("sold".into(), None));
        }
        assert_eq!(rig.device_events().len(), 1 + 5);

        // The same seq again is a duplicate and changes nothing, whatever it now says.
        let before = rig.scans_recorded();
        assert_eq!(
            rig.scan(7, ScanKind::Sell, &rows[2].serial, None),
            rejected(RejectReason::Duplicate)
        );
        assert_eq!(rig.scans_recorded(), before);
        assert_eq!(rig.custodian(&rows[2].serial), ("hq".into(), None));

        // Forged and unknown codes.
        let forged = rows[2].verify_url.replace(&rows[2].tag, &rows[3].tag);
        assert_eq!(
            rig.scan(9, ScanKind::Sell, &forged, None),
            rejected(RejectReason::ForgedTag)
        );
        assert_eq!(
            rig.scan(10, ScanKind::Sell, "hello world", None),
            rejected(RejectReason::UnknownCode)
        );
        let other_app_batch = crate::common::write_batch_dir(&rig.app, "TEA-1", 2, 2);
        let stranger = &crate::common::read_print_csv(&other_app_batch)[0].serial;
        assert_eq!(
            rig.scan(11, ScanKind::Inspect, stranger, None),
            rejected(RejectReason::UnknownCode)
        );

        // Nothing to return from an agent; HQ's own stock cannot be "returned".
        assert_eq!(
            rig.scan(12, ScanKind::Return, &rows[2].serial, None),
            rejected(RejectReason::NotInCustody)
        );
        assert_eq!(rig.custodian(&rows[2].serial), ("hq".into(), None));
        // Every answer was recorded once per seq.
        assert_eq!(rig.scans_recorded(), 12, "{backend:?}");
    }
}

#[test]
fn bad_messages_are_refused_and_change_nothing() {
    for backend in backends() {
        let rig = Rig::new(backend);
        let serial = rig.batch.rows[0].serial.clone();
        let good = rig.event(1, ScanKind::Sell, &serial, None);

        // Not JSON, not an object, oversized: no seq to answer.
        assert_eq!(rig.send(b"{not json"), None);
        assert_eq!(rig.send(b"[1,2,3]"), None);
        assert_eq!(rig.send(&vec![b' '; wire::MAX_MESSAGE_BYTES + 1]), None);

        // A wrong MAC: a courtesy answer, never final, so the device keeps the scan.
        let mut tampered: serde_json::Value = serde_json::from_slice(&good).expect("json");
        tampered["code"] = serde_json::Value::String(rig.batch.rows[1].serial.clone());
        let reply = rig
            .send(tampered.to_string().as_bytes())
            .expect("courtesy answer");
        assert_eq!(reply.result, rejected(RejectReason::BadMac));
        assert!(!reply.result.is_final());

        // An unknown version and an unknown field.
        let mut v2: serde_json::Value = serde_json::from_slice(&good).expect("json");
        v2["v"] = 2.into();
        let reply = rig.send(v2.to_string().as_bytes()).expect("answer");
        assert_eq!(reply.result, rejected(RejectReason::UnknownVersion));
        let mut extra: serde_json::Value = serde_json::from_slice(&good).expect("json");
        extra["price"] = 1.into();
        let reply = rig.send(extra.to_string().as_bytes()).expect("answer");
        assert_eq!(reply.result, rejected(RejectReason::Malformed));

        // Published on another device's topic (or an unregistered one).
        let other = {
            let mut conn = rig.app.conn();
            devices::register(
                &mut conn,
                &rig.directory,
                &MqttSettings::default(),
                None,
                &Registration {
                    id: "hh-02".into(),
                    warehouse: "HQ-WH01".into(),
                    owner_agent: None,
                },
            )
            .expect("second device")
        };
        let reply = rig
            .send_on(&wire::scans_topic(PREFIX, &other.device.id), &good)
            .expect("answer to hh-02");
        assert_eq!(reply.result, rejected(RejectReason::DeviceNotAuthorised));
        assert_eq!(
            rig.send_on(&wire::scans_topic(PREFIX, "ghost"), &good),
            None
        );
        assert_eq!(rig.send_on("elsewhere/topic", &good), None);

        // Nothing of the above was applied or recorded.
        assert_eq!(rig.scans_recorded(), 0, "{backend:?}");
        assert_eq!(rig.custodian(&serial), ("hq".into(), None));

        // A revoked device is refused; reinstated, its scan applies.
        {
            let mut conn = rig.app.conn();
            devices::set_revoked(&mut conn, &rig.directory, None, "hh-01", true).expect("revoke");
        }
        let reply = rig.send(&good).expect("answer");
        assert_eq!(reply.result, rejected(RejectReason::DeviceNotAuthorised));
        assert_eq!(rig.custodian(&serial), ("hq".into(), None));
        {
            let mut conn = rig.app.conn();
            devices::set_revoked(&mut conn, &rig.directory, None, "hh-01", false)
                .expect("reinstate");
        }
        assert_eq!(
            rig.scan(1, ScanKind::Sell, &serial, None),
            AckResult::Accepted
        );
        assert_eq!(rig.custodian(&serial), ("sold".into(), None));
    }
}

#[tokio::test]
async fn the_broker_lets_in_only_current_devices_and_the_server() {
    for backend in backends() {
        let rig = Rig::new(backend);
        let db = &rig.app.state.db;
        let dir = &rig.directory;
        assert!(dir.authenticate(db, "hh-01", &rig.secret).await);
        assert!(!dir.authenticate(db, "hh-01", "wrong").await);
        assert!(!dir.authenticate(db, "hh-99", &rig.secret).await);
        assert!(!dir.authenticate(db, "../etc", &rig.secret).await);
        assert!(
            dir.authenticate(db, "chainmark-server", &dir.key().server_password())
                .await
        );
        assert!(!dir.authenticate(db, "chainmark-server", &rig.secret).await);
        // Re-keyed: the old secret stops working at once.
        let new_secret = {
            let mut conn = rig.app.conn();
            let p = devices::rekey(&mut conn, dir, &MqttSettings::default(), None, "hh-01")
                .expect("rekey");
            firmware_config::provision::decode(&p.provisioning)
                .expect("decode")
                .secret
        };
        assert_ne!(new_secret, rig.secret);
        assert!(!dir.authenticate(db, "hh-01", &rig.secret).await);
        assert!(dir.authenticate(db, "hh-01", &new_secret).await);
    }
}

/// A device of `owner` (`None`: HQ) and a way to send it signed scans.
struct Handheld<'a> {
    app: &'a TestApp,
    directory: &'a DeviceDirectory,
    id: String,
    secret: String,
}

impl<'a> Handheld<'a> {
    fn register(
        app: &'a TestApp,
        directory: &'a DeviceDirectory,
        id: &str,
        owner_agent: Option<i64>,
    ) -> Handheld<'a> {
        let mut conn = app.conn();
        let p = devices::register(
            &mut conn,
            directory,
            &MqttSettings::default(),
            None,
            &Registration {
                id: id.into(),
                warehouse: "WH".into(),
                owner_agent,
            },
        )
        .expect("register");
        Handheld {
            app,
            directory,
            id: id.into(),
            secret: firmware_config::provision::decode(&p.provisioning)
                .expect("decode")
                .secret,
        }
    }

    fn scan(&self, seq: u64, kind: ScanKind, code: &str, context: Option<&str>) -> AckResult {
        self.scan_ack(seq, kind, code, context).result
    }

    /// A scan as this device signs and sends it.
    fn payload(&self, seq: u64, kind: ScanKind, code: &str, context: Option<&str>) -> Vec<u8> {
        let scan = Scan {
            kind,
            code: code.into(),
            context: context.map(Into::into),
            scanned_at: "2026-11-24T09:00:00+08:00".into(),
        };
        ScanEvent::signed(&self.id, seq, &scan, self.secret.as_bytes()).to_json()
    }

    /// The whole signed ack, checked under the device's secret.
    fn scan_ack(&self, seq: u64, kind: ScanKind, code: &str, context: Option<&str>) -> wire::Ack {
        let payload = self.payload(seq, kind, code, context);
        let keys = self.app.state.keys.clone();
        let mut conn = self.app.conn();
        let reply = chainmark_server::store::in_transaction::<_, chainmark_server::Error>(
            &mut conn,
            |c: &mut DbConnection| {
                handle_scan_message(
                    c,
                    self.directory,
                    &keys,
                    PREFIX,
                    &wire::scans_topic(PREFIX, &self.id),
                    &payload,
                )
            },
        )
        .expect("handled")
        .expect("answered");
        let ack = wire::decode_ack(&reply.payload, &self.id, self.secret.as_bytes())
            .expect("ack signed under the device secret");
        assert_eq!(ack.result, reply.result);
        ack
    }
}

#[test]
fn orders_ship_and_are_received_by_scans() {
    use chainmark_server::domain::network::PaidVia;
    for backend in backends() {
        let net = crate::network::Net::new(backend);
        let batch = make_batch(&net.app, crate::network::SKU, 8, 4);
        let rows = &batch.rows;
        let (agent, _) = net.active("national-1", "national", None);
        let (other, _) = net.active("national-2", "national", None);
        let (_, buyer) = (agent, net.agent(agent));
        let order = {
            let input =
                chainmark_server::network::orders::OrderInput::single(crate::network::SKU, 6);
            let actor = chainmark_server::network::Actor::Agent {
                user: buyer.user_id.expect("agent user"),
                agent,
            };
            chainmark_server::network::orders::submit(&mut net.conn(), actor, &input)
                .expect("submit")
                .id
        };
        chainmark_server::network::orders::accept(&mut net.conn(), order, net.admin)
            .expect("accept");
        let directory = DeviceDirectory::new(DeviceKey::from_bytes([9; 32]));
        let hq = Handheld::register(&net.app, &directory, "hq-hh", None);
        let theirs = Handheld::register(&net.app, &directory, "agent2-hh", Some(other));
        let mine = Handheld::register(&net.app, &directory, "agent1-hh", Some(agent));
        let ctx = format!("CMORDER:{order}");

        // Not paid yet: nothing ships.
        assert_eq!(
            hq.scan(1, ScanKind::Ship, &rows[0].serial, Some(&ctx)),
            rejected(RejectReason::NotOnOrder)
        );
        net.pay(order, PaidVia::Offline, net.finance);
        // Only the shipper's device ships, and only against a real order.
        assert_eq!(
            theirs.scan(1, ScanKind::Ship, &rows[0].serial, Some(&ctx)),
            rejected(RejectReason::NotOnOrder)
        );
        assert_eq!(
            hq.scan(2, ScanKind::Ship, &rows[0].serial, Some("CMORDER:999999")),
            rejected(RejectReason::NotOnOrder)
        );
        // A whole case (4 items), then two loose items: the order is shipped. Each ack tells
        // the handheld the order's count of its product against what was ordered.
        let progress = |done| {
            Some(wire::OrderProgress {
                id: u64::try_from(order).expect("id"),
                sku: crate::network::SKU.into(),
                done,
                ordered: 6,
            })
        };
        let ack = hq.scan_ack(3, ScanKind::Ship, &rows[0].case_code, Some(&ctx));
        assert_eq!(ack.result, AckResult::Accepted);
        assert_eq!(ack.order, progress(4));
        assert_eq!(net.order(order).state, OrderState::Shipping);
        assert_eq!(
            hq.scan(4, ScanKind::Ship, &rows[0].serial, Some(&ctx)),
            rejected(RejectReason::AlreadyShipped)
        );
        assert_eq!(
            hq.scan(5, ScanKind::Ship, &rows[4].serial, Some(&ctx)),
            AckResult::Accepted
        );
        let ack = hq.scan_ack(6, ScanKind::Ship, &rows[5].serial, Some(&ctx));
        assert_eq!(ack.result, AckResult::Accepted);
        assert_eq!(ack.order, progress(6));
        assert_eq!(net.order(order).state, OrderState::Shipped);
        // Full: the next one exceeds, and a case that would exceed ships none of its items.
        assert_eq!(
            hq.scan(7, ScanKind::Ship, &rows[6].serial, Some(&ctx)),
            rejected(RejectReason::QuantityExceeded)
        );
        assert_eq!(net.order(order).shipped_quantity, 6);

        // The buyer's device receives; another agent's cannot.
        assert_eq!(
            theirs.scan(2, ScanKind::Receive, &rows[0].serial, Some(&ctx)),
            rejected(RejectReason::NotOnOrder)
        );
        for (seq, row) in [
            (1, &rows[0]),
            (2, &rows[1]),
            (3, &rows[2]),
            (4, &rows[3]),
            (5, &rows[4]),
        ] {
            assert_eq!(
                mine.scan(seq, ScanKind::Receive, &row.serial, Some(&ctx)),
                AckResult::Accepted
            );
        }
        assert_eq!(
            net.order(order).state,
            OrderState::Shipped,
            "one item still in transit"
        );
        assert_eq!(
            mine.scan(6, ScanKind::Receive, &rows[6].serial, Some(&ctx)),
            rejected(RejectReason::NotOnOrder)
        );
        assert_eq!(
            mine.scan(7, ScanKind::Receive, &rows[5].serial, Some(&ctx)),
            AckResult::Accepted
        );
        assert_eq!(net.order(order).state, OrderState::Received, "{backend:?}");
        let mut conn = net.conn();
        let held: i64 = items::table
            .filter(items::custodian_kind.eq(Stored(CustodianKind::Agent)))
            .filter(items::custodian_id.eq(agent))
            .count()
            .get_result(&mut *conn)
            .expect("count");
        assert_eq!(held, 6);
        let tagged: i64 = custody_events::table
            .filter(custody_events::kind.eq(Stored(CustodyEventKind::Ship)))
            .filter(custody_events::device_id.eq("hq-hh"))
            .count()
            .get_result(&mut *conn)
            .expect("count");
        assert_eq!(tagged, 6, "every ship event names the device");
    }
}

/// Which scans a world is sent.
#[derive(Clone, Copy)]
enum Scenario {
    /// Cases opened, packed and sold whole, orders shipped and received, between moves.
    Mixed,
    /// Sales and returns only.
    MovesOnly,
}

/// One scan as a handheld sends it: which device, its seq, kind, code and context.
type Sent<'s> = (&'s str, u64, ScanKind, String, Option<String>);

/// A custody event: item index, kind, from, to, device, seq, note.
type Happened = (
    usize,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// Where a world ends after a list of scans, in terms both worlds share: items and cases by
/// their place in the batch, custody history without times.
#[derive(Debug, PartialEq)]
struct Ending {
    answers: Vec<(AckResult, Option<wire::OrderProgress>)>,
    /// Per item: custodian, custodian id, the index of its case.
    items: Vec<(String, Option<i64>, Option<usize>)>,
    opened: Vec<bool>,
    history: Vec<Happened>,
    /// Every scan record: device, seq, result, items moved.
    records: Vec<(String, i64, String, i32)>,
    /// Every diversion alert: item index, kind, expected and observed region.
    alerts: Vec<(usize, String, Option<String>, Option<String>)>,
    order: (OrderState, i64),
}

/// A network with an accepted, paid order of 6 for one agent, a batch of 12 items in 3 cases,
/// an HQ handheld and the agent's, and item 11 in a second agent's hands (to be returned).
fn scanning_world(backend: crate::common::Backend, scenario: Scenario, together: bool) -> Ending {
    use chainmark_server::domain::network::PaidVia;
    use chainmark_server::ingest::handle::{Prepared, apply_together, prepare};
    let net = crate::network::Net::new(backend);
    let batch = make_batch(&net.app, crate::network::SKU, 12, 4);
    let rows = &batch.rows;
    let (agent, buyer) = net.active("national-1", "national", None);
    let (other, _) = net.active("national-2", "national", None);
    if let Scenario::Mixed = scenario {
        // Places for both agents: the agent's handheld is then a scanner with a region, every
        // scan of it checked for diversion (which reads custody from the database).
        use chainmark_server::store::diversion_places as places;
        places::set_agent_regions(&mut net.conn(), agent, &["330106".into()]).expect("regions");
        places::set_agent_regions(&mut net.conn(), other, &["440106".into()]).expect("regions");
    }
    let input = chainmark_server::network::orders::OrderInput::single(crate::network::SKU, 6);
    let order = chainmark_server::network::orders::submit(&mut net.conn(), buyer, &input)
        .expect("submit")
        .id;
    chainmark_server::network::orders::accept(&mut net.conn(), order, net.admin).expect("accept");
    net.pay(order, PaidVia::Offline, net.finance);
    {
        // Item 11 received by the second agent (its move and its event, as a receipt writes).
        use chainmark_server::domain::custody::{Change, Custodian, ItemState};
        use chainmark_server::store::custody::{self as custody_store, ScanOrigin};
        let held = ItemState {
            serial: rows[11].serial.clone(),
            active: true,
            custodian: Custodian::Hq,
            sealed_case: None,
        };
        let to_other = Change::Custody {
            serial: held.serial.clone(),
            to: Custodian::Agent(other),
        };
        let origin = ScanOrigin {
            kind: CustodyEventKind::Receive,
            device: None,
            actor: None,
            note: None,
        };
        custody_store::apply(&mut net.conn(), &[to_other], &[held], &origin)
            .expect("given to the second agent");
    }
    let directory = DeviceDirectory::new(DeviceKey::from_bytes([9; 32]));
    let hq = Handheld::register(&net.app, &directory, "hq-hh", None);
    let mine = Handheld::register(&net.app, &directory, "agent1-hh", Some(agent));
    let stranger = {
        let dir = crate::common::write_batch_dir(&net.app, crate::network::SKU, 2, 2);
        crate::common::read_print_csv(&dir)[0].serial.clone()
    };

    let ctx = Some(format!("CMORDER:{order}"));
    let (c0, c1) = (rows[0].case_code.clone(), rows[4].case_code.clone());
    let s = |i: usize| rows[i].serial.clone();
    let forged = rows[5].verify_url.replace(&rows[5].tag, &rows[6].tag);
    use ScanKind::*;
    let sent: Vec<Sent> = match scenario {
        // Only moves: the batch decides every scan from the items it read at its start.
        Scenario::MovesOnly => vec![
            // Two moves of one item, then a third refused from the state the second left.
            ("hq-hh", 1, Return, s(11), None),
            ("hq-hh", 2, Sell, s(11), None),
            ("hq-hh", 3, Sell, s(11), None),
            ("hq-hh", 4, Sell, rows[0].verify_url.clone(), None),
            ("hq-hh", 5, Inspect, s(0), None),
            ("hq-hh", 6, Sell, s(0), None),
            ("hq-hh", 7, Return, s(1), None),
            ("hq-hh", 8, Sell, s(1), None),
            ("hq-hh", 9, Sell, forged.clone(), None),
            ("hq-hh", 10, Sell, "hello world".into(), None),
            ("hq-hh", 9, Sell, s(2), None),
            ("hq-hh", 11, Sell, s(2), None),
            ("hq-hh", 12, Sell, s(2), None),
        ],
        Scenario::Mixed => vec![
            ("hq-hh", 1, Inspect, s(0), None),
            ("hq-hh", 2, Unpack, c0.clone(), None),
            ("hq-hh", 3, Unpack, c0.clone(), None),
            ("hq-hh", 4, Sell, rows[1].verify_url.clone(), None),
            ("hq-hh", 5, Sell, s(1), None),
            // Into case 1, which is then sold whole: its five items, item 0 among them.
            ("hq-hh", 6, Pack, s(0), Some(c1.clone())),
            ("hq-hh", 7, Sell, c1.clone(), None),
            ("hq-hh", 8, Sell, s(0), None),
            ("hq-hh", 9, Sell, s(4), None),
            // Two moves of one item: returned from the second agent, then sold.
            ("hq-hh", 10, Return, s(11), None),
            ("hq-hh", 11, Sell, s(11), None),
            ("hq-hh", 12, Ship, s(2), ctx.clone()),
            ("hq-hh", 13, Ship, s(3), ctx.clone()),
            ("hq-hh", 14, Ship, s(8), ctx.clone()),
            ("hq-hh", 15, Sell, s(9), None),
            ("hq-hh", 16, Ship, s(9), ctx.clone()),
            ("hq-hh", 17, Ship, s(2), ctx.clone()),
            ("agent1-hh", 1, Receive, s(2), ctx.clone()),
            ("agent1-hh", 2, Receive, s(3), ctx.clone()),
            ("agent1-hh", 3, Receive, s(2), ctx.clone()),
            ("agent1-hh", 4, Sell, s(3), None),
            ("agent1-hh", 5, Sell, s(8), None),
            // The second agent's item, seen by this agent's handheld: a diversion alert.
            ("agent1-hh", 6, Inspect, s(11), None),
            ("hq-hh", 18, Sell, "hello world".into(), None),
            ("hq-hh", 19, Sell, forged, None),
            ("hq-hh", 20, Inspect, stranger, None),
            // Sent twice: the second is a duplicate, whatever it says.
            ("hq-hh", 4, Sell, s(10), None),
            ("hq-hh", 21, Sell, s(10), None),
            ("hq-hh", 21, Sell, s(6), None),
        ],
    };
    let handheld = |id: &str| if id == "hq-hh" { &hq } else { &mine };
    let answers: Vec<(AckResult, Option<wire::OrderProgress>)> = if together {
        let keys = net.app.state.keys.clone();
        let mut conn = net.conn();
        let events: Vec<_> = sent
            .iter()
            .map(|(id, seq, kind, code, context)| {
                let device = handheld(id);
                let payload = device.payload(*seq, *kind, code, context.as_deref());
                let entry = directory.lookup(&mut conn, id).expect("lookup");
                match prepare(entry, PREFIX, &wire::scans_topic(PREFIX, id), &payload) {
                    Prepared::Apply { device, event } => (device, event),
                    Prepared::Answer(_) => panic!("scan {id}/{seq} refused before applying"),
                }
            })
            .collect();
        chainmark_server::store::in_transaction::<_, chainmark_server::Error>(
            &mut conn,
            |c: &mut DbConnection| apply_together(c, &keys, &events),
        )
        .expect("the batch applies")
        .into_iter()
        .map(|a| (a.result, a.order))
        .collect()
    } else {
        sent.iter()
            .map(|(id, seq, kind, code, context)| {
                let ack = handheld(id).scan_ack(*seq, *kind, code, context.as_deref());
                (ack.result, ack.order)
            })
            .collect()
    };

    let index = |serial: &str| {
        rows.iter()
            .position(|r| r.serial == serial)
            .expect("an item of the batch")
    };
    let cases: Vec<String> = rows
        .iter()
        .step_by(4)
        .map(|r| r.case_code.clone())
        .collect();
    let mut conn = net.conn();
    let mut items_now = Vec::new();
    for row in rows {
        let (kind, id, case): (CustodianKind, Option<i64>, Option<String>) = items::table
            .filter(items::serial.eq(&row.serial))
            .select((items::custodian_kind, items::custodian_id, items::case_code))
            .first(&mut *conn)
            .expect("item");
        let case = case.map(|c| cases.iter().position(|x| *x == c).expect("a case"));
        items_now.push((kind.as_str().to_owned(), id, case));
    }
    let opened = cases
        .iter()
        .map(|code| {
            cases::table
                .filter(cases::code.eq(code))
                .select(cases::opened)
                .first(&mut *conn)
                .expect("case")
        })
        .collect();
    type EventRow = (
        String,
        CustodyEventKind,
        Option<CustodianKind>,
        Option<CustodianKind>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let history = custody_events::table
        .filter(custody_events::serial.eq_any(rows.iter().map(|r| &r.serial)))
        .order(custody_events::id)
        .select((
            custody_events::serial,
            custody_events::kind,
            custody_events::from_kind,
            custody_events::to_kind,
            custody_events::device_id,
            custody_events::device_seq,
            custody_events::note,
        ))
        .load::<EventRow>(&mut *conn)
        .expect("history")
        .into_iter()
        .map(|(serial, kind, from, to, device, seq, note)| {
            let name = |k: Option<CustodianKind>| k.map_or("", |k| k.as_str()).to_owned();
            let kind = kind.as_str().to_owned();
            (
                index(&serial),
                kind,
                name(from),
                name(to),
                device,
                seq,
                note,
            )
        })
        .collect();
    let records = device_scans::table
        .order((device_scans::device_id, device_scans::seq))
        .select((
            device_scans::device_id,
            device_scans::seq,
            device_scans::result,
            device_scans::items_moved,
        ))
        .load(&mut *conn)
        .expect("records");
    use chainmark_server::domain::diversion::alert::AlertKind;
    use chainmark_server::store::schema::diversion_alerts;
    let alerts = diversion_alerts::table
        .order(diversion_alerts::id)
        .select((
            diversion_alerts::serial,
            diversion_alerts::kind,
            diversion_alerts::expected_region,
            diversion_alerts::observed_region,
        ))
        .load::<(String, AlertKind, Option<String>, Option<String>)>(&mut *conn)
        .expect("alerts")
        .into_iter()
        .map(|(serial, kind, expected, observed)| {
            (index(&serial), kind.as_str().to_owned(), expected, observed)
        })
        .collect();
    drop(conn);
    let o = net.order(order);
    Ending {
        alerts,
        answers,
        items: items_now,
        opened,
        history,
        records,
        order: (o.state, o.shipped_quantity),
    }
}

/// The consumer applies the scans waiting as one batch (on PostgreSQL set-wise: its items read
/// at once, its custody moves and events written together, before anything reads them from the
/// database). Whatever the mix — cases opened, packed and sold whole, an item moved twice,
/// orders shipped and received in between, a handheld with a region checking for diversion,
/// refusals and duplicates — a batch ends exactly where the same scans applied one at a time end.
#[test]
fn a_batch_of_scans_ends_where_the_same_scans_one_at_a_time_end() {
    for backend in backends() {
        let one_at_a_time = scanning_world(backend, Scenario::Mixed, false);
        let together = scanning_world(backend, Scenario::Mixed, true);
        assert_eq!(together, one_at_a_time, "{backend:?}");
        // The scenario does what its comments say, so the comparison covers those paths.
        let accepted = |i: usize| one_at_a_time.answers[i].0 == AckResult::Accepted;
        let accepted: Vec<usize> = (0..one_at_a_time.answers.len())
            .filter(|&i| accepted(i))
            .collect();
        assert_eq!(
            accepted,
            [0, 1, 3, 5, 6, 9, 10, 11, 12, 13, 14, 17, 18, 20, 22, 27],
            "{:?}",
            one_at_a_time.answers
        );
        assert_eq!(one_at_a_time.items[11], ("sold".into(), None, Some(2)));
        assert_eq!(one_at_a_time.order, (OrderState::Shipping, 3));
        assert!(
            !one_at_a_time.alerts.is_empty(),
            "the agent's handheld raised no alert"
        );

        // Moves only: on PostgreSQL every scan decides from the batch's own reading of its
        // items, which must follow each move (item 11 returned, then sold, then refused) and
        // write an item's two moves apart.
        let one_at_a_time = scanning_world(backend, Scenario::MovesOnly, false);
        let together = scanning_world(backend, Scenario::MovesOnly, true);
        assert_eq!(together, one_at_a_time, "{backend:?}");
        let accepted: Vec<usize> = (0..one_at_a_time.answers.len())
            .filter(|&i| one_at_a_time.answers[i].0 == AckResult::Accepted)
            .collect();
        assert_eq!(accepted, [0, 1, 3, 4, 7, 11], "{:?}", one_at_a_time.answers);
    }
}

/// Moves written together stay conditional on what each was decided on: an item that another
/// connection moved or recalled meanwhile turns the whole flush into a conflict, and nothing of
/// it is written (no lost update, no event for a move not made, no sale of a recalled item).
#[test]
fn moves_written_together_refuse_an_item_moved_or_recalled_meanwhile() {
    use chainmark_server::domain::custody::{Change, Custodian, ItemState, ItemStatus};
    use chainmark_server::store::custody::{self as custody_store, Deferred, ScanOrigin};
    for backend in backends() {
        let rig = Rig::new(backend);
        let rows = &rig.batch.rows;
        let seen: Vec<ItemState> = rows[..3]
            .iter()
            .map(|r| ItemState {
                serial: r.serial.clone(),
                active: true,
                custodian: Custodian::Hq,
                sealed_case: None,
            })
            .collect();
        let changes: Vec<Change> = seen
            .iter()
            .map(|i| Change::Custody {
                serial: i.serial.clone(),
                to: Custodian::Sold,
            })
            .collect();
        let origin = ScanOrigin {
            kind: CustodyEventKind::Sell,
            device: Some(("hh-01", 1)),
            actor: None,
            note: None,
        };
        let events_before = rig.device_events().len();
        let flush_after = |meanwhile: &dyn Fn()| {
            let mut conn = rig.app.conn();
            chainmark_server::store::in_transaction::<_, chainmark_server::store::Error>(
                &mut conn,
                |c: &mut DbConnection| {
                    let mut later = Deferred::default();
                    let moved =
                        custody_store::apply_with(c, &changes, &seen, &origin, Some(&mut later))?;
                    assert_eq!(moved, 3);
                    assert!(!later.is_empty(), "decided, not yet written");
                    meanwhile();
                    later.flush(c)
                },
            )
        };
        let item = |i: usize| items::table.filter(items::serial.eq(&rows[i].serial));
        // Another connection recalls item 2, then hands item 1 to an agent: each time the moves
        // decided before are refused whole.
        let recalled = flush_after(&|| {
            diesel::update(item(2))
                .set(items::status.eq(Stored(ItemStatus::Recalled)))
                .execute(&mut *rig.app.conn())
                .expect("recalled by someone else");
        });
        let moved = flush_after(&|| {
            diesel::update(item(1))
                .set((
                    items::custodian_kind.eq(Stored(CustodianKind::Agent)),
                    items::custodian_id.eq(7i64),
                ))
                .execute(&mut *rig.app.conn())
                .expect("moved by someone else");
        });
        for (err, serial) in [(recalled, &rows[2].serial), (moved, &rows[1].serial)] {
            let err = err.expect_err("a conflict");
            assert_eq!(
                err.code(),
                "custody_changed_meanwhile",
                "{backend:?}: {err}"
            );
            assert!(err.to_string().contains(serial.as_str()), "{err}");
        }
        assert_eq!(rig.custodian(&rows[0].serial), ("hq".into(), None));
        assert_eq!(rig.custodian(&rows[1].serial), ("agent".into(), Some(7)));
        assert_eq!(rig.custodian(&rows[2].serial), ("hq".into(), None));
        assert_eq!(rig.device_events().len(), events_before);
    }
}
