//! Showing notes to the operator: plain lines on stdout (the default, and whenever stdout is not
//! a terminal), or the terminal screen when the config asks for it and stdout is a TTY.

pub mod i18n;
pub mod line;
pub mod screen;

use std::io::{IsTerminal, Write};

use firmware_config::{Display as DisplayKind, Feedback, Language};

use crate::note::Note;
use crate::operator::Mode;
use crate::session::Counts;
use screen::Screen;

/// What the screen shows besides the notes.
#[derive(Debug, Clone)]
pub struct View {
    pub device_id: String,
    pub online: bool,
    pub mode: Mode,
    pub counts: Counts,
}

/// The operator's output.
#[derive(Debug)]
pub struct Display {
    screen: Option<Screen>,
    bell: bool,
    dirty: bool,
}

impl Display {
    /// Chooses plain lines or the screen from the config and whether stdout is a terminal.
    pub fn new(feedback: &Feedback, lang: Language) -> Self {
        let tty = std::io::stdout().is_terminal();
        let screen = (feedback.display == DisplayKind::Terminal && tty).then(|| Screen::new(lang));
        Display {
            screen,
            // A bell character in piped output would only corrupt the lines.
            bell: feedback.bell && tty,
            dirty: false,
        }
    }

    /// Shows one note (on the screen at the next [`Display::flush`]).
    pub fn show(&mut self, note: &Note) {
        let bell = self.bell && note.is_alert();
        match &mut self.screen {
            Some(screen) => screen.note(note),
            None => {
                let mut out = std::io::stdout().lock();
                // A closed stdout must not stop the scanning: the journal is what counts.
                let _ = writeln!(out, "{}", line::render(note));
            }
        }
        if bell {
            let _ = std::io::stdout().lock().write_all(b"\x07");
        }
        self.dirty = true;
    }

    /// Ends a batch of notes: redraws the screen, or flushes the lines.
    pub fn flush(&mut self, view: &View) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        let mut out = std::io::stdout().lock();
        if let Some(screen) = &self.screen {
            let _ = out.write_all(screen.draw(view).as_bytes());
        }
        let _ = out.flush();
    }
}
