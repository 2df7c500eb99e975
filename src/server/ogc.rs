//! `/ogc`: OGC API – Features handlers. Each parses the request, calls
//! [`crate::ogc`] and maps its errors; large pages are streamed.
//!
//! Order of checks: 401 (private collection without a token) → 403 (token
//! that opens nothing, or a feature outside a grid manager's scope) → 400
//! (parameters) → 404 (collection or feature).

use super::{ApiError, AppState};
use crate::auth::{Caller, Scope};
use crate::model::LayerId;
use crate::ogc::crs::OgcCrs;
use crate::ogc::features::Ctx;
use crate::ogc::items::{self, COLLECTION_TAIL};
use crate::ogc::links::BaseUrl;
use crate::ogc::params::{self, ItemsParams};
use crate::ogc::{
    GEOJSON, HTML, JSON, OPENAPI, OgcError, SCHEMA, collections, openapi, queryables,
};
use crate::snapshot::Snapshot;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::convert::Infallible;
use std::sync::Arc;

/// Bytes per streamed chunk of features.
const CHUNK_BYTES: usize = 64 * 1024;

/// The OGC API routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ogc", get(landing))
        .route("/ogc/", get(landing))
        .route("/ogc/conformance", get(conformance))
        .route("/ogc/api", get(api))
        .route("/ogc/api.html", get(api_html))
        .route("/ogc/collections", get(collections_list))
        .route("/ogc/collections/{id}", get(collection))
        .route("/ogc/collections/{id}/items", get(items_page))
        .route("/ogc/collections/{id}/items/{fid}", get(item))
        .route("/ogc/collections/{id}/queryables", get(queryables_doc))
}

impl From<OgcError> for ApiError {
    fn from(e: OgcError) -> Self {
        match e {
            OgcError::BadRequest(m) => ApiError::BadRequest(m),
            OgcError::Unauthorized(m) => ApiError::Unauthorized(m),
            OgcError::Forbidden(m) => ApiError::Forbidden(m),
            OgcError::NotFound(m) => ApiError::NotFound(m),
        }
    }
}

/// The request's public base URL.
struct Base(BaseUrl);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Base(super::http::base_url(&parts.headers)))
    }
}

fn ctx(snap: &Snapshot, scope: Scope) -> Ctx<'_> {
    Ctx {
        store: &snap.store,
        risk: &snap.scores,
        scope,
    }
}

fn with_type(media_type: &'static str, body: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, media_type)], body.into()).into_response()
}

fn json(media_type: &'static str, value: &serde_json::Value) -> Response {
    with_type(media_type, value.to_string())
}

/// A served collection id.
fn served(id: &str) -> Option<LayerId> {
    id.parse::<LayerId>()
        .ok()
        .filter(|l| LayerId::SERVED.contains(l))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no collection {id:?}"))
}

/// A collection the caller may open: 401/403 for private ones, then 404.
fn open(id: &str, scope: Scope) -> Result<LayerId, ApiError> {
    let layer = served(id).ok_or_else(|| not_found(id))?;
    scope.open(layer)?;
    Ok(layer)
}

fn content_crs(crs: OgcCrs) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static("content-crs"),
        HeaderValue::from_static(crs.content_crs()),
    )
}

/// `GET /ogc`.
async fn landing(_caller: Caller, Base(base): Base) -> Response {
    json(JSON, &collections::landing(&base))
}

/// `GET /ogc/conformance`.
async fn conformance(_caller: Caller) -> Response {
    json(JSON, &collections::conformance())
}

/// `GET /ogc/api`: the OpenAPI 3.0 document.
async fn api(_caller: Caller, Base(base): Base) -> Result<Response, ApiError> {
    let body = serde_json::to_string(&openapi::document(&base))
        .map_err(|e| ApiError::Internal(format!("openapi: {e}")))?;
    Ok(with_type(OPENAPI, body))
}

/// `GET /ogc/api.html`.
async fn api_html(_caller: Caller, Base(base): Base) -> Response {
    with_type(HTML, openapi::html(&base))
}

/// `GET /ogc/collections`: private collections only with a token.
async fn collections_list(
    State(state): State<AppState>,
    caller: Caller,
    Base(base): Base,
) -> Response {
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    json(
        JSON,
        &collections::collections(&ctx(&snap, scope), &base, scope),
    )
}

/// `GET /ogc/collections/{id}`.
async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    Base(base): Base,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    let layer = open(&id, scope)?;
    Ok(json(
        JSON,
        &collections::collection(&ctx(&snap, scope), &base, layer, scope),
    ))
}

/// `GET /ogc/collections/{id}/queryables`.
async fn queryables_doc(
    State(state): State<AppState>,
    caller: Caller,
    Base(base): Base,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    let layer = open(&id, scope)?;
    let url = base.ogc(&format!("/collections/{layer}/queryables"));
    Ok(json(SCHEMA, &queryables::schema(layer, scope, &url)))
}

/// `GET /ogc/collections/{id}/items`: a page of features, streamed.
async fn items_page(
    State(state): State<AppState>,
    caller: Caller,
    Base(base): Base,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    let layer = served(&id);
    if let Some(layer) = layer {
        scope.open(layer)?;
    }
    let pairs = params::pairs(query.as_deref())?;
    let Some(layer) = layer else {
        params::check_common(&pairs)?;
        return Err(not_found(&id));
    };
    // `datetime` on a grid-unit layer: the scores of the day it names (an
    // interval: of its end).
    let day = pairs
        .iter()
        .find(|(k, _)| k == "datetime")
        .map(|(_, v)| v.clone())
        .filter(|_| {
            matches!(
                layer,
                LayerId::Cells | LayerId::Villages | LayerId::Towns | LayerId::Counties
            )
        });
    let p = ItemsParams::parse_for(layer, scope, pairs)?;
    let snap = match day {
        Some(day) => super::api::snapshot_held(&state, &day)
            .await?
            .unwrap_or(snap),
        None => snap,
    };
    let selecting = Arc::clone(&snap);
    let (sel, p) = state
        .build(move || {
            let sel = items::select(&ctx(&selecting, scope), layer, scope, &p);
            (sel, p)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("select: {e}")))?;
    let links = items::page_links(&base, layer, &p, &sel);
    let mut head = items::collection_head(
        &sel,
        &crate::datetime::rfc3339(std::time::SystemTime::now()),
        &links,
    );
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON)),
        content_crs(p.crs),
    ];
    let writer = items::PageWriter::new(layer, sel.page, p.crs, p.properties);
    let (first, writer) = next_chunk(&state, Arc::clone(&snap), scope, writer)
        .await
        .map_err(|e| ApiError::Internal(format!("page: {e}")))?;
    head.push_str(&first);
    if writer.done() {
        // A page of one chunk is answered whole and holds no stream place.
        return Ok((headers, head).into_response());
    }
    // A streamed page holds its selection and snapshot until the client
    // has read it (or the write timeout drops it): their number is
    // bounded.
    let permit = Arc::clone(&state.streams)
        .try_acquire_owned()
        .map_err(|_| {
            state.metrics.rejected("streams");
            ApiError::Busy("too many feature pages are being sent; retry in a moment".into())
        })?;
    Ok((headers, page_body(state, snap, scope, head, writer, permit)).into_response())
}

/// Writes the page's next chunk of about [`CHUNK_BYTES`] on the build
/// threads (with the collection's tail after the last feature).
async fn next_chunk(
    state: &AppState,
    snap: Arc<Snapshot>,
    scope: Scope,
    mut writer: items::PageWriter,
) -> Result<(String, items::PageWriter), super::build_pool::BuildPoolError> {
    state
        .build(move || {
            let mut buf = String::with_capacity(CHUNK_BYTES + 4096);
            writer.write_chunk(&ctx(&snap, scope), CHUNK_BYTES, &mut buf);
            if writer.done() {
                buf.push_str(COLLECTION_TAIL);
            }
            (buf, writer)
        })
        .await
}

/// A feature page as it streams: its start (the head and first chunk),
/// then chunks of about [`CHUNK_BYTES`] of features, each written on the
/// build threads when the client has taken the one before (so a slow
/// reader holds no thread, only its place among the streams), the last
/// with the tail.
fn page_body(
    state: AppState,
    snap: Arc<Snapshot>,
    scope: Scope,
    start: String,
    writer: items::PageWriter,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Body {
    let start = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(
        Bytes::from(start),
    )));
    let features = futures_util::stream::unfold(Some((writer, permit)), move |cursor| {
        let (state, snap) = (state.clone(), Arc::clone(&snap));
        async move {
            let (writer, permit) = cursor?;
            match next_chunk(&state, snap, scope, writer).await {
                // The page's last chunk ends the stream (and frees its place).
                Ok((buf, writer)) if writer.done() => Some((Ok(Bytes::from(buf)), None)),
                Ok((buf, writer)) => Some((Ok(Bytes::from(buf)), Some((writer, permit)))),
                // A page cut short must not look whole: the connection is
                // aborted.
                Err(e) => Some((Err(std::io::Error::other(e)), None)),
            }
        }
    });
    Body::from_stream(futures_util::StreamExt::chain(start, features))
}

/// `GET /ogc/collections/{id}/items/{fid}`.
async fn item(
    State(state): State<AppState>,
    caller: Caller,
    Base(base): Base,
    Path((id, fid)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let snap = state.current();
    let scope = caller.scope(&snap.store);
    let layer = served(&id);
    if let Some(layer) = layer {
        scope.open(layer)?;
    }
    let c = ctx(&snap, scope);
    let found = layer.map(|l| items::find(&c, l, scope, &fid));
    if let Some(Err(e @ OgcError::Forbidden(_))) = &found {
        return Err(e.clone().into());
    }
    let pairs = params::pairs(query.as_deref())?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    params::format(get("f"))?;
    let crs = params::output_crs(get("crs"))?;
    let (Some(layer), Some(found)) = (layer, found) else {
        return Err(not_found(&id));
    };
    let index = found?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON)),
            content_crs(crs),
        ],
        items::feature_document(&c, &base, layer, index, crs),
    )
        .into_response())
}
