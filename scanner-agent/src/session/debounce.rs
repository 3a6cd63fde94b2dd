//! Duplicate reads: a scanner held on a label reads it again and again, and each read must not
//! become a scan of its own. A repeat of the same code within the window (measured from the
//! previous read, so a scanner held still stays one scan) is dropped.

/// The last code read and when.
#[derive(Debug, Clone, Default)]
pub struct Debounce {
    window_ms: u64,
    last: Option<(String, u64)>,
}

impl Debounce {
    /// A window of `window_ms`; 0 turns debouncing off.
    pub fn new(window_ms: u64) -> Self {
        Debounce {
            window_ms,
            last: None,
        }
    }

    /// Whether `code` read at `now_ms` is a repeat of the previous read.
    pub fn is_repeat(&mut self, code: &str, now_ms: u64) -> bool {
        let repeat = self.window_ms > 0
            && self.last.as_ref().is_some_and(|(last, at)| {
                last == code && now_ms.saturating_sub(*at) < self.window_ms
            });
        match &mut self.last {
            Some((last, at)) if last == code => *at = now_ms,
            _ => self.last = Some((code.to_owned(), now_ms)),
        }
        repeat
    }

    /// Forget the last read: after a mode change the same code is a new scan.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::Debounce;

    #[test]
    fn repeats_within_the_window_are_one_scan() {
        let mut d = Debounce::new(800);
        assert!(!d.is_repeat("A", 0));
        assert!(d.is_repeat("A", 500));
        assert!(d.is_repeat("A", 1200), "measured from the previous read");
        assert!(!d.is_repeat("A", 2100));
        assert!(!d.is_repeat("B", 2150));
        assert!(!d.is_repeat("A", 2200), "another code came between");
        d.reset();
        assert!(!d.is_repeat("A", 2300));
    }

    #[test]
    fn zero_window_is_off() {
        let mut d = Debounce::new(0);
        assert!(!d.is_repeat("A", 0));
        assert!(!d.is_repeat("A", 0));
    }
}
