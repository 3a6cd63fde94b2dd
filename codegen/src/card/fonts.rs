//! The CJK font a card's PNG is drawn with, and where to find one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec};

use crate::error::{Error, Result};

/// Environment variable naming the font file to use when none is given explicitly.
pub const FONT_ENV: &str = "CHAINMARK_FONT";

/// Where CJK fonts are installed by common packages, most likely first: WenQuanYi Micro Hei
/// (Debian/Ubuntu `fonts-wqy-microhei`, small and complete for GB 2312), Zen Hei, Noto Sans CJK
/// (Debian, Arch, Fedora layouts), AR PL UMing, and PingFang on macOS.
pub const KNOWN_FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
];

/// One font (a CJK font, which has Latin letters and digits too) and the file it came from.
pub struct Fonts {
    font: FontVec,
    path: PathBuf,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts").field("path", &self.path).finish()
    }
}

impl Fonts {
    /// Reads a .ttf, .otf or .ttc file; of a collection (.ttc), its first font.
    pub fn load(path: &Path) -> Result<Fonts> {
        let data = std::fs::read(path)
            .map_err(|e| Error::Font(format!("cannot read {}: {e}", path.display())))?;
        // Index 0 is the only font of a .ttf/.otf and the first (the regular face of
        // WenQuanYi and Noto CJK) of a .ttc.
        let font = FontVec::try_from_vec_and_index(data, 0).map_err(|e| {
            Error::Font(format!(
                "{} is not a TrueType/OpenType font: {e}",
                path.display()
            ))
        })?;
        Ok(Fonts {
            font,
            path: path.to_path_buf(),
        })
    }

    /// Finds a font: `explicit` if given (an error if it cannot be used), else the file named by
    /// the `CHAINMARK_FONT` environment variable (likewise), else the first usable one of
    /// [`KNOWN_FONT_PATHS`]. The error says what was tried and how to install a font.
    pub fn discover(explicit: Option<&Path>) -> Result<Fonts> {
        discover_in(explicit, std::env::var_os(FONT_ENV), KNOWN_FONT_PATHS)
    }

    /// The file the font was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the font has a glyph for every character of `s` (whitespace aside).
    pub fn covers(&self, s: &str) -> bool {
        self.missing(s).is_empty()
    }

    /// The characters of `s` the font has no glyph for (glyph id 0, drawn as a tofu box),
    /// whitespace aside, each once, in order of appearance.
    pub fn missing(&self, s: &str) -> Vec<char> {
        let mut out = Vec::new();
        for c in s.chars() {
            if !c.is_whitespace() && self.font.glyph_id(c).0 == 0 && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The font itself, for the rasteriser and the packing slip's PDF (glyphs and metrics).
    pub(crate) fn font(&self) -> &FontVec {
        &self.font
    }
}

/// [`Fonts::discover`] with the environment and the list of candidates given, so tests can
/// exercise it without touching the process environment.
fn discover_in(
    explicit: Option<&Path>,
    env: Option<OsString>,
    candidates: &[&str],
) -> Result<Fonts> {
    if let Some(path) = explicit {
        return Fonts::load(path);
    }
    if let Some(path) = env.filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return Fonts::load(&path).map_err(|e| match e {
            Error::Font(reason) => Error::Font(format!("{reason} (from {FONT_ENV})")),
            other => other,
        });
    }
    let mut tried = Vec::new();
    for candidate in candidates {
        let path = Path::new(candidate);
        if !path.is_file() {
            tried.push(format!("{candidate} (absent)"));
            continue;
        }
        // A broken file is passed over: the next well-known font may well work.
        match Fonts::load(path) {
            Ok(fonts) => return Ok(fonts),
            Err(e) => tried.push(format!("{candidate} ({e})")),
        }
    }
    tried.push(format!("${FONT_ENV} (not set)"));
    Err(Error::FontNotFound {
        tried: tried.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_fonts_explicit_bad_path_is_an_error_naming_it() {
        let bad = Path::new("/nonexistent/chainmark/no-such-font.ttc");
        let err = Fonts::discover(Some(bad)).expect_err("a missing file is refused");
        let msg = err.to_string();
        assert!(matches!(err, Error::Font(_)), "{err:?}");
        assert!(
            msg.contains("/nonexistent/chainmark/no-such-font.ttc"),
            "{msg}"
        );

        // Not a font at all.
        let dir = tempfile::tempdir().expect("temp dir");
        let junk = dir.path().join("junk.ttf");
        std::fs::write(&junk, b"not a font").expect("write");
        let msg = Fonts::load(&junk).expect_err("junk is refused").to_string();
        assert!(
            msg.contains("junk.ttf") && msg.contains("not a TrueType"),
            "{msg}"
        );
    }

    #[test]
    fn card_fonts_not_found_names_what_was_tried_and_the_fix() {
        let err = discover_in(None, None, &["/nonexistent/a.ttc", "/nonexistent/b.ttf"])
            .expect_err("nothing there");
        assert!(matches!(err, Error::FontNotFound { .. }), "{err:?}");
        let msg = err.to_string();
        for part in [
            "/nonexistent/a.ttc",
            "/nonexistent/b.ttf",
            "fonts-wqy-microhei",
            FONT_ENV,
        ] {
            assert!(msg.contains(part), "{part} not in {msg}");
        }
        // The environment variable wins over the list, and a bad one is an error, not skipped.
        let err = discover_in(None, Some("/nonexistent/env.ttf".into()), KNOWN_FONT_PATHS)
            .expect_err("bad env path");
        let msg = err.to_string();
        assert!(
            msg.contains("/nonexistent/env.ttf") && msg.contains(FONT_ENV),
            "{msg}"
        );
    }
}
