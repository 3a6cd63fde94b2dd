//! Tests of the tier policy: the seed-004 preset matches DOMAIN §2; errors name their fields.

use super::*;
use crate::domain::network::dec;

fn seed() -> Policy {
    Policy::seed_004().expect("the preset is valid")
}

/// Replaces the first occurrence of `from` in the preset.
fn edited(from: &str, to: &str) -> String {
    assert!(SEED_004.contains(from), "{from}");
    SEED_004.replacen(from, to, 1)
}

fn errors(text: &str) -> PolicyErrors {
    Policy::parse(text).expect_err("should be rejected")
}

#[test]
fn seed_004_matches_domain_section_2() {
    let p = seed();
    assert_eq!((p.version(), p.name()), (1, "seed-004"));
    let rows: Vec<_> = p
        .tiers()
        .iter()
        .map(|t| {
            (
                t.rank.0,
                t.name_zh.as_str(),
                t.entry_quantity,
                t.unit_price,
                t.upgrade_count,
                t.same_tier_rate,
            )
        })
        .collect();
    let want = vec![
        (1, "总代", 2160, dec("20.00"), Some(5), Some(dec("0.05"))),
        (2, "省代", 360, dec("25.00"), Some(3), Some(dec("0.09"))),
        (3, "市代", 72, dec("31.00"), Some(3), Some(dec("0.08"))),
        (4, "区代", 20, dec("38.00"), Some(3), Some(dec("0.07"))),
        (5, "特约", 4, dec("60.00"), None, None),
    ];
    assert_eq!(rows, want);
    assert_eq!(p.receive_days(), 10);
    assert_eq!(p.return_days(), 7);
    assert_eq!(p.items_per_case(), 72);
    assert_eq!(p.tiers()[0].entry_quantity, 30 * p.items_per_case());
    assert_eq!(p.lowest(), TierRank(5));
    assert_eq!(p.tier_by_key("city").map(|t| t.rank), Some(TierRank(3)));
    assert_eq!(p.tiers()[1].entry_amount(), dec("9000.00"));
}

#[test]
fn seed_004_award_matrix() {
    let p = seed();
    let (n, pr, c, d, s) = (
        TierRank(1),
        TierRank(2),
        TierRank(3),
        TierRank(4),
        TierRank(5),
    );
    assert_eq!(p.award(pr, n), Some(dec("1000")));
    assert_eq!(p.award(c, n), Some(dec("1000")));
    assert_eq!(p.award(c, pr), Some(dec("600")));
    assert_eq!(p.award(d, n), Some(dec("1000")));
    assert_eq!(p.award(d, pr), Some(dec("600")));
    assert_eq!(p.award(d, c), Some(dec("150")));
    // Nothing for same-tier or downward referrals, nor for 特约 referrers.
    assert_eq!(p.award(c, c), None);
    assert_eq!(p.award(pr, c), None);
    assert_eq!(p.award(s, n), None);
}

#[test]
fn windows_and_units_default_when_absent() {
    let text = SEED_004
        .replace(
            "receive_days = 10 # auto-receive this many days after shipping\n",
            "",
        )
        .replace("[units]\nitems_per_case = 72 # 1 件 = 72 盒\n", "");
    let p = Policy::parse(&text).expect("valid without them");
    assert_eq!(
        (p.receive_days(), p.return_days(), p.items_per_case()),
        (10, 7, 72)
    );
}

#[test]
fn a_non_positive_price_names_its_field() {
    let e = errors(&edited("unit_price = \"31.00\"", "unit_price = \"0\""));
    assert!(e.names("tiers[2].unit_price"), "{e}");
    assert!(
        e.to_string().contains("tiers[2].unit_price: must be > 0"),
        "{e}"
    );
}

#[test]
fn prices_must_rise_as_rank_falls() {
    let e = errors(&edited("unit_price = \"38.00\"", "unit_price = \"30.00\""));
    assert!(e.names("tiers[3].unit_price"), "{e}");
    assert!(e.to_string().contains("prices rise as rank falls"), "{e}");
}

#[test]
fn an_upward_award_only() {
    let e = errors(&edited(
        "city = \"150.00\"",
        "city = \"150.00\"\nspecial = \"10.00\"",
    ));
    assert!(e.names("awards.district.special"), "{e}");
    assert!(
        e.to_string()
            .contains("referred tier must rank above the referrer"),
        "{e}"
    );
    let e = errors(&edited("[awards.city]", "[awards.mayor]"));
    assert!(e.names("awards.mayor"), "{e}");
}

#[test]
fn ranks_contiguous_from_one_and_keys_unique() {
    let e = errors(&edited("rank = 5", "rank = 7"));
    assert!(e.names("tiers[4].rank"), "{e}");
    let e = errors(&edited("rank = 5", "rank = 4"));
    assert!(e.names("tiers[4].rank"), "{e}");
    let e = errors(&edited("key = \"special\"", "key = \"district\""));
    assert!(e.names("tiers[4].key"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = edited("unit_price = \"20.00\"", "unit_price = \"20.001\"")
        .replacen("approval = \"automatic\"", "approval = \"sometimes\"", 1)
        .replacen("same_tier_rate = \"0.09\"", "same_tier_rate = \"9\"", 1)
        .replacen("return_days = 7", "return_days = -1", 1)
        .replacen("entry_quantity = 4", "entry_quantity = 0", 1);
    let e = errors(&text);
    for field in [
        "tiers[0].unit_price",
        "tiers[4].approval",
        "tiers[1].same_tier_rate",
        "windows.return_days",
        "tiers[4].entry_quantity",
    ] {
        assert!(e.names(field), "{field} missing from {e}");
    }
}

#[test]
fn the_lowest_tier_cannot_be_upgraded_into() {
    let e = errors(&edited(
        "entry_quantity = 4",
        "entry_quantity = 4\nupgrade_count = 2",
    ));
    assert!(e.names("tiers[4].upgrade_count"), "{e}");
}

#[test]
fn money_is_never_read_through_a_float() {
    let e = errors(&edited("unit_price = \"20.00\"", "unit_price = 20.0"));
    assert!(e.0[0].field.ends_with("(unit_price)"), "{e}");
    assert!(e.to_string().contains("expected a string"), "{e}");
    let e = errors(&edited("version = 1", "version = 1\nsurprise = true"));
    assert!(e.to_string().contains("surprise"), "{e}");
}
