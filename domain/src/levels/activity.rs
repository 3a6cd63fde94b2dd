//! Activity the network's orders do not hold, which HQ records (or an import brings) for the
//! level metrics: a customer bound to an agent, a wallet recharge, a level price paid.

/// What a row of `level_activity` records.
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
pub enum ActivityKind {
    /// 绑定客户: a customer bound to the agent (no amount).
    CustomerBound,
    /// 充值: a wallet recharge.
    Recharge,
    /// 等级付费: a level price paid, for the tier it names.
    LevelPayment,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::ActivityKind;

    #[test]
    fn activity_kinds_keep_their_stored_names() {
        crate::pin_stored_names(
            &[
                (ActivityKind::CustomerBound, "customer_bound"),
                (ActivityKind::Recharge, "recharge"),
                (ActivityKind::LevelPayment, "level_payment"),
            ],
            ActivityKind::as_str,
            ActivityKind::parse,
        );
    }
}
