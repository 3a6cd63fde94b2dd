//! Product pictures (issue 17: the agent's catalogue shows them; issue 18: HQ uploads them).
//!
//! An upload is checked and normalised before it is stored: it must decode as PNG or JPEG (the
//! bytes decide, not the file name or the browser's content type), it is scaled down to at most
//! [`SIDE`] pixels a side (a phone's catalogue needs no more, and a 12-megapixel photograph would
//! cost every agent megabytes), transparency is laid on white, and it is stored as a JPEG. So a
//! picture served back is always a small JPEG that every phone shows, whatever was uploaded, and
//! a file that only pretends to be an image never reaches a page.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits, Rgb, RgbImage};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::products::{self, NewPicture, Product};
use crate::store::users::now;

/// The largest upload taken, in bytes (the upload route's body limit is a little above it).
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;
/// The longest side of a stored picture, in pixels.
pub const SIDE: u32 = 800;
/// The largest picture decoded, per side: beyond it decoding alone would take too much memory.
const MAX_DECODED_SIDE: u32 = 12_000;

/// Why an upload is not taken, in the uploader's words ([`Problem::zh`], `Display` in English).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Empty,
    TooLarge,
    NotAPicture,
    TooBig,
}

impl Problem {
    pub fn zh(self) -> &'static str {
        match self {
            Problem::Empty => "请选择一张图片。",
            Problem::TooLarge => "图片文件太大：最大 8 MB。",
            Problem::NotAPicture => "这不是可用的图片：请上传 JPEG 或 PNG。",
            Problem::TooBig => "图片尺寸太大：每边最多 12000 像素。",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Problem::Empty => "Choose a picture.",
            Problem::TooLarge => "The picture file is too large: 8 MB at most.",
            Problem::NotAPicture => "This is not a usable picture: upload a JPEG or PNG.",
            Problem::TooBig => "The picture is too big: 12,000 pixels a side at most.",
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.en())
    }
}

/// Checks and normalises an upload: at most [`SIDE`] a side, JPEG, with its ETag.
pub fn prepare(upload: &[u8]) -> std::result::Result<NewPicture, Problem> {
    if upload.is_empty() {
        return Err(Problem::Empty);
    }
    if upload.len() > MAX_UPLOAD_BYTES {
        return Err(Problem::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(upload))
        .with_guessed_format()
        .map_err(|_| Problem::NotAPicture)?;
    if !matches!(reader.format(), Some(ImageFormat::Png | ImageFormat::Jpeg)) {
        return Err(Problem::NotAPicture);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE);
    limits.max_image_height = Some(MAX_DECODED_SIDE);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => Problem::TooBig,
        _ => Problem::NotAPicture,
    })?;
    let scaled = if decoded.width() > SIDE || decoded.height() > SIDE {
        decoded.resize(SIDE, SIDE, image::imageops::FilterType::Triangle)
    } else {
        decoded
    };
    let flat = on_white(&scaled);
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85)
        .encode_image(&flat)
        .map_err(|_| Problem::NotAPicture)?;
    let etag = data_encoding::HEXLOWER.encode(&Sha256::digest(&bytes)[..8]);
    Ok(NewPicture {
        content_type: "image/jpeg".into(),
        width: i32::try_from(flat.width()).unwrap_or(i32::MAX),
        height: i32::try_from(flat.height()).unwrap_or(i32::MAX),
        bytes,
        etag,
    })
}

/// The picture as RGB, transparent parts laid on white (JPEG has no transparency, and a
/// transparent product shot on a black background would look broken).
fn on_white(img: &DynamicImage) -> RgbImage {
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u32::from(p[3]);
        let mix = |c: u8| u8::try_from((u32::from(c) * a + 255 * (255 - a)) / 255).unwrap_or(255);
        Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

/// Stores `picture` (already [`prepare`]d) as product `id`'s picture.
pub fn set_product_picture(
    conn: &mut DbConnection,
    id: i64,
    picture: &NewPicture,
    by: Option<i64>,
) -> Result<Product> {
    if !products::set_picture(conn, id, picture, by, now())? {
        return Err(Error::not_found("product"));
    }
    products::by_ids(conn, &[id])?
        .pop()
        .ok_or_else(|| Error::not_found("product"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, alpha: u8) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, alpha]));
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("encode");
        out
    }

    #[test]
    fn a_large_png_becomes_a_small_jpeg_keeping_its_shape() {
        let p = prepare(&png(1600, 1200, 255)).expect("taken");
        assert_eq!(
            (p.width, p.height, p.content_type.as_str()),
            (800, 600, "image/jpeg")
        );
        let back = image::load_from_memory(&p.bytes).expect("decodes");
        assert_eq!(image::guess_format(&p.bytes).ok(), Some(ImageFormat::Jpeg));
        assert_eq!((back.width(), back.height()), (800, 600));
        assert_eq!(p.etag.len(), 16);
    }

    #[test]
    fn a_small_picture_keeps_its_size_and_transparency_turns_white() {
        let p = prepare(&png(40, 30, 0)).expect("taken");
        assert_eq!((p.width, p.height), (40, 30));
        let back = image::load_from_memory(&p.bytes)
            .expect("decodes")
            .to_rgb8();
        let c = back.get_pixel(20, 15).0;
        assert!(
            c.iter().all(|v| *v > 240),
            "transparent is white, not black: {c:?}"
        );
    }

    #[test]
    fn what_is_not_a_picture_is_refused_in_words() {
        assert_eq!(prepare(b"").err(), Some(Problem::Empty));
        assert_eq!(
            prepare(b"GIF89a not really").err(),
            Some(Problem::NotAPicture)
        );
        assert_eq!(
            prepare(b"<svg xmlns='http://www.w3.org/2000/svg'/>").err(),
            Some(Problem::NotAPicture)
        );
        let mut truncated = png(100, 100, 255);
        truncated.truncate(60);
        assert_eq!(prepare(&truncated).err(), Some(Problem::NotAPicture));
        assert_eq!(
            prepare(&vec![0u8; MAX_UPLOAD_BYTES + 1]).err(),
            Some(Problem::TooLarge)
        );
        for p in [
            Problem::Empty,
            Problem::TooLarge,
            Problem::NotAPicture,
            Problem::TooBig,
        ] {
            assert!(!p.zh().is_empty() && !p.to_string().is_empty());
        }
    }
}
