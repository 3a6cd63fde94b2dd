//! Reading QR codes back from label images (PNG or JPEG), with `rqrr`.
//!
//! Used to check printed or rendered labels: `verify-image` decodes each file here and hands
//! the payloads to `inspect`. An image in which no symbol decodes is [`Decoded::Unreadable`], a
//! normal outcome rather than an error; only a file that is not an image at all is an error.

use std::path::Path;

use image::GrayImage;

use crate::error::{Error, Result};

/// What was found in an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// Every symbol that decoded, in the order `rqrr` found them.
    Payloads(Vec<String>),
    /// No symbol could be decoded (none found, or all damaged beyond correction).
    Unreadable,
}

/// Decodes every QR symbol in a grey image.
pub fn decode_gray(img: GrayImage) -> Decoded {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let payloads: Vec<String> = prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect();
    if payloads.is_empty() {
        Decoded::Unreadable
    } else {
        Decoded::Payloads(payloads)
    }
}

/// Decodes image bytes (PNG or JPEG, recognised by content).
pub fn decode_bytes(bytes: &[u8]) -> Result<Decoded> {
    let img = image::load_from_memory(bytes).map_err(|e| Error::NotAnImage {
        path: None,
        reason: e.to_string(),
    })?;
    Ok(decode_gray(img.to_luma8()))
}

/// Decodes an image file.
pub fn decode_file(path: &Path) -> Result<Decoded> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    decode_bytes(&bytes).map_err(|e| match e {
        Error::NotAnImage { reason, .. } => Error::NotAnImage {
            path: Some(path.to_owned()),
            reason,
        },
        other => other,
    })
}
