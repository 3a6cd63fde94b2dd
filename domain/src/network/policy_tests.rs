//! Tests of the tier policy: the seed-004 preset matches DOMAIN §2; errors name their fields.

use super::*;
use crate::network::dec;

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
                t.entry_quantity().expect("by quantity"),
                t.unit_price.expect("a tier price"),
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
    assert_eq!(p.tiers()[0].entry_quantity(), Some(30 * p.items_per_case()));
    assert_eq!(p.lowest(), TierRank(5));
    assert_eq!(p.tier_by_key("city").map(|t| t.rank), Some(TierRank(3)));
    assert_eq!(p.price(TierRank(2), "ANY-SKU"), Some(dec("25.00")));
}

/// 授权价格: a price list by product and tier, validated field by field; a tier without a price of
/// its own sells only the products listed for it.
#[test]
fn prices_per_product_and_entry_amounts() {
    let doc = edited("unit_price = \"60.00\"\n", "entry_amount = \"300.00\"\n").replacen(
        "entry_quantity = 4\n",
        "",
        1,
    ) + "\n[prices.HONEY]\nnational = \"24.00\"\ncity = \"36.50\"\nspecial = \"70.00\"\n";
    let p = Policy::parse(&doc).expect("valid");
    assert_eq!(p.price(TierRank(3), "HONEY"), Some(dec("36.50")));
    assert_eq!(
        p.price(TierRank(3), "TEA"),
        Some(dec("31.00")),
        "the tier's own price"
    );
    assert_eq!(p.price(TierRank(5), "HONEY"), Some(dec("70.00")));
    assert_eq!(
        p.price(TierRank(5), "TEA"),
        None,
        "特约 has no price of its own"
    );
    assert_eq!(
        p.price(TierRank(2), "HONEY"),
        None,
        "listed: only at the tiers its row names"
    );
    assert_eq!(p.tiers()[4].entry, Entry::Amount(dec("300.00")));
    assert!(p.tiers()[4].entry.reached_by(4, dec("300.00")));
    assert!(!p.tiers()[4].entry.reached_by(40, dec("299.99")));

    let bad = doc.clone()
        + "\n[prices.OIL]\nnational = \"30.00\"\ncity = \"29.00\"\nnowhere = \"1.00\"\nspecial = \"0\"\n";
    let e = errors(&bad);
    for field in [
        "prices.OIL.city",
        "prices.OIL.nowhere",
        "prices.OIL.special",
    ] {
        assert!(e.names(field), "{field}: {e}");
    }
    let both = edited(
        "entry_quantity = 20",
        "entry_quantity = 20\nentry_amount = \"1.00\"",
    );
    assert!(errors(&both).names("tiers[3].entry_amount"));
    let unpriced = doc.replace(
        "[prices.HONEY]\nnational = \"24.00\"\ncity = \"36.50\"\nspecial = \"70.00\"\n",
        "",
    );
    assert!(
        errors(&unpriced).names("tiers[4].unit_price"),
        "no price at all for 特约"
    );
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

#[test]
fn an_agent_recruits_below_its_tier_its_own_with_a_rebate_and_above_with_an_award() {
    let p = Policy::seed_004().expect("seed 004");
    let keys = |rank: u8| -> Vec<String> {
        p.recruits(TierRank(rank))
            .iter()
            .map(|t| t.key.clone())
            .collect()
    };
    // 区代 (4): 总代, 省代, 市代 by the award matrix, itself by its 7% rebate, 特约 below.
    assert_eq!(
        keys(4),
        ["national", "provincial", "city", "district", "special"]
    );
    // 市代 (3): 总代 and 省代 by awards, itself, below.
    assert_eq!(
        keys(3),
        ["national", "provincial", "city", "district", "special"]
    );
    // 特约 (5): no same-tier rebate and no award: nobody.
    assert!(keys(5).is_empty());
}
