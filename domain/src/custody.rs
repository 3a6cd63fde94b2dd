//! Custody by scans (DOMAIN §6, 一物一码): what one warehouse scan does to the items it names.
//!
//! Pure: the store loads the scanned item or case (with its items) and the scanning device's
//! owner, [`decide`] says which changes to make or why none may be made, and the store applies the
//! changes in the same transaction. A scan of a case stands for all of its items while the case
//! is sealed, and applies to all of them or to none.
//!
//! Shipping against an order is decided by the order rules (`crate::network::shipping`), which
//! know the order's lines; this module covers pack, unpack, receive, return, sell and inspect.

use chainmark_wire::{RejectReason, ScanKind};

/// Who scans: the owner of the device (a warehouse belongs to HQ or to an agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Hq,
    Agent(i64),
}

impl Party {
    pub fn custodian(self) -> Custodian {
        match self {
            Party::Hq => Custodian::Hq,
            Party::Agent(id) => Custodian::Agent(id),
        }
    }
}

/// The kind of custodian, as `items.custodian_kind` and `custody_events.{from,to}_kind` store
/// it (the id beside it names the agent or the order).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum CustodianKind {
    Hq,
    Agent,
    Transit,
    Sold,
}

impl CustodianKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<CustodianKind> {
        s.parse().ok()
    }
}

/// Whether a registered item (`items.status`) or a whole batch (`batches.status`) still counts:
/// voiding and recalling end it for good.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum ItemStatus {
    Active,
    /// 作废: never valid again.
    Voided,
    /// 召回.
    Recalled,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<ItemStatus> {
        s.parse().ok()
    }
}

/// What a custody event records (`custody_events.kind`): the registry's own changes (void,
/// recall, release for sale) and the scans and order steps that move items. `Import` starts every
/// item's history but is recorded once on its batch (`batches.imported_at`, `imported_by`), not
/// as a row per item; readers put it first.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum CustodyEventKind {
    /// Registered by a batch import, in HQ custody.
    Import,
    Pack,
    Unpack,
    Ship,
    Receive,
    Return,
    Sell,
    Inspect,
    Void,
    Recall,
    /// Released for sale from HQ (no agent in between).
    Release,
}

impl CustodyEventKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<CustodyEventKind> {
        s.parse().ok()
    }
}

/// A scan's custody events are of the scan's kind.
impl From<ScanKind> for CustodyEventKind {
    fn from(kind: ScanKind) -> Self {
        match kind {
            ScanKind::Pack => CustodyEventKind::Pack,
            ScanKind::Unpack => CustodyEventKind::Unpack,
            ScanKind::Ship => CustodyEventKind::Ship,
            ScanKind::Receive => CustodyEventKind::Receive,
            ScanKind::Return => CustodyEventKind::Return,
            ScanKind::Sell => CustodyEventKind::Sell,
            ScanKind::Inspect => CustodyEventKind::Inspect,
        }
    }
}

/// Who holds an item now: the `custodian_kind` / `custodian_id` columns of `items`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Custodian {
    Hq,
    Agent(i64),
    /// On a shipment; the id is the order it was shipped against.
    Transit(Option<i64>),
    /// Sold to a consumer (released for sale at retail).
    Sold,
}

impl Custodian {
    pub fn from_columns(kind: CustodianKind, id: Option<i64>) -> Option<Custodian> {
        match (kind, id) {
            (CustodianKind::Hq, _) => Some(Custodian::Hq),
            (CustodianKind::Agent, Some(id)) => Some(Custodian::Agent(id)),
            (CustodianKind::Agent, None) => None,
            (CustodianKind::Transit, order) => Some(Custodian::Transit(order)),
            (CustodianKind::Sold, _) => Some(Custodian::Sold),
        }
    }

    pub fn columns(self) -> (CustodianKind, Option<i64>) {
        match self {
            Custodian::Hq => (CustodianKind::Hq, None),
            Custodian::Agent(id) => (CustodianKind::Agent, Some(id)),
            Custodian::Transit(order) => (CustodianKind::Transit, order),
            Custodian::Sold => (CustodianKind::Sold, None),
        }
    }
}

/// One item as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    pub serial: String,
    /// Not voided or recalled.
    pub active: bool,
    pub custodian: Custodian,
    /// The sealed case it is in, if any (an item of an opened case is loose).
    pub sealed_case: Option<String>,
}

/// What was scanned, resolved against the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    Item(ItemState),
    Case {
        code: String,
        opened: bool,
        /// Its items while sealed (loaded by the store; empty for an opened case).
        items: Vec<ItemState>,
    },
}

/// The scan's context, resolved: the case being packed, or the order being received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Context {
    None,
    /// `pack`: the case the items go into, and whether it is opened.
    PackInto {
        case: String,
    },
    /// `receive`: the order, and who bought it.
    Order {
        id: i64,
        buyer: Party,
    },
}

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Move the item to a new custodian (the event kind is the scan kind).
    Custody { serial: String, to: Custodian },
    /// Put the item into a case (`Some`) or take it out (`None`).
    CaseOf {
        serial: String,
        case: Option<String>,
    },
    /// Mark a case opened: it no longer stands for its items.
    OpenCase { code: String },
    /// Mark a case sealed again (packing into it).
    SealCase { code: String },
}

/// What a scan of `scanned` by `by` in `kind` changes, or why it changes nothing. `Ok(vec![])`
/// means accepted with no change (an inspect, or a repeat of a pack already made).
pub fn decide(
    kind: ScanKind,
    by: Party,
    scanned: &Scanned,
    context: &Context,
) -> Result<Vec<Change>, RejectReason> {
    match kind {
        ScanKind::Inspect => Ok(Vec::new()),
        ScanKind::Pack => pack(by, scanned, context),
        ScanKind::Unpack => unpack(by, scanned),
        ScanKind::Sell => move_each(items_of(scanned)?, |item| {
            held_by(item, by)?;
            Ok(Custodian::Sold)
        }),
        ScanKind::Receive => receive(by, scanned, context),
        ScanKind::Return => move_each(items_of(scanned)?, |item| return_item(item, by)),
        // Shipping needs the order's lines: the network rules decide it.
        ScanKind::Ship => Err(RejectReason::NotOnOrder),
    }
}

/// The items a scan stands for: the item, or every item of a sealed case.
pub fn items_of(scanned: &Scanned) -> Result<&[ItemState], RejectReason> {
    match scanned {
        Scanned::Item(item) => Ok(std::slice::from_ref(item)),
        Scanned::Case { opened: true, .. } => Err(RejectReason::CaseOpened),
        Scanned::Case { items, .. } if items.is_empty() => Err(RejectReason::CaseOpened),
        Scanned::Case { items, .. } => Ok(items),
    }
}

fn held_by(item: &ItemState, by: Party) -> Result<(), RejectReason> {
    if item.active && item.custodian == by.custodian() {
        Ok(())
    } else {
        Err(RejectReason::NotInCustody)
    }
}

fn move_each(
    items: &[ItemState],
    to: impl Fn(&ItemState) -> Result<Custodian, RejectReason>,
) -> Result<Vec<Change>, RejectReason> {
    items
        .iter()
        .map(|item| {
            Ok(Change::Custody {
                serial: item.serial.clone(),
                to: to(item)?,
            })
        })
        .collect()
}

fn pack(by: Party, scanned: &Scanned, context: &Context) -> Result<Vec<Change>, RejectReason> {
    let Context::PackInto { case } = context else {
        return Err(RejectReason::UnknownCode);
    };
    // A case is a package already: cases are not nested.
    let Scanned::Item(item) = scanned else {
        return Err(RejectReason::AlreadyPacked);
    };
    held_by(item, by)?;
    match &item.sealed_case {
        Some(current) if current == case => Ok(Vec::new()),
        Some(_) => Err(RejectReason::AlreadyPacked),
        None => Ok(vec![
            Change::SealCase { code: case.clone() },
            Change::CaseOf {
                serial: item.serial.clone(),
                case: Some(case.clone()),
            },
        ]),
    }
}

fn unpack(by: Party, scanned: &Scanned) -> Result<Vec<Change>, RejectReason> {
    match scanned {
        // Scanning a loose item in unpack mode takes it out of its case.
        Scanned::Item(item) => {
            held_by(item, by)?;
            Ok(match &item.sealed_case {
                Some(_) => vec![Change::CaseOf {
                    serial: item.serial.clone(),
                    case: None,
                }],
                None => Vec::new(),
            })
        }
        Scanned::Case { code, .. } => {
            let items = items_of(scanned)?;
            for item in items {
                held_by(item, by)?;
            }
            Ok(vec![Change::OpenCase { code: code.clone() }])
        }
    }
}

fn receive(by: Party, scanned: &Scanned, context: &Context) -> Result<Vec<Change>, RejectReason> {
    let Context::Order { id, buyer } = context else {
        return Err(RejectReason::NotOnOrder);
    };
    if *buyer != by {
        return Err(RejectReason::NotOnOrder);
    }
    move_each(items_of(scanned)?, |item| {
        if item.custodian == Custodian::Transit(Some(*id)) && item.active {
            Ok(by.custodian())
        } else if item.custodian == by.custodian() {
            // Received already (a second scan of the same item): nothing more to do.
            Err(RejectReason::AlreadyShipped)
        } else {
            Err(RejectReason::NotOnOrder)
        }
    })
}

/// A return is scanned where the goods come back to: the item must be held by an agent other
/// than the scanning party (goods a consumer bought are not taken back through the channel).
fn return_item(item: &ItemState, by: Party) -> Result<Custodian, RejectReason> {
    match item.custodian {
        Custodian::Agent(holder) if item.active && Party::Agent(holder) != by => Ok(by.custodian()),
        _ => Err(RejectReason::NotInCustody),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(serial: &str, custodian: Custodian, case: Option<&str>) -> ItemState {
        ItemState {
            serial: serial.into(),
            active: true,
            custodian,
            sealed_case: case.map(Into::into),
        }
    }

    fn sealed(code: &str, items: Vec<ItemState>) -> Scanned {
        Scanned::Case {
            code: code.into(),
            opened: false,
            items,
        }
    }

    #[test]
    fn inspect_changes_nothing_whoever_holds_it() {
        let s = Scanned::Item(item("A", Custodian::Agent(9), None));
        assert_eq!(
            decide(ScanKind::Inspect, Party::Hq, &s, &Context::None),
            Ok(vec![])
        );
    }

    #[test]
    fn pack_puts_a_loose_item_into_the_case_and_repeats_are_no_ops() {
        let into = Context::PackInto { case: "C1".into() };
        let loose = Scanned::Item(item("A", Custodian::Hq, None));
        assert_eq!(
            decide(ScanKind::Pack, Party::Hq, &loose, &into),
            Ok(vec![
                Change::SealCase { code: "C1".into() },
                Change::CaseOf {
                    serial: "A".into(),
                    case: Some("C1".into())
                }
            ])
        );
        let again = Scanned::Item(item("A", Custodian::Hq, Some("C1")));
        assert_eq!(decide(ScanKind::Pack, Party::Hq, &again, &into), Ok(vec![]));
        let elsewhere = Scanned::Item(item("A", Custodian::Hq, Some("C2")));
        assert_eq!(
            decide(ScanKind::Pack, Party::Hq, &elsewhere, &into),
            Err(RejectReason::AlreadyPacked)
        );
    }

    #[test]
    fn pack_needs_custody_a_case_context_and_an_item() {
        let into = Context::PackInto { case: "C1".into() };
        let theirs = Scanned::Item(item("A", Custodian::Agent(3), None));
        assert_eq!(
            decide(ScanKind::Pack, Party::Hq, &theirs, &into),
            Err(RejectReason::NotInCustody)
        );
        let mine = Scanned::Item(item("A", Custodian::Hq, None));
        assert_eq!(
            decide(ScanKind::Pack, Party::Hq, &mine, &Context::None),
            Err(RejectReason::UnknownCode)
        );
        let case = sealed("C2", vec![item("B", Custodian::Hq, Some("C2"))]);
        assert_eq!(
            decide(ScanKind::Pack, Party::Hq, &case, &into),
            Err(RejectReason::AlreadyPacked)
        );
    }

    #[test]
    fn unpack_opens_a_sealed_case_once() {
        let case = sealed("C1", vec![item("A", Custodian::Hq, Some("C1"))]);
        assert_eq!(
            decide(ScanKind::Unpack, Party::Hq, &case, &Context::None),
            Ok(vec![Change::OpenCase { code: "C1".into() }])
        );
        let opened = Scanned::Case {
            code: "C1".into(),
            opened: true,
            items: vec![],
        };
        assert_eq!(
            decide(ScanKind::Unpack, Party::Hq, &opened, &Context::None),
            Err(RejectReason::CaseOpened)
        );
        let theirs = sealed("C1", vec![item("A", Custodian::Agent(2), Some("C1"))]);
        assert_eq!(
            decide(ScanKind::Unpack, Party::Hq, &theirs, &Context::None),
            Err(RejectReason::NotInCustody)
        );
    }

    #[test]
    fn a_case_scan_applies_to_all_items_or_none() {
        let mixed = sealed(
            "C1",
            vec![
                item("A", Custodian::Agent(5), Some("C1")),
                item("B", Custodian::Hq, Some("C1")),
            ],
        );
        assert_eq!(
            decide(ScanKind::Sell, Party::Agent(5), &mixed, &Context::None),
            Err(RejectReason::NotInCustody)
        );
        let whole = sealed(
            "C1",
            vec![
                item("A", Custodian::Agent(5), Some("C1")),
                item("B", Custodian::Agent(5), Some("C1")),
            ],
        );
        let changes = decide(ScanKind::Sell, Party::Agent(5), &whole, &Context::None)
            .expect("both held by agent 5");
        assert_eq!(changes.len(), 2);
        assert!(changes.iter().all(|c| matches!(
            c,
            Change::Custody {
                to: Custodian::Sold,
                ..
            }
        )));
    }

    #[test]
    fn receive_takes_only_items_in_transit_on_the_buyers_order() {
        let order = Context::Order {
            id: 7,
            buyer: Party::Agent(5),
        };
        let in_transit = Scanned::Item(item("A", Custodian::Transit(Some(7)), None));
        assert_eq!(
            decide(ScanKind::Receive, Party::Agent(5), &in_transit, &order),
            Ok(vec![Change::Custody {
                serial: "A".into(),
                to: Custodian::Agent(5)
            }])
        );
        assert_eq!(
            decide(ScanKind::Receive, Party::Agent(6), &in_transit, &order),
            Err(RejectReason::NotOnOrder)
        );
        let other_order = Scanned::Item(item("A", Custodian::Transit(Some(8)), None));
        assert_eq!(
            decide(ScanKind::Receive, Party::Agent(5), &other_order, &order),
            Err(RejectReason::NotOnOrder)
        );
        let received = Scanned::Item(item("A", Custodian::Agent(5), None));
        assert_eq!(
            decide(ScanKind::Receive, Party::Agent(5), &received, &order),
            Err(RejectReason::AlreadyShipped)
        );
    }

    #[test]
    fn returns_come_back_from_an_agent_not_from_consumers() {
        let held = Scanned::Item(item("A", Custodian::Agent(5), None));
        assert_eq!(
            decide(ScanKind::Return, Party::Hq, &held, &Context::None),
            Ok(vec![Change::Custody {
                serial: "A".into(),
                to: Custodian::Hq
            }])
        );
        let sold = Scanned::Item(item("A", Custodian::Sold, None));
        assert_eq!(
            decide(ScanKind::Return, Party::Hq, &sold, &Context::None),
            Err(RejectReason::NotInCustody)
        );
        assert_eq!(
            decide(ScanKind::Return, Party::Agent(5), &held, &Context::None),
            Err(RejectReason::NotInCustody)
        );
    }

    #[test]
    fn voided_items_move_nowhere() {
        let mut dead = item("A", Custodian::Hq, None);
        dead.active = false;
        assert_eq!(
            decide(
                ScanKind::Sell,
                Party::Hq,
                &Scanned::Item(dead),
                &Context::None
            ),
            Err(RejectReason::NotInCustody)
        );
    }

    #[test]
    fn custodian_columns_round_trip() {
        for c in [
            Custodian::Hq,
            Custodian::Agent(4),
            Custodian::Transit(Some(9)),
            Custodian::Transit(None),
            Custodian::Sold,
        ] {
            let (kind, id) = c.columns();
            assert_eq!(Custodian::from_columns(kind, id), Some(c));
        }
        assert_eq!(Custodian::from_columns(CustodianKind::Agent, None), None);
    }

    #[test]
    fn custody_values_keep_their_stored_names() {
        use CustodianKind as K;
        crate::pin_stored_names(
            &[
                (K::Hq, "hq"),
                (K::Agent, "agent"),
                (K::Transit, "transit"),
                (K::Sold, "sold"),
            ],
            K::as_str,
            K::parse,
        );
        crate::pin_stored_names(
            &[
                (ItemStatus::Active, "active"),
                (ItemStatus::Voided, "voided"),
                (ItemStatus::Recalled, "recalled"),
            ],
            ItemStatus::as_str,
            ItemStatus::parse,
        );
        use CustodyEventKind as E;
        crate::pin_stored_names(
            &[
                (E::Import, "import"),
                (E::Pack, "pack"),
                (E::Unpack, "unpack"),
                (E::Ship, "ship"),
                (E::Receive, "receive"),
                (E::Return, "return"),
                (E::Sell, "sell"),
                (E::Inspect, "inspect"),
                (E::Void, "void"),
                (E::Recall, "recall"),
                (E::Release, "release"),
            ],
            E::as_str,
            E::parse,
        );
        // A scan's events carry the scan's wire name.
        for kind in <ScanKind as strum::IntoEnumIterator>::iter() {
            assert_eq!(E::from(kind).as_str(), kind.as_str());
        }
    }
}
