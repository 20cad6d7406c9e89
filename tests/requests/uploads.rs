//! Multipart uploads and the images they carry, made here rather than kept as
//! files: each says what it is built to test.

use std::io::Cursor;

use axum_test::{
    TestResponse, TestServer,
    multipart::{MultipartForm, Part},
};
use image::{ImageFormat, RgbImage};
use loco_rs::app::AppContext;
use sea_orm::{EntityTrait, QueryOrder};

use backend::models::files;

/// Posts `bytes` as the `file` field, named `name` and labelled with the
/// client's `mime_type`.
pub async fn upload(
    server: &TestServer,
    path: &str,
    token: &str,
    name: &str,
    mime_type: &str,
    bytes: Vec<u8>,
) -> TestResponse {
    let part = Part::bytes(bytes).file_name(name).mime_type(mime_type);
    server
        .post(path)
        .authorization_bearer(token)
        .multipart(
            MultipartForm::new()
                .add_text("note", "ignored")
                .add_part("file", part),
        )
        .await
}

/// A picture with a gradient, so that resizing has something to do.
pub fn image(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut bytes = Cursor::new(Vec::new());
    pixels.write_to(&mut bytes, format).expect("encoded");
    bytes.into_inner()
}

/// Text that marks the EXIF block of `jpeg_with_gps`.
pub const GPS_MARK: &[u8] = b"48 deg 51' 29.1\" N";

/// A JPEG carrying an EXIF block with a GPS position (the APP1 segment right
/// after the start-of-image marker), as phones write them.
pub fn jpeg_with_gps() -> Vec<u8> {
    let jpeg = image(64, 48, ImageFormat::Jpeg);
    // TIFF, little-endian: IFD0 with one entry, the GPS IFD pointer; the GPS
    // IFD with GPSLatitudeRef and a GPSAreaInformation-like ASCII value.
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes());
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 26: two entries.
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"N\0\0\0");
    tiff.extend_from_slice(&0x001Cu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(GPS_MARK.len() as u32 + 1).to_le_bytes());
    tiff.extend_from_slice(&56u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(GPS_MARK);
    tiff.push(0);
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let length = u16::try_from(segment.len() + 2).expect("a short segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A 1×1 PNG whose header declares 50,000×50,000 pixels: tens of gigabytes
/// once decoded, from a few dozen bytes.
pub fn png_bomb() -> Vec<u8> {
    let mut png = image(1, 1, ImageFormat::Png);
    // The IHDR chunk follows the 8-byte signature: length, type, width,
    // height, then five bytes of settings and its CRC.
    png[16..20].copy_from_slice(&50_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&50_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// The PNG signature followed by nothing a PNG decoder can read.
pub fn fake_png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0x42; 512]);
    bytes
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Every file row, oldest first.
pub async fn file_rows(ctx: &AppContext) -> Vec<files::Model> {
    files::Entity::find()
        .order_by_asc(files::Column::CreatedAt)
        .all(&ctx.db)
        .await
        .expect("file rows")
}

/// Whether the store holds `key`.
pub async fn stored(ctx: &AppContext, key: &str) -> bool {
    ctx.storage
        .exists(std::path::Path::new(key))
        .await
        .expect("the store answers")
}

/// Every object under the upload prefixes.
pub async fn stored_keys(ctx: &AppContext) -> Vec<String> {
    let mut keys = Vec::new();
    for prefix in backend::models::file_deletions::PREFIXES {
        let listed = ctx
            .storage
            .list(std::path::Path::new(prefix), true)
            .await
            .expect("the store lists");
        keys.extend(
            listed
                .into_iter()
                .filter(|entry| !entry.is_dir)
                .map(|entry| entry.path),
        );
    }
    keys.sort();
    keys
}
