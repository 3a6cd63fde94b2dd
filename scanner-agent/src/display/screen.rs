//! The small terminal screen for handhelds with a display: who and where, online or not, the
//! mode and its order or case, running counts, and the last results. Redrawn whole after each
//! batch of events with plain ANSI sequences (no terminal library: a handheld's console is a
//! VT100 at best).

use std::collections::VecDeque;
use std::fmt::Write;

use firmware_config::Language;

use super::View;
use super::i18n::{self, Label};
use crate::note::Note;
use crate::session::Tally;
use crate::wire::AckResult;

/// Results kept on screen.
const RECENT: usize = 8;

/// The screen's memory of recent events.
#[derive(Debug)]
pub struct Screen {
    lang: Language,
    recent: VecDeque<String>,
}

impl Screen {
    pub fn new(lang: Language) -> Self {
        Screen {
            lang,
            recent: VecDeque::with_capacity(RECENT),
        }
    }

    /// Remembers `note` if it is worth a line on screen.
    pub fn note(&mut self, note: &Note) {
        let lang = self.lang;
        let l = |label| i18n::label(lang, label);
        let line = match note {
            Note::Answer {
                seq,
                result,
                code,
                order,
            } => {
                let code = code.as_deref().unwrap_or("?");
                // A shipment's count of its product against the order: "TEA-1 12/24".
                let progress = order
                    .as_ref()
                    .map(|o| format!(" · {} {}/{}", o.sku, o.done, o.ordered))
                    .unwrap_or_default();
                match result {
                    AckResult::Accepted => {
                        format!("✔ {} #{seq} {code}{progress}", l(Label::Accepted))
                    }
                    AckResult::Rejected { reason } => format!(
                        "✘ {} #{seq} {} {code}",
                        l(Label::Rejected),
                        i18n::reason(lang, reason.as_str())
                    ),
                }
            }
            Note::Kept { seq, reason } => format!(
                "! {} #{seq} {}",
                l(Label::Kept),
                i18n::reason(lang, reason.as_str())
            ),
            Note::Refused { reason, code } => format!(
                "✘ {} {} {code}",
                l(Label::Refused),
                i18n::reason(lang, reason)
            ),
            Note::Debounced { code } => format!("· {} {code}", l(Label::Debounced)),
            Note::BadCommand { error, line } => format!(
                "✘ {} {} {line}",
                l(Label::BadCommand),
                i18n::reason(lang, error.code())
            ),
            Note::ForgedAck { .. } => format!("! {}", l(Label::ForgedAck)),
            Note::JournalRepaired { .. } => format!("! {}", l(Label::JournalRepaired)),
            Note::Done { .. } => l(Label::Done).to_owned(),
            Note::ProvisionRefused { detail, .. } => {
                format!("✘ {} {detail}", l(Label::NotProvisioning))
            }
            Note::Provisioned { device_id, .. } => {
                format!("✔ {} {device_id}", l(Label::Provisioned))
            }
            _ => return,
        };
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back(line);
    }

    /// The whole screen, starting with "clear and home".
    pub fn draw(&self, view: &View) -> String {
        let lang = self.lang;
        let l = |label| i18n::label(lang, label);
        let mut s = String::from("\x1b[2J\x1b[H");
        let state = if view.online {
            l(Label::Online)
        } else {
            l(Label::Offline)
        };
        let _ = writeln!(s, "chainmark {}  [{state}]", view.device_id);
        let _ = write!(
            s,
            "{}: {}",
            l(Label::Mode),
            i18n::mode(lang, view.mode.name())
        );
        if let Some(c) = view.mode.context() {
            let _ = write!(s, "  {}: {c}", l(Label::Context));
        }
        s.push('\n');
        tally(&mut s, lang, l(Label::ThisMode), &view.counts.mode);
        tally(&mut s, lang, l(Label::Total), &view.counts.total);
        let _ = writeln!(s, "{}: {}\n", l(Label::Pending), view.counts.pending);
        for line in &self.recent {
            let _ = writeln!(s, "{line}");
        }
        s
    }
}

fn tally(s: &mut String, lang: Language, title: &str, t: &Tally) {
    let l = |label| i18n::label(lang, label);
    let _ = writeln!(
        s,
        "{title}: {} {}  {} {}  {} {}  {} {}",
        l(Label::Accepted),
        t.accepted,
        l(Label::Rejected),
        t.rejected,
        l(Label::Duplicate),
        t.duplicate,
        l(Label::Refused),
        t.refused,
    );
}

#[cfg(test)]
mod tests {
    use super::{RECENT, Screen};
    use crate::display::View;
    use crate::note::Note;
    use crate::operator::Mode;
    use crate::session::Counts;
    use crate::wire::{AckResult, OrderProgress, RejectReason};
    use firmware_config::Language;

    fn view(online: bool) -> View {
        let mut counts = Counts::default();
        counts.mode.accepted = 7;
        counts.pending = 2;
        View {
            device_id: "hh-1".into(),
            online,
            mode: Mode::Ship {
                order: "ORD-9".into(),
            },
            counts,
        }
    }

    #[test]
    fn chinese_screen_shows_mode_order_counts_and_results() {
        let mut screen = Screen::new(Language::ZhCn);
        screen.note(&Note::Answer {
            seq: 3,
            result: AckResult::Rejected {
                reason: RejectReason::NotOnOrder,
            },
            code: Some("ABC".into()),
            order: None,
        });
        screen.note(&Note::Answer {
            seq: 4,
            result: AckResult::Accepted,
            code: Some("CASE-1".into()),
            order: Some(OrderProgress {
                id: 9,
                sku: "TEA-1".into(),
                done: 12,
                ordered: 24,
            }),
        });
        screen.note(&Note::Online); // not a result line
        let text = screen.draw(&view(false));
        assert!(text.starts_with("\x1b[2J\x1b[H"));
        for needle in [
            "hh-1",
            "离线",
            "发货",
            "ORD-9",
            "接受 7",
            "待确认: 2",
            "不在此订单上 ABC",
            "CASE-1 · TEA-1 12/24",
        ] {
            assert!(text.contains(needle), "{needle:?} missing in\n{text}");
        }
    }

    #[test]
    fn keeps_only_the_last_results() {
        let mut screen = Screen::new(Language::En);
        for i in 0..20u64 {
            screen.note(&Note::Refused {
                reason: "bad_check_character",
                code: format!("C{i}"),
            });
        }
        let text = screen.draw(&view(true));
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("✘ refused here"))
                .count(),
            RECENT
        );
        assert!(text.contains("C19") && !text.contains("C11 "), "{text}");
        assert!(text.contains("[online]"));
    }
}
