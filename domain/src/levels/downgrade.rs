//! Downgrade (降级) and protection (保级) rules of a level (seed 001, with the validity periods of
//! seeds 002 and 003), and when each is due.
//!
//! Days are calendar days and inclusive: an agent that reached a level on 4.12 is in its first
//! cyclic period 4.12–4.21 (10 days), whose check is due on 4.21; its single assessment after
//! 3 days covers 4.12–4.14 and is due on 4.14.

use chrono::NaiveDate;

use super::metrics::Window;
use super::policy::ConditionSet;
use crate::network::TierRank;

/// When a level is checked for a downgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DowngradeKind {
    /// 不降级.
    Never,
    /// 等级门槛考核: every day, over each path's own window; moves to the level still met.
    Thresholds,
    /// 周期循环考核: at the end of every period of `days` since the level was reached.
    Cyclic { days: u32 },
    /// 单次考核: once, `days` after the level was reached.
    Single { days: u32 },
    /// 等级有效期 (seeds 002, 003): the level lasts `days`; at its end it is re-assessed over
    /// them and, if kept, lasts another `days`. Timed like `Cyclic`.
    Validity { days: u32 },
}

impl DowngradeKind {
    /// The period the check looks back over, if not the paths' own windows.
    pub fn days(self) -> Option<u32> {
        match self {
            DowngradeKind::Cyclic { days }
            | DowngradeKind::Single { days }
            | DowngradeKind::Validity { days } => Some(days),
            DowngradeKind::Never | DowngradeKind::Thresholds => None,
        }
    }

    /// Whether the check is due on `today` for a level reached on `reached_on`, and the window it
    /// reads (`None`: each path's own window).
    pub fn due(self, reached_on: NaiveDate, today: NaiveDate) -> Option<Option<Window>> {
        let held = (today - reached_on).num_days() + 1;
        match self {
            DowngradeKind::Never => None,
            DowngradeKind::Thresholds => Some(None),
            DowngradeKind::Single { days } => {
                (held == i64::from(days)).then_some(Some(Window::days(days)))
            }
            DowngradeKind::Cyclic { days } | DowngradeKind::Validity { days } => {
                let d = i64::from(days);
                (held >= d && held % d == 0).then_some(Some(Window::days(days)))
            }
        }
    }
}

/// Where a due, failed check sends the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DowngradeTarget {
    /// 降级至上一等级: the nearest lower level that changes automatically (else the lowest tier).
    Below,
    /// 降为符合门槛的等级: the highest lower level whose conditions are met (else the lowest tier).
    Relevel,
    /// 指定等级: this tier.
    Level(TierRank),
}

/// One downgrade rule of a level; a level may stack several (单次考核 and 等级门槛考核 叠加).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Downgrade {
    pub kind: DowngradeKind,
    pub to: DowngradeTarget,
}

/// 保级: a due downgrade is skipped when `set` is met over the last `days` days (counting back
/// from the day the downgrade fell due).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    pub days: u32,
    pub set: ConditionSet,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).expect("date")
    }

    #[test]
    fn single_is_due_once_on_the_last_day() {
        let k = DowngradeKind::Single { days: 3 };
        assert_eq!(k.due(d(4, 12), d(4, 13)), None);
        assert_eq!(k.due(d(4, 12), d(4, 14)), Some(Some(Window::days(3))));
        assert_eq!(k.due(d(4, 12), d(4, 15)), None);
    }

    #[test]
    fn cyclic_is_due_at_each_period_end() {
        let k = DowngradeKind::Cyclic { days: 10 };
        let due: Vec<NaiveDate> = (0..25)
            .map(|i| d(4, 12) + chrono::Days::new(i))
            .filter(|t| k.due(d(4, 12), *t).is_some())
            .collect();
        assert_eq!(due, vec![d(4, 21), d(5, 1)]);
    }
}
