use std::collections::HashMap;

use chrono::NaiveDate;

use super::*;

fn tiers() -> Vec<TierInfo> {
    [
        ("national", "总代", "National"),
        ("provincial", "省代", "Provincial"),
        ("city", "市代", "City"),
        ("district", "区代", "District"),
        ("special", "特约", "Special"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (k, zh, en))| TierInfo {
        rank: u8::try_from(i + 1).unwrap_or(u8::MAX),
        key: k.to_string(),
        name_zh: zh.to_string(),
        name_en: en.to_string(),
    })
    .collect()
}

/// A few regions of the book (the server ships the whole table).
fn book() -> &'static crate::diversion::region::RegionBook {
    static BOOK: std::sync::OnceLock<crate::diversion::region::RegionBook> =
        std::sync::OnceLock::new();
    BOOK.get_or_init(|| {
        crate::diversion::region::RegionBook::parse(
            "code,name,latitude,longitude\n330000,浙江省,,\n330100,杭州市,,\n330106,西湖区,,\n",
        )
        .unwrap_or_default()
    })
}

fn world() -> World<'static> {
    let mut known = HashMap::new();
    known.insert(
        7,
        KnownAgent {
            referrer: None,
            tier_rank: 2,
            active: true,
            phone: Some("13900000007".into()),
        },
    );
    World {
        tiers: tiers(),
        today: NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default(),
        regions: book(),
        taken: HashMap::from([
            ("13900000007".to_string(), Taken::Account),
            ("13900000009".to_string(), Taken::Pending),
        ]),
        agents_by_phone: HashMap::from([("13900000007".to_string(), 7)]),
        known,
        skus: HashMap::from([("TEA".to_string(), 1)]),
    }
}

fn table(sheet: Sheet, headers: &[&str], rows: &[&[&str]]) -> Table {
    Table {
        file: "net.csv".into(),
        sheet,
        headers: headers.iter().map(|s| s.to_string()).collect(),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, r)| (i + 2, r.iter().map(|s| s.to_string()).collect()))
            .collect(),
    }
}

const AGENT_HEADERS: &[&str] = &[
    "phone",
    "name",
    "id_number",
    "tier",
    "referrer_phone",
    "regions",
    "joined_on",
    "tier_reached_on",
    "status",
    "old_supplier_phone",
];

fn agents(rows: &[&[&str]]) -> Table {
    table(Sheet::Agents, AGENT_HEADERS, rows)
}

fn codes(problems: &[Problem]) -> Vec<(usize, &'static str)> {
    problems
        .iter()
        .map(|p| (p.place.row.unwrap_or(0), p.code()))
        .collect()
}

#[test]
fn a_good_file_plans_referrers_first_and_derives_suppliers() {
    let t = agents(&[
        // row 2: referred by row 3, which is listed after it
        &[
            "13800000002",
            "乙",
            "330106199001011234",
            "区代",
            "13800000003",
            "330106",
            "2026-01-05",
            "",
            "",
            "13900000007",
        ],
        &[
            "13800000003",
            "甲",
            "330106199001011235",
            "city",
            "13900000007",
            "330100",
            "2026-01-01",
            "2026-02-01",
            "正常",
            "",
        ],
    ]);
    let plan = plan(&[t], &world()).expect("plan");
    assert_eq!(plan.agents[0].phone, "13800000003");
    assert_eq!(plan.agents[1].referrer, Upline::File(0));
    // 区代 under a 市代: the 市代 supplies it; the 市代 under a 省代 (agent 7) buys from it.
    assert_eq!(plan.agents[1].supplier, Upline::File(0));
    assert_eq!(plan.agents[0].supplier, Upline::Known(7));
    assert_eq!(
        plan.agents[0].reached_on,
        NaiveDate::from_ymd_opt(2026, 2, 1).unwrap_or_default()
    );
    // The old system had agent 7 supply row 2: reported.
    assert_eq!(
        plan.supplier_differences,
        vec![SupplierDifference {
            row: 2,
            phone: "13800000002".into(),
            old: Some("13900000007".into()),
            derived: Some("13800000003".into()),
        }]
    );
}

#[test]
fn every_problem_is_named_by_row_and_column() {
    let t = agents(&[
        &[
            "13800000002",
            "乙",
            "330106199001011234",
            "boss",
            "",
            "330106",
            "2026-01-05",
            "",
            "",
            "",
        ],
        &[
            "13800000002",
            "丙",
            "330106199001011235",
            "city",
            "",
            "999999",
            "2027-01-01",
            "",
            "",
            "",
        ],
        &[
            "13800000004",
            "丁",
            "330106199001011236",
            "city",
            "13811111111",
            "330100",
            "2026-01-01",
            "",
            "maybe",
            "",
        ],
        &[
            "13900000007",
            "戊",
            "330106199001011237",
            "city",
            "",
            "330100",
            "2026-01-01",
            "",
            "",
            "",
        ],
        &[
            "13900000009",
            "己",
            "330106199001011238",
            "city",
            "",
            "330100",
            "2026-01-01",
            "",
            "",
            "",
        ],
    ]);
    let problems = plan(&[t], &world()).expect_err("problems");
    let found = codes(&problems);
    for expected in [
        (2, "unknown_tier"),
        (3, "duplicate_phone"),
        (3, "bad_region"),
        (3, "in_future"),
        (4, "referrer_missing"),
        (4, "bad_status"),
        (5, "phone_taken"),
        (6, "phone_pending"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    let dup = problems
        .iter()
        .find(|p| p.code() == "duplicate_phone")
        .expect("dup");
    assert_eq!(dup.place.column, Some(Column::Phone));
    assert!(dup.message_en().contains("row 2"), "{}", dup.message_en());
    assert!(dup.render(true).contains("第 3 行"), "{}", dup.render(true));
}

#[test]
fn referrer_rings_of_any_length_are_refused() {
    let t = agents(&[
        &[
            "13800000002",
            "a",
            "330106199001011234",
            "city",
            "13800000004",
            "330106",
            "2026-01-05",
            "",
            "",
            "",
        ],
        &[
            "13800000003",
            "b",
            "330106199001011235",
            "city",
            "13800000002",
            "330106",
            "2026-01-05",
            "",
            "",
            "",
        ],
        &[
            "13800000004",
            "c",
            "330106199001011236",
            "city",
            "13800000003",
            "330106",
            "2026-01-05",
            "",
            "",
            "",
        ],
        &[
            "13800000005",
            "d",
            "330106199001011237",
            "city",
            "13800000005",
            "330106",
            "2026-01-05",
            "",
            "",
            "",
        ],
    ]);
    let problems = plan(&[t], &world()).expect_err("ring");
    let ring = problems
        .iter()
        .find(|p| p.code() == "referrer_cycle")
        .expect("cycle");
    assert_eq!(ring.kind, ProblemKind::ReferrerCycle(vec![2, 3, 4]));
    assert!(codes(&problems).contains(&(5, "self_referrer")));
}

#[test]
fn amounts_dates_and_history_are_checked() {
    let a = agents(&[&[
        "13800000002",
        "a",
        "330106199001011234",
        "city",
        "",
        "330106",
        "2026-01-05",
        "",
        "",
        "",
    ]]);
    let b = table(
        Sheet::Balances,
        &["phone", "wallet", "amount", "release_on"],
        &[
            &["13800000002", "available", "10.005", ""],
            &["13800000002", "frozen", "5.00", ""],
            &["13800000002", "冻结", "5.50", "2027-01-01"],
            &["13800000003", "available", "1", ""],
        ],
    );
    let o = table(
        Sheet::Orders,
        &["phone", "order_no", "paid_on", "sku", "quantity", "amount"],
        &[
            &["13800000002", "A1", "2026-01-04", "TEA", "2", "10"],
            &["13800000002", "A1", "2026-02-01", "NOPE", "0", "10.1"],
        ],
    );
    let problems = plan(&[a, b, o], &world()).expect_err("problems");
    let found: Vec<(Option<Sheet>, usize, &str)> = problems
        .iter()
        .map(|p| (p.place.sheet, p.place.row.unwrap_or(0), p.code()))
        .collect();
    for expected in [
        (Some(Sheet::Balances), 2, "too_many_decimals"),
        (Some(Sheet::Balances), 3, "release_required"),
        (Some(Sheet::Balances), 5, "unknown_agent"),
        (Some(Sheet::Orders), 2, "before_joined"),
        (Some(Sheet::Orders), 3, "duplicate_order_no"),
        (Some(Sheet::Orders), 3, "unknown_sku"),
        (Some(Sheet::Orders), 3, "bad_quantity"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
}

#[test]
fn the_digest_ignores_header_language_and_column_order() {
    let en = agents(&[&[
        "13800000002",
        "a",
        "330106199001011234",
        "city",
        "",
        "330106",
        "2026-01-05",
        "",
        "",
        "",
    ]]);
    let mut zh = en.clone();
    zh.headers = Sheet::Agents
        .columns()
        .iter()
        .map(|c| c.header_zh().to_string())
        .collect();
    assert_eq!(digest(std::slice::from_ref(&en)), digest(&[zh]));
    let mut swapped = en.clone();
    swapped.headers.swap(0, 1);
    for (_, cells) in &mut swapped.rows {
        cells.swap(0, 1);
    }
    assert_eq!(digest(std::slice::from_ref(&en)), digest(&[swapped]));
    let mut other = en.clone();
    other.rows[0].1[1] = "b".into();
    assert_ne!(digest(&[en]), digest(&[other]));
}
