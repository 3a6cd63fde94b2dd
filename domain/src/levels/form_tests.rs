use super::*;
use crate::levels::presets::PRESETS;
use crate::levels::{DowngradeKind, Match, OnChange};
use crate::network::TierRank;

fn tiers() -> Policy {
    Policy::seed_004().expect("preset")
}

#[test]
fn every_preset_reads_back_through_the_form_to_the_same_rules() {
    let t = tiers();
    for p in PRESETS {
        let f = fields(p.document, &t);
        let (read_back, doc) = read(&f, &t, 7).unwrap_or_else(|e| panic!("{}: {e:?}", p.key));
        let mut original = LevelPolicy::parse(p.document, &t).expect("preset");
        original.version = 7;
        assert_eq!(read_back, original, "{}", p.key);
        assert!(diff(p.document, &doc, &t).is_empty(), "{}", p.key);
    }
}

#[test]
fn a_threshold_edit_shows_in_the_diff_in_words() {
    let t = tiers();
    let doc = PRESETS[1].document;
    let mut f = fields(doc, &t);
    f.insert("lv.city.paths[0].window_days".into(), "20".into());
    f.insert(
        "lv.city.paths[0].thresholds.team_sales".into(),
        "50000.00".into(),
    );
    f.insert("on_change".into(), "relevel".into());
    let (p, new_doc) = read(&f, &t, 2).expect("valid");
    assert_eq!(p.on_change, OnChange::Relevel);
    let city = p.level(TierRank(3)).expect("city");
    assert_eq!(city.paths[0].set.join, Match::All);
    assert_eq!(city.paths[0].set.conditions.len(), 2);
    let zh: Vec<String> = diff(doc, &new_doc, &t)
        .iter()
        .map(|c| c.say(Lang::Zh).to_string())
        .collect();
    assert_eq!(
        zh,
        [
            "规则变更时: 保持现有等级,记录配额 → 按新规则重新评定所有代理",
            "市代 · 升级路径 1 · 团队业绩门槛: (无) → 50000.00",
            "市代 · 升级路径 1 · 考核天数: 10 → 20",
        ]
    );
}

#[test]
fn an_added_row_and_an_emptied_row() {
    let t = tiers();
    let mut f = fields("", &t);
    assert_eq!(rows_of(&f, "city", "paths"), 0);
    f.insert("name".into(), "new".into());
    f.insert("on_change".into(), "keep".into());
    f.insert("lv.city.automatic".into(), "on".into());
    // The empty row the form adds after the last one: left out.
    f.insert("lv.city.paths[0].match".into(), "all".into());
    f.insert("lv.city.paths[0].approval".into(), "automatic".into());
    f.insert("lv.city.paths[1].thresholds.orders".into(), "5".into());
    f.insert("lv.city.downgrade[0].kind".into(), "single".into());
    f.insert("lv.city.downgrade[0].days".into(), "3".into());
    let (p, _) = read(&f, &t, 1).expect("valid");
    let city = p.level(TierRank(3)).expect("city");
    assert_eq!(city.paths.len(), 1);
    assert_eq!(city.downgrades[0].kind, DowngradeKind::Single { days: 3 });
    assert!(!p.level(TierRank(2)).expect("provincial").automatic);
}

#[test]
fn problems_land_on_the_form_row_they_came_from() {
    let t = tiers();
    let mut f = fields(PRESETS[3].document, &t);
    // Row 0 of 市代 left empty, the rule moved to row 1: the document's paths[0] is row 1.
    for m in Metric::ALL {
        f.remove(&format!("lv.city.paths[0].thresholds.{}", m.key()));
    }
    f.insert("lv.city.paths[0].window_days".into(), String::new());
    f.insert("lv.city.paths[1].thresholds.recharge".into(), "-3".into());
    f.insert("lv.city.paths[1].window_days".into(), "abc".into());
    let e = read(&f, &t, 2).expect_err("refused");
    assert_eq!(e[0].field, "lv.city.paths[1].window_days");
    assert!(e[0].zh.contains("abc"));
    f.insert("lv.city.paths[1].window_days".into(), "30".into());
    let e = read(&f, &t, 2).expect_err("refused");
    let neg = e
        .iter()
        .find(|e| e.field == "lv.city.paths[1].thresholds.recharge")
        .unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(neg.zh, "不能为负数");
    assert_eq!(
        label(&t, &neg.field, Lang::Zh),
        "市代 · 升级路径 2 · 充值金额门槛"
    );
    f.insert("lv.city.protection.thresholds.orders".into(), "2".into());
    let e = read(&f, &t, 2).expect_err("refused");
    assert!(
        e.iter().any(|e| e.field == "lv.city.protection.days"),
        "{e:?}"
    );
}

#[test]
fn a_preset_renumbered_keeps_its_comments() {
    let t = tiers();
    let doc = renumbered(PRESETS[0].document, 5);
    assert!(doc.contains("version = 5\n") && doc.contains("# 方式四"));
    assert_eq!(LevelPolicy::parse(&doc, &t).expect("valid").version, 5);
    assert!(renumbered("name = \"x\"", 2).starts_with("version = 2\n"));
}
