use super::*;

fn seed() -> Policy {
    Policy::seed_004().expect("preset")
}

fn skus() -> Vec<String> {
    vec!["HONEY".to_string()]
}

fn read_seed(edit: &[(&str, &str)]) -> Result<(Policy, String), Vec<FieldError>> {
    let base = seed();
    let mut f = fields(&base, &skus());
    for (k, v) in edit {
        f.insert((*k).to_string(), (*v).to_string());
    }
    read(&f, &base, &skus(), 2)
}

fn errors_on(edit: &[(&str, &str)], field: &str) -> Vec<FieldError> {
    let errs = read_seed(edit).expect_err("refused");
    assert!(
        errs.iter().any(|e| e.field == field),
        "no error on {field}: {errs:?}"
    );
    errs
}

#[test]
fn the_document_round_trips() {
    let p = seed();
    let back = Policy::parse(&p.to_document()).expect("reads back");
    assert_eq!(back, p);
}

#[test]
fn unchanged_form_reads_to_the_same_policy_but_the_version() {
    let (p, doc) = read_seed(&[]).expect("valid");
    assert_eq!(p.version(), 2);
    assert_eq!(p.tiers(), seed().tiers());
    assert_eq!(
        p.award(TierRank(4), TierRank(3)),
        seed().award(TierRank(4), TierRank(3))
    );
    assert!(doc.contains("version = 2"));
    assert!(diff(&seed(), &p, &skus()).is_empty());
}

#[test]
fn rates_are_typed_as_percentages() {
    let f = fields(&seed(), &skus());
    assert_eq!(f["tiers[1].same_tier_rate"], "9");
    let (p, _) = read_seed(&[("tiers[1].same_tier_rate", "10")]).expect("valid");
    assert_eq!(p.tiers()[1].same_tier_rate, Some("0.1".parse().expect("d")));
    let (p, _) = read_seed(&[("tiers[1].same_tier_rate", "8.5%")]).expect("valid");
    assert_eq!(
        p.tiers()[1].same_tier_rate,
        Some("0.085".parse().expect("d"))
    );
}

#[test]
fn a_price_edit_shows_in_the_diff_in_words() {
    let (p, _) = read_seed(&[
        ("tiers[2].unit_price", "29"),
        ("tiers[1].same_tier_rate", "10"),
        ("tiers[3].approval", "hq"),
    ])
    .expect("valid");
    assert_eq!(
        p.price(TierRank(3), "ANY"),
        Some("29.00".parse().expect("d"))
    );
    let d = diff(&seed(), &p, &skus());
    let zh: Vec<&str> = d.iter().map(|c| c.say(Lang::Zh)).collect();
    assert_eq!(
        zh,
        [
            "省代 · 同级推荐奖: 9% → 10%",
            "市代 · 单价: 31.00 → 29.00",
            "区代 · 审核方式: 上级审核后总部审核 → 总部审核",
        ]
    );
    assert_eq!(d[1].say(Lang::En), "city · unit price: 31.00 → 29.00");
}

#[test]
fn bad_fields_are_named_in_words() {
    let e = errors_on(&[("tiers[2].unit_price", "-5")], "tiers[2].unit_price");
    assert!(e[0].zh.contains("大于 0"), "{e:?}");
    let e = errors_on(
        &[("tiers[0].same_tier_rate", "120")],
        "tiers[0].same_tier_rate",
    );
    assert!(e[0].en.contains("100%"), "{e:?}");
    let e = errors_on(
        &[("tiers[3].entry_quantity", "abc")],
        "tiers[3].entry_quantity",
    );
    assert!(e[0].zh.contains("abc"), "{e:?}");
    // 市代 at 24.00 would pay less than 省代 (25.00).
    let e = errors_on(&[("tiers[2].unit_price", "24.00")], "tiers[2].unit_price");
    assert!(e[0].zh.contains("省代"), "{e:?}");
    errors_on(&[("windows.receive_days", "0")], "windows.receive_days");
    errors_on(&[("awards.district.city", "x")], "awards.district.city");
    errors_on(&[("tiers[0].name_zh", " ")], "tiers[0].name_zh");
    errors_on(&[("tiers[0].approval", "sometimes")], "tiers[0].approval");
}

#[test]
fn the_price_table_lists_a_product_at_some_tiers() {
    let (p, doc) = read_seed(&[
        ("prices.HONEY.city", "36.50"),
        ("prices.HONEY.district", "41"),
    ])
    .expect("valid");
    assert!(doc.contains("[prices.HONEY]"), "{doc}");
    assert_eq!(
        p.price(TierRank(3), "HONEY"),
        Some("36.50".parse().expect("d"))
    );
    assert_eq!(
        p.price(TierRank(1), "HONEY"),
        None,
        "listed: only at its tiers"
    );
    let e = errors_on(
        &[
            ("prices.HONEY.city", "36.50"),
            ("prices.HONEY.district", "30"),
        ],
        "prices.HONEY.district",
    );
    assert!(e[0].en.contains("city"), "{e:?}");
}

#[test]
fn the_effect_prices_the_same_orders_both_ways() {
    let (p, _) = read_seed(&[("tiers[2].unit_price", "29")]).expect("valid");
    let ordered = [
        OrderedItems {
            rank: TierRank(3),
            sku: "HONEY".into(),
            items: 72,
        },
        OrderedItems {
            rank: TierRank(4),
            sku: "HONEY".into(),
            items: 20,
        },
    ];
    let e = price_effect(&seed(), &p, &ordered);
    let city = e.iter().find(|e| e.rank == TierRank(3)).expect("city");
    assert_eq!(city.items, 72);
    assert_eq!(city.old_goods, "2232.00".parse().expect("d"));
    assert_eq!(city.new_goods, "2088.00".parse().expect("d"));
    let district = e.iter().find(|e| e.rank == TierRank(4)).expect("district");
    assert_eq!(district.old_goods, district.new_goods);
}
