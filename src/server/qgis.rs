//! `/qgis/…`: what a QGIS user downloads — the project `riskmap.qgs`, the
//! QML style of every OGC collection and the map style in the form QGIS's
//! vector-tile converter reads. All public: they hold no data.

use super::AppState;
use super::error::ApiError;
use super::http::base_url;
use crate::model::LayerId;
use crate::qgis;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Routes of the QGIS files.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/qgis/riskmap.qgs", get(project))
        .route("/qgis/style.json", get(style))
        .route("/qgis/styles/{file}", get(qml))
}

fn with_type(body: String, content_type: &'static str, filename: Option<&str>) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Some(v) =
        filename.and_then(|f| HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")).ok())
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// `GET /qgis/riskmap.qgs`: the project, with this server's address as the
/// client reached it.
async fn project(headers: HeaderMap) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    Ok(with_type(
        qgis::project(base.as_str(), &embedded_style()?),
        "application/x-qgis-project; charset=utf-8",
        Some("riskmap.qgs"),
    ))
}

fn embedded_style() -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(crate::assets::style())
        .map_err(|e| ApiError::Internal(format!("embedded style: {e}")))
}

/// `GET /qgis/style.json`: the map style for QGIS vector-tile layers.
async fn style() -> Result<Response, ApiError> {
    Ok(with_type(
        qgis::qgis_style(&embedded_style()?).to_string(),
        "application/json",
        None,
    ))
}

/// `GET /qgis/styles/{collection}.qml`.
async fn qml(Path(file): Path<String>) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound(format!("no QML style named {file}"));
    let layer: LayerId = file
        .strip_suffix(".qml")
        .and_then(|name| name.parse().ok())
        .filter(|l| LayerId::SERVED.contains(l))
        .ok_or_else(not_found)?;
    let body = qgis::qml(layer).ok_or_else(not_found)?;
    Ok(with_type(body, "text/xml; charset=utf-8", Some(&file)))
}
