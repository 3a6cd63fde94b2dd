//! The crate's one error type.
//!
//! Rule: library functions return [`Result<T>`]; the CLI (and only the CLI) wraps them in
//! `anyhow` and maps [`Error::kind`] to an exit code. Parsing a code returns the narrower
//! [`CodeError`], which says exactly what is wrong with it (`inspect` reports it as the reason)
//! and converts into [`Error`] with `?`.

use std::io;
use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value given by the caller (flag, spec field) is malformed.
    #[error("invalid {what} {input:?}: {reason}")]
    InvalidInput {
        /// What the value is, e.g. "--gtin".
        what: &'static str,
        /// The value as given.
        input: String,
        /// Why it is refused and what would be accepted.
        reason: String,
    },
    /// A code (serial, case code, GTIN, SSCC, security code, tag) does not parse.
    #[error(transparent)]
    Code(#[from] CodeError),
    /// The master key file does not exist.
    #[error(
        "key file {} not found; create one with `chainmark-codegen keys init --out {}`",
        path.display(), path.display()
    )]
    KeyMissing {
        /// The path given.
        path: PathBuf,
    },
    /// The key file is not exactly 32 bytes.
    #[error(
        "key file {} is {len} bytes, but a master key file holds exactly 32; is it the right file?",
        path.display()
    )]
    KeyWrongSize {
        /// The path given.
        path: PathBuf,
        /// Its size in bytes.
        len: u64,
    },
    /// `keys init` would overwrite an existing file.
    #[error(
        "{} already exists; refusing to overwrite a master key (codes issued under it could no \
         longer be verified). Choose another --out path",
        path.display()
    )]
    KeyExists {
        /// The path given.
        path: PathBuf,
    },
    /// The key file (or the SSCC counter beside it) cannot be read or written.
    #[error("cannot use key file {}: {source}", path.display())]
    KeyIo {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The SSCC counter file beside the key is unusable or exhausted.
    #[error("SSCC counter {}: {reason}", path.display())]
    SsccCounter {
        /// The counter file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The batch output folder exists and is not empty.
    #[error(
        "output folder {} already exists and is not empty; choose a new --out folder \
         (a batch is never written over another)",
        path.display()
    )]
    OutputExists {
        /// The folder.
        path: PathBuf,
    },
    /// The batch output folder (or its parent) cannot be created or written.
    #[error("cannot write the output folder {}: {source}; check the path and its permissions", path.display())]
    OutputUnwritable {
        /// The folder that could not be written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Reading or writing a file failed after the checks passed (disk full, device gone, ...).
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A label option (module size, sheet layout, ...) is out of range.
    #[error("invalid label option: {0}")]
    LabelOption(String),
    /// The quiet zone asked for is narrower than QR codes need.
    #[error(
        "quiet zone of {got} modules is too small: QR codes need at least {min} light modules \
         around them to scan reliably"
    )]
    QuietZone {
        /// Modules asked for.
        got: u32,
        /// The minimum.
        min: u32,
    },
    /// The payload does not fit in a QR symbol at the chosen error-correction level.
    #[error("cannot encode QR code: {0}")]
    QrEncode(String),
    /// Encoding a label image failed.
    #[error("cannot encode label image: {0}")]
    Image(String),
    /// Writing label sheets failed.
    #[error("cannot write PDF label sheets: {0}")]
    Pdf(String),
    /// A file given as a label image is not a PNG or JPEG image.
    #[error("{}not a readable PNG or JPEG image: {reason}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    NotAnImage {
        /// The file, when there is one.
        path: Option<PathBuf>,
        /// What the image decoder said.
        reason: String,
    },
    /// The QR decoder broke down on an image (it panicked: `rqrr` asserts on some perspective
    /// geometry found in real photographs). The image is readable, its codes are not.
    #[error("{}the QR decoder failed on this image ({reason}); it cannot be read, take another picture or check the label by hand", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    DecoderFailed {
        /// The file, when there is one.
        path: Option<PathBuf>,
        /// What the decoder said.
        reason: String,
    },
    /// No CJK font was found for drawing a card as PNG.
    #[error(
        "no CJK font found (tried {tried}); install one (Debian: `apt install fonts-wqy-microhei`) \
         or set CHAINMARK_FONT to a .ttf, .otf or .ttc file"
    )]
    FontNotFound {
        /// The places looked at, in order.
        tried: String,
    },
    /// A font file cannot be read or is not a font.
    #[error("cannot use font: {0}")]
    Font(String),
    /// A card (certificate, poster) cannot be drawn as described.
    #[error("cannot draw card: {0}")]
    Card(String),
    /// An import folder is refused.
    #[error("import refused ({}, line {line}): {problem}", path.display())]
    Import {
        /// The file at fault.
        path: PathBuf,
        /// 1-based line number; 0 when the problem is not on one line.
        line: u64,
        /// What is wrong.
        problem: ImportProblem,
    },
}

/// Why a code does not parse. The `what` fields name the kind of code ("serial", "GTIN", ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// Too short or too long.
    #[error("{what} must be {expected} characters, got {found}")]
    WrongLength {
        /// Kind of code.
        what: &'static str,
        /// Expected length (for several allowed lengths, the list is in the message elsewhere).
        expected: &'static str,
        /// Length found.
        found: usize,
    },
    /// A character outside the allowed set.
    #[error("{what} has an invalid character {found:?} at position {position}")]
    BadCharacter {
        /// Kind of code.
        what: &'static str,
        /// 1-based position.
        position: usize,
        /// The character.
        found: char,
    },
    /// The mod-31 check character is wrong: a typo or a misread.
    #[error("{what} has a wrong check character (mistyped or misread)")]
    BadCheckCharacter {
        /// Kind of code.
        what: &'static str,
    },
    /// The GS1 mod-10 check digit is wrong.
    #[error("{what} has a wrong GS1 check digit")]
    BadCheckDigit {
        /// Kind of code.
        what: &'static str,
    },
    /// A required part is absent (e.g. the `t=` tag of a verify URL).
    #[error("{what} is missing")]
    Missing {
        /// What is missing.
        what: &'static str,
    },
    /// The string is none of the formats in `docs/codes.md`.
    #[error("not a chainmark code or URL, nor a GTIN or SSCC")]
    UnknownFormat,
    /// A number is outside the representable range (item index, SSCC serial reference, ...).
    #[error("{what} out of range: {reason}")]
    OutOfRange {
        /// Kind of code.
        what: &'static str,
        /// Details.
        reason: String,
    },
}

/// Why an import folder is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportProblem {
    /// The batch was issued under another master key.
    #[error("batch was issued under key {found}, but the key given is {expected}")]
    WrongKey {
        /// Key id of the key given.
        expected: String,
        /// Key id in the file.
        found: String,
    },
    /// `import.jsonl` ends before its seal line.
    #[error("file is truncated: no seal line at the end")]
    Truncated,
    /// The seal MAC does not match the content.
    #[error("seal does not match the content: the file was altered")]
    Tampered,
    /// The file changed between verification and reading.
    #[error("file changed while it was being imported")]
    Changed,
    /// An item's tag does not verify.
    #[error("tag of {serial} does not verify")]
    ForgedTag {
        /// The item.
        serial: String,
    },
    /// A line or file does not have the expected shape.
    #[error("{0}")]
    Malformed(String),
    /// Counts, indices or header fields disagree.
    #[error("{0}")]
    Inconsistent(String),
}

/// Coarse classes of [`Error`], one exit code each in the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A malformed flag or value; fix the command line.
    Input,
    /// The key file is missing, wrong or would be overwritten.
    Key,
    /// The output folder exists or cannot be written.
    Output,
    /// I/O failed mid-way (nothing was left behind).
    Io,
    /// An import folder is refused.
    Import,
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } | Error::Code(_) => ErrorKind::Input,
            Error::LabelOption(_)
            | Error::QuietZone { .. }
            | Error::QrEncode(_)
            | Error::NotAnImage { .. }
            | Error::DecoderFailed { .. } => ErrorKind::Input,
            // A missing or broken font is fixed by the caller (install one, or point at one),
            // like a bad flag; a card out of range is a caller's value.
            Error::FontNotFound { .. } | Error::Font(_) | Error::Card(_) => ErrorKind::Input,
            Error::Image(_) | Error::Pdf(_) => ErrorKind::Io,
            Error::KeyMissing { .. }
            | Error::KeyWrongSize { .. }
            | Error::KeyExists { .. }
            | Error::KeyIo { .. }
            | Error::SsccCounter { .. } => ErrorKind::Key,
            Error::OutputExists { .. } | Error::OutputUnwritable { .. } => ErrorKind::Output,
            Error::Io { .. } => ErrorKind::Io,
            Error::Import { .. } => ErrorKind::Import,
        }
    }

    /// Helper: an [`Error::InvalidInput`].
    pub fn input(what: &'static str, input: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            what,
            input: input.into(),
            reason: reason.into(),
        }
    }

    /// Helper: an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
