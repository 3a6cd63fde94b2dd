//! When a sighting raises an alert, and the key that makes it raise one only once.

use super::RegionCode;

/// What an alert is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum AlertKind {
    /// 串货: seen outside the region of the agent that last received it.
    Diversion,
    /// 复制码: one security code verified in two places too far apart for the time between.
    Cloning,
    /// Verified more often than the policy allows: the code is frozen.
    Overuse,
}

impl AlertKind {
    pub const ALL: [AlertKind; 3] = [AlertKind::Diversion, AlertKind::Cloning, AlertKind::Overuse];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<AlertKind> {
        s.parse().ok()
    }
}

/// How the sighting that raised an alert reached the server (`diversion_alerts.channel`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    /// A consumer's verification.
    Verification,
    /// A handheld's scan in a warehouse.
    Scan,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Channel> {
        s.parse().ok()
    }
}

/// What a located sighting means for diversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No agent has received the item (still at HQ or on its first shipment), or the agent has
    /// no region on record: nothing to compare with.
    NoExpectation,
    Inside,
    Outside,
}

/// Inside when the observed region overlaps any of the authorised regions: a coarse place (a
/// province from a client address) that contains the agent's district is not evidence of
/// diversion.
pub fn judge(expected: &[RegionCode], observed: RegionCode) -> Verdict {
    if expected.is_empty() {
        Verdict::NoExpectation
    } else if expected.iter().any(|e| e.overlaps(observed)) {
        Verdict::Inside
    } else {
        Verdict::Outside
    }
}

/// Once per item and place: `diversion:{serial}:{observed}`. Cloning once per item and pair of
/// places (in either order); overuse once per item.
pub fn dedupe_key(kind: AlertKind, serial: &str, places: &[RegionCode]) -> String {
    let mut codes: Vec<String> = places.iter().map(ToString::to_string).collect();
    if kind == AlertKind::Cloning {
        codes.sort();
    }
    let mut key = format!("{}:{serial}", kind.as_str());
    for c in codes {
        key.push(':');
        key.push_str(&c);
    }
    key
}

/// Where an alert stands: open until an auditor confirms or dismisses it.
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
pub enum AlertStatus {
    Open,
    Confirmed,
    Dismissed,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 3] = [
        AlertStatus::Open,
        AlertStatus::Confirmed,
        AlertStatus::Dismissed,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<AlertStatus> {
        s.parse().ok()
    }
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What confirming an alert did to its agent (`diversion_alerts.action`).
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
pub enum AlertAction {
    #[strum(serialize = "suspend")]
    Suspend,
    #[strum(serialize = "penalty")]
    Penalty,
    #[strum(serialize = "suspend+penalty")]
    SuspendAndPenalty,
}

impl AlertAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<AlertAction> {
        s.parse().ok()
    }

    /// The action of a confirmation that suspended the agent and/or booked a penalty.
    pub fn of(suspended: bool, penalised: bool) -> Option<AlertAction> {
        match (suspended, penalised) {
            (false, false) => None,
            (true, false) => Some(AlertAction::Suspend),
            (false, true) => Some(AlertAction::Penalty),
            (true, true) => Some(AlertAction::SuspendAndPenalty),
        }
    }
}

/// An auditor's decision on an open alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Dismiss,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "confirm" => Some(Decision::Confirm),
            "dismiss" => Some(Decision::Dismiss),
            _ => None,
        }
    }

    /// The alert's status afterwards.
    pub fn status(self) -> AlertStatus {
        match self {
            Decision::Confirm => AlertStatus::Confirmed,
            Decision::Dismiss => AlertStatus::Dismissed,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn actions_keep_their_stored_names() {
        use super::AlertAction as A;
        crate::pin_stored_names(
            &[
                (A::Suspend, "suspend"),
                (A::Penalty, "penalty"),
                (A::SuspendAndPenalty, "suspend+penalty"),
            ],
            A::as_str,
            A::parse,
        );
        assert_eq!(A::of(false, false), None);
        assert_eq!(A::of(true, true), Some(A::SuspendAndPenalty));
    }

    #[test]
    fn channels_keep_their_stored_names() {
        use super::Channel;
        crate::pin_stored_names(
            &[
                (Channel::Verification, "verification"),
                (Channel::Scan, "scan"),
            ],
            Channel::as_str,
            Channel::parse,
        );
    }

    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).expect("code")
    }

    #[test]
    fn outside_only_when_nothing_overlaps() {
        let district = [code("330106")];
        assert_eq!(judge(&district, code("330106")), Verdict::Inside);
        assert_eq!(judge(&district, code("330000")), Verdict::Inside);
        assert_eq!(judge(&district, code("330102")), Verdict::Outside);
        assert_eq!(judge(&district, code("440106")), Verdict::Outside);
        let two = [code("330100"), code("440000")];
        assert_eq!(judge(&two, code("440106")), Verdict::Inside);
        assert_eq!(judge(&[], code("440106")), Verdict::NoExpectation);
    }

    #[test]
    fn keys_name_item_and_place() {
        let (a, b) = (code("330106"), code("440106"));
        assert_eq!(
            dedupe_key(AlertKind::Diversion, "S1", &[b]),
            "diversion:S1:440106"
        );
        assert_eq!(
            dedupe_key(AlertKind::Cloning, "S1", &[b, a]),
            dedupe_key(AlertKind::Cloning, "S1", &[a, b])
        );
        assert_eq!(dedupe_key(AlertKind::Overuse, "S1", &[]), "overuse:S1");
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_alert_kind() {
        crate::pin_stored_names(
            &[
                (AlertKind::Diversion, "diversion"),
                (AlertKind::Cloning, "cloning"),
                (AlertKind::Overuse, "overuse"),
            ],
            AlertKind::as_str,
            AlertKind::parse,
        );
    }

    #[test]
    fn stored_names_of_alert_status() {
        crate::pin_stored_names(
            &[
                (AlertStatus::Open, "open"),
                (AlertStatus::Confirmed, "confirmed"),
                (AlertStatus::Dismissed, "dismissed"),
            ],
            AlertStatus::as_str,
            AlertStatus::parse,
        );
    }
}
