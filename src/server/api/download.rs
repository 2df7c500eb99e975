//! Files to save (ledgers, rankings): `Content-Disposition: attachment`
//! with an ASCII name for old clients and the Chinese one (RFC 6266
//! `filename*`) for the rest, never stored by caches.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `body` as a download named `name` (`ascii_name` where UTF-8 names are
/// not understood).
pub fn attachment(content_type: &str, ascii_name: &str, name: &str, body: Vec<u8>) -> Response {
    let utf8_name: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{utf8_name}"),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
