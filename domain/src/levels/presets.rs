//! Ready-made level policies for the engines of seeds 000–003 (issue 18), written on the seed-004
//! tiers (总代 … 特约): HQ starts from one on `/hq/levels` and adjusts the amounts.

/// One shipped level policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Stable key, used in the page's address (`?preset=seed-001`).
    pub key: &'static str,
    /// Its name ("种子 001").
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// What it does, in one line.
    pub zh: &'static str,
    pub en: &'static str,
    pub document: &'static str,
}

pub const PRESETS: [Preset; 4] = [
    Preset {
        key: "seed-000",
        name_zh: "种子 000",
        name_en: "Seed 000",
        zh: "种子 000:业绩达标申请升级(总部审核)、购买升级商品、直接支付等级价格、0门槛由上级和总部审核",
        en: "Seed 000: apply once targets are met (HQ approves), buy an upgrade product, pay the level price, or be approved by the supplier and HQ with no threshold",
        document: include_str!("presets/seed-000.toml"),
    },
    Preset {
        key: "seed-001",
        name_zh: "种子 001",
        name_en: "Seed 001",
        zh: "种子 001:限期内业绩或单数达标升级;单次考核、周期考核与每日门槛考核降级;近几天付款可保级;改规则时保持等级并记录配额",
        en: "Seed 001: reach sales or order targets within a window; single, cyclic and daily threshold assessments downgrade; recent payments protect a level; a rule change keeps levels with quotas",
        document: include_str!("presets/seed-001.toml"),
    },
    Preset {
        key: "seed-002",
        name_zh: "种子 002",
        name_en: "Seed 002",
        zh: "种子 002:等级值(每元业绩 1 分、每个绑定客户 50 分、每个下级代理 80 分)达标升级,等级有效期 90 天,到期未达标降为特约",
        en: "Seed 002: level points (1 per yuan sold, 50 per bound customer, 80 per sub-agent) reach a level valid for 90 days; short of the points at its end, back to special",
        document: include_str!("presets/seed-002.toml"),
    },
    Preset {
        key: "seed-003",
        name_zh: "种子 003",
        name_en: "Seed 003",
        zh: "种子 003:近 30 天充值金额达标升级,等级有效期 30 天,到期按升级规则重新评定",
        en: "Seed 003: recharges over the last 30 days reach a level valid for 30 days, then re-assessed by the same rules",
        document: include_str!("presets/seed-003.toml"),
    },
];

/// The preset with this key.
pub fn preset(key: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::levels::{LevelPolicy, OnChange};
    use crate::network::Policy;

    #[test]
    fn every_preset_parses_against_the_seed_004_tiers() {
        let tiers = Policy::seed_004().expect("tiers");
        for p in PRESETS {
            let levels =
                LevelPolicy::parse(p.document, &tiers).unwrap_or_else(|e| panic!("{}: {e}", p.key));
            assert!(
                levels.levels.iter().any(|l| !l.paths.is_empty()),
                "{}: a way up",
                p.key
            );
            assert!(!p.zh.is_empty() && !p.en.is_empty());
        }
        let keep = LevelPolicy::parse(PRESETS[1].document, &tiers).expect("seed 001");
        assert_eq!(keep.on_change, OnChange::Keep);
        assert!(
            keep.level(crate::network::TierRank(3))
                .expect("city")
                .protection
                .is_some()
        );
        assert_eq!(preset("seed-002").map(|p| p.key), Some("seed-002"));
        assert_eq!(preset("nope"), None);
    }
}
