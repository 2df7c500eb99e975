//! `GET /tiles/{z}/{x}/{y}.mvt` (composite vector tiles) and
//! `GET /tiles.json` (TileJSON 3.0.0).

use super::http::base_url;
use super::{ApiError, AppState};
use crate::auth::{Caller, Scope};
use crate::config::TilesConfig;
use crate::model::LayerId;
use crate::snapshot::Snapshot;
use crate::tiles::cache::{Built, Stale, TileBody, TileCache, TileKey};
use crate::tiles::{
    HAZARD_GRADE_PARAM, INDUSTRY_PARAM, RISK_LEVEL_PARAM, TileError, TileFilter, TileId,
    TilePolicy, tilejson,
};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Media type of Mapbox Vector Tiles.
const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// Browser cache lifetime of a tile, seconds.
const TILE_MAX_AGE: u32 = 300;
/// `Cache-Control` of a public tile (max-age [`TILE_MAX_AGE`]).
const PUBLIC_CACHE_CONTROL: &str = "public, max-age=300";
const _: () = assert!(TILE_MAX_AGE == 300, "update PUBLIC_CACHE_CONTROL");
/// The route of composite tiles, as `/metrics` names it.
pub(super) const TILE_ROUTE: &str = "/tiles/{z}/{x}/{y}";

/// Tile routes: `/tiles/{z}/{x}/{y}.mvt` and `/tiles.json`, answered from
/// `service` (shared with [`super::fast_tiles`]).
pub(super) fn routes(service: Arc<TileService>) -> Router<AppState> {
    Router::new()
        .route(TILE_ROUTE, get(tile))
        .route("/tiles.json", get(tile_json))
        .layer(Extension(service))
}

/// What the tile routes keep between requests: the tile cache (read by
/// the fast path too) and the cutting policy.
pub(super) struct TileService {
    /// Tile bodies, one entry per tile address ([`TileKey`]).
    pub(super) cache: TileCache,
    policy: TilePolicy,
    /// How long after it stopped being the latest a cached tile may still
    /// be answered while it is rebuilt (`[tiles] stale_ms`; zero: never).
    max_stale: Duration,
}

impl TileService {
    /// The cached state of `key`'s tile when a write has changed the tile
    /// since but tiles may lag the writes that long (`[tiles] stale_ms`;
    /// [`TileCache::get_stale`]).
    pub(super) fn get_stale(&self, key: &TileKey) -> Option<Stale> {
        self.cache.get_stale(key, self.max_stale)
    }

    /// A service with the cache of `config`.
    pub(super) fn new(config: &TilesConfig) -> Self {
        TileService {
            cache: TileCache::new(config.cache_mb << 20),
            policy: TilePolicy::default(),
            max_stale: Duration::from_millis(config.stale_ms),
        }
    }
}

fn parse_number(what: &str, text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().map_err(|_| {
        ApiError::BadRequest(format!(
            "{what} must be a non-negative integer, got {text:?}"
        ))
    })
}

/// Checks `z`, `x` and `y.mvt`: 400 for non-numeric parts or z > 22, 404
/// for another extension or x/y outside the zoom's grid.
pub(super) fn parse_tile(z: &str, x: &str, y_ext: &str) -> Result<TileId, ApiError> {
    let Some(y) = y_ext.strip_suffix(".mvt") else {
        return Err(ApiError::NotFound(
            "tiles are served as {z}/{x}/{y}.mvt".into(),
        ));
    };
    let (z, x, y) = (
        parse_number("z", z)?,
        parse_number("x", x)?,
        parse_number("y", y)?,
    );
    TileId::new(z, x, y).map_err(|e| match e {
        TileError::OutsideGrid { .. } => ApiError::NotFound(e.to_string()),
        _ => ApiError::BadRequest(e.to_string()),
    })
}

/// The query's `industry`, `risk_level` and `hazard_grade` as a filter
/// (400 naming the parameter and the value for an unknown value or a
/// list too long); [`TileFilter::NONE`] without a query.
pub(super) fn tile_filter(
    query: &std::collections::HashMap<String, String>,
) -> Result<TileFilter, ApiError> {
    if query.is_empty() {
        return Ok(TileFilter::NONE);
    }
    let get = |name: &str| query.get(name).map(String::as_str);
    TileFilter::parse(
        get(INDUSTRY_PARAM),
        get(RISK_LEVEL_PARAM),
        get(HAZARD_GRADE_PARAM),
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `filter` as it bears on a caller with `scope`: it narrows only the
/// private point layers, so a caller who sees neither gets (and shares the
/// cache entry of) the unfiltered tile.
fn filter_for(scope: Scope, filter: TileFilter) -> TileFilter {
    if scope.opens(LayerId::Enterprises) || scope.opens(LayerId::HazardSources) {
        filter
    } else {
        TileFilter::NONE
    }
}

/// Whether `Accept-Encoding` allows gzip (`gzip` or `*` with q > 0).
pub(super) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && q > 0.0
        })
}

/// Bytes of the SHA-256 digest an entity tag shows (in hexadecimal).
const ETAG_DIGEST_BYTES: usize = 10;

/// The entity tag of one tile body.
pub(super) fn etag(key: &TileKey) -> String {
    use std::fmt::Write;
    let mut h = Sha256::new();
    key.data_version_in(|b| h.update(b));
    h.update(b"\0");
    let mut zxy = [0u8; 40];
    let mut w = Cursor(&mut zxy, 0);
    // The tile's `Display` (`z/x/y`), written without an allocation.
    let _ = write!(w, "{}", key.tile);
    let n = w.1;
    h.update(&zxy[..n]);
    h.update(b"\0");
    h.update(key.caller.as_bytes());
    // Unfiltered tiles keep the tags they had before filters existed.
    if !key.filter.is_none() {
        h.update(b"\0filter\0");
        h.update(key.filter.key_bytes());
    }
    let digest = h.finalize();
    let mut hex = [0u8; 2 * ETAG_DIGEST_BYTES];
    let _ = hex::encode_to_slice(
        digest.get(..ETAG_DIGEST_BYTES).unwrap_or_default(),
        &mut hex,
    );
    let suffix = if key.gzip { "-gzip\"" } else { "-identity\"" };
    // Exactly as long as it will be: the answer takes the bytes as they are.
    let mut out = String::with_capacity(1 + hex.len() + suffix.len());
    out.push('"');
    out.push_str(std::str::from_utf8(&hex).unwrap_or_default());
    out.push_str(suffix);
    out
}

/// A `fmt::Write` into a byte buffer (the text of a tile address).
struct Cursor<'a>(&'a mut [u8], usize);

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.1 + s.len();
        let dst = self.0.get_mut(self.1..end).ok_or(std::fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.1 = end;
        Ok(())
    }
}

/// Whether `If-None-Match` names `etag` (or `*`).
pub(super) fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    super::http::etag_matches(headers, etag)
}

/// The cache key of `tile` for a caller with `scope`, with `filter` as it
/// bears on that scope and the encoding `headers` accept. `date` is the day
/// of `?date=` when `snap` is that day's state.
pub(super) fn tile_key(
    snap: &Snapshot,
    scope: Scope,
    tile: TileId,
    filter: TileFilter,
    date: Option<&str>,
    headers: &HeaderMap,
) -> TileKey {
    TileKey {
        load: snap.layer_cache.load(),
        base: Arc::clone(&snap.base_version),
        seq: match date {
            Some(_) => snap.seq,
            None => snap.tile_changes.last_change(tile, snap.seq),
        },
        date: date.map(Arc::from),
        tile,
        caller: caller_key(scope, &snap.store),
        filter: filter_for(scope, filter),
        gzip: accepts_gzip(headers),
    }
}

/// [`Scope::cache_key`], shared for the scopes without a unit (no
/// allocation on every request).
fn caller_key(scope: Scope, store: &crate::index::Store) -> Arc<str> {
    static PUBLIC: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("public"));
    static ALL: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("all"));
    match scope {
        Scope::Public => Arc::clone(&PUBLIC),
        Scope::All => Arc::clone(&ALL),
        _ => scope.cache_key(store).into(),
    }
}

/// Header fields a tile answer has room for: its own and those the
/// middleware (or the fast path) adds.
const ANSWER_HEADERS: usize = 12;

/// An answer with `status` and `body` and room for [`ANSWER_HEADERS`].
fn answer(status: StatusCode, body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = HeaderMap::with_capacity(ANSWER_HEADERS);
    resp
}

/// The 304 answer to a tile request whose `If-None-Match` names `etag`.
pub(super) fn not_modified_response(etag: String, public: bool) -> Response {
    let mut resp = answer(StatusCode::NOT_MODIFIED, Body::empty());
    common_headers(&mut resp, etag, public);
    resp
}

fn common_headers(resp: &mut Response, etag: String, public: bool) {
    let h = resp.headers_mut();
    h.insert(
        header::VARY,
        HeaderValue::from_static("Authorization, Accept-Encoding"),
    );
    // A token's tiles are never stored: Qt-based clients (QGIS) key their
    // disk cache on the URL alone and ignore `Vary`, so a stored private
    // tile would be shown to the next caller of the same URL.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if public {
            PUBLIC_CACHE_CONTROL
        } else {
            "private, no-store"
        }),
    );
    // The tag's own bytes, not a copy.
    if let Ok(v) = HeaderValue::from_maybe_shared(Bytes::from(etag.into_bytes())) {
        h.insert(header::ETAG, v);
    }
}

/// `GET /tiles/{z}/{x}/{y}.mvt`.
async fn tile(
    State(state): State<AppState>,
    Extension(service): Extension<Arc<TileService>>,
    caller: Caller,
    Path((z, x, y)): Path<(String, String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    // The request's headers are read in place (not copied) and its query
    // parsed only when there is one.
    let headers = req.headers();
    let q = query_map(req.uri().query());
    let tile = parse_tile(&z, &x, &y)?;
    let filter = tile_filter(&q)?;
    let date = q.get("date");
    // The snapshot read below is the latest at least until this moment.
    let read_at = Instant::now();
    let snap = match date {
        // `?date=YYYY-MM-DD`: that day's colours, cached under the date.
        Some(d) => crate::server::api::snapshot_on(&state, "date", d).await?,
        None => state.current(),
    };
    let scope = caller.scope(&snap.store);
    let public = !scope.has_token();
    if public && requires_token(&q) {
        return Err(ApiError::Unauthorized(
            "auth=required: this tile URL answers only a caller with a token".into(),
        ));
    }
    let key = tile_key(
        &snap,
        scope,
        tile,
        filter,
        date.map(String::as_str),
        headers,
    );
    let tag = etag(&key);
    if not_modified(headers, &tag) {
        return Ok(not_modified_response(tag, public));
    }
    let gzipped = key.gzip;
    // A cached tile is answered here, without a trip to the blocking pool.
    if let Some(body) = service.cache.get(&key) {
        state
            .metrics
            .tile_cache_hits
            .fetch_add(1, Ordering::Relaxed);
        return Ok(tile_response(body, gzipped, tag, public));
    }
    // Lagging allowed (`stale_ms`): a state the tile had a moment ago is
    // answered at once and the tile rebuilt behind it.
    if date.is_none()
        && let Some(stale) = service.get_stale(&key)
    {
        if stale.refresh {
            refresh(&state, &service, caller, key.clone());
        }
        let tag = etag(&TileKey {
            seq: stale.seq,
            ..key
        });
        if not_modified(headers, &tag) {
            return Ok(not_modified_response(tag, public));
        }
        state
            .metrics
            .tile_stale_answers
            .fetch_add(1, Ordering::Relaxed);
        return Ok(tile_response(stale.body, gzipped, tag, public));
    }
    let svc = Arc::clone(&service);
    let asked = key.clone();
    let job = move || build_into(&svc, &snap, scope, key, read_at);
    let (body, built) = state
        .build(job)
        .await
        .map_err(|e| ApiError::Internal(format!("tile task: {e}")))?;
    let counter = if built {
        &state.metrics.tile_cache_misses
    } else {
        &state.metrics.tile_cache_hits
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let (body, seq) = body.map_err(|e| ApiError::Internal(format!("tile {tile}: {e}")))?;
    // A write overtook the request's snapshot and the tile was built as it
    // is now: the answer is tagged with that state.
    let tag = if seq == asked.seq {
        tag
    } else {
        let tag = etag(&TileKey { seq, ..asked });
        if not_modified(req.headers(), &tag) {
            return Ok(not_modified_response(tag, public));
        }
        tag
    };
    Ok(tile_response(body, gzipped, tag, public))
}

/// The cached state of `key`'s tile, or the one built from `snap` (read
/// at `read_at`) for a caller with `scope`, and whether it was built.
fn build_into(
    service: &TileService,
    snap: &Snapshot,
    scope: Scope,
    key: TileKey,
    read_at: Instant,
) -> (Result<(TileBody, u64), Arc<String>>, bool) {
    let (tile, filter, gzipped) = (key.tile, key.filter, key.gzip);
    let mut built = false;
    let body = service
        .cache
        .get_or_build(key, read_at, |previous| -> Result<Built, String> {
            built = true;
            if gzipped {
                snap.build_tile_gzip(scope, tile, &service.policy, filter, previous)
                    .map(|t| match t {
                        Some(t) => (Some(Bytes::from(t.body)), t.kept),
                        None => (None, None),
                    })
                    .map_err(|e| e.to_string())
            } else {
                Ok((
                    snap.build_tile_filtered(scope, tile, &service.policy, filter)
                        .map(|t| Bytes::from(t.bytes)),
                    None,
                ))
            }
        });
    (body, built)
}

/// Rebuilds `key`'s tile behind a stale answer, on the build threads, at
/// the latest state when the build starts (nothing when a reload has
/// replaced the load `key` is of).
pub(super) fn refresh(state: &AppState, service: &Arc<TileService>, caller: Caller, key: TileKey) {
    let (state, service) = (state.clone(), Arc::clone(service));
    let job = {
        let state = state.clone();
        move || {
            let read_at = Instant::now();
            let snap = state.current();
            if snap.layer_cache.load() != key.load {
                return;
            }
            let scope = caller.scope(&snap.store);
            let seq = snap.tile_changes.last_change(key.tile, snap.seq);
            let (_, built) = build_into(&service, &snap, scope, TileKey { seq, ..key }, read_at);
            if built {
                state.metrics.tile_refreshes.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    tokio::spawn(async move {
        if let Err(e) = state.build(job).await {
            tracing::warn!("tile rebuild behind a stale answer: {e}");
        }
    });
}

/// The response for a tile body: 204 for an empty tile, else the MVT bytes.
pub(super) fn tile_response(body: TileBody, gzipped: bool, tag: String, public: bool) -> Response {
    let mut resp = match body {
        None => answer(StatusCode::NO_CONTENT, Body::empty()),
        Some(bytes) => {
            let mut r = answer(StatusCode::OK, Body::from(bytes));
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE));
            if gzipped {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            r
        }
    };
    common_headers(&mut resp, tag, public);
    resp
}

/// The query's parameters as `Query<HashMap<String, String>>` reads them
/// (form-decoded, a repeated name keeping its last value); empty without
/// a query, with no allocation.
pub(super) fn query_map(query: Option<&str>) -> std::collections::HashMap<String, String> {
    match query {
        None | Some("") => std::collections::HashMap::new(),
        Some(q) => form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    }
}

/// Whether the query holds `auth=required`: a tile URL that only token
/// holders get an answer from. GIS clients built on Qt (QGIS) cache tiles
/// by URL alone, so an authenticated tile layer there needs a URL no
/// anonymous answer was ever cached under.
pub(super) fn requires_token(query: &std::collections::HashMap<String, String>) -> bool {
    query.get("auth").is_some_and(|v| v == "required")
}

/// `GET /tiles.json`.
async fn tile_json(
    State(state): State<AppState>,
    Extension(service): Extension<Arc<TileService>>,
    _caller: Caller,
    headers: HeaderMap,
) -> Response {
    let snap = state.current();
    let url = format!(
        "{}/tiles/{{z}}/{{x}}/{{y}}.mvt",
        base_url(&headers).as_str()
    );
    let mut doc = tilejson::tilejson(&url, snap.store.bounds(), &service.policy);
    // How long a tile may lag the live writes (`[tiles] stale_ms`): a
    // client refreshing tiles after a write asks again once it has passed.
    if let (Some(map), false) = (doc.as_object_mut(), service.max_stale.is_zero()) {
        let ms = u64::try_from(service.max_stale.as_millis()).unwrap_or(u64::MAX);
        map.insert(tilejson::STALE_MS_KEY.into(), ms.into());
    }
    let mut resp = Json(doc).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn auth_required_is_read_from_the_query() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::HashMap<_, _>>()
        };
        assert!(requires_token(&q(&[("auth", "required")])));
        assert!(requires_token(&q(&[("x", "1"), ("auth", "required")])));
        assert!(!requires_token(&q(&[("auth", "optional")])));
        assert!(!requires_token(&q(&[])));
    }

    #[test]
    fn tile_paths() {
        assert!(parse_tile("3", "1", "2.mvt").is_ok());
        assert!(matches!(
            parse_tile("a", "1", "2.mvt"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_tile("3", "1", "-2.mvt"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_tile("23", "0", "0.mvt"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_tile("3", "8", "0.mvt"),
            Err(ApiError::NotFound(_))
        ));
        assert!(matches!(
            parse_tile("3", "1", "2.png"),
            Err(ApiError::NotFound(_))
        ));
    }

    #[test]
    fn accept_encoding() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "gzip, deflate, br"
        )])));
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br;q=1.0, gzip;q=0.8"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&headers(&[])));
    }

    #[test]
    fn shared_caller_keys_are_the_scopes_keys() {
        let store = crate::index::Store::build(Default::default());
        for scope in [Scope::Public, Scope::All, Scope::Nothing] {
            assert_eq!(*caller_key(scope, &store), *scope.cache_key(&store));
        }
    }

    #[test]
    fn etags_differ_by_encoding_and_caller_and_match() {
        let k = TileKey {
            load: 1,
            base: "abc".into(),
            seq: 0,
            date: None,
            tile: TileId::new(1, 0, 0).unwrap_or_else(|e| panic!("{e}")),
            caller: "public".into(),
            filter: TileFilter::NONE,
            gzip: false,
        };
        let g = TileKey {
            gzip: true,
            ..k.clone()
        };
        let c = TileKey {
            caller: "all".into(),
            ..k.clone()
        };
        assert_ne!(etag(&k), etag(&g));
        assert_ne!(etag(&k), etag(&c));
        // An unfiltered tile's tag: SHA-256 of version, tile and caller.
        assert_eq!(etag(&k), "\"588504a3c5cc69fd14a3-identity\"");
        // A state's tag is that of its `data_version` text.
        let live = TileKey {
            seq: 7,
            date: Some("2026-01-01".into()),
            ..k.clone()
        };
        let text = TileKey {
            base: "abc-7@2026-01-01".into(),
            ..k.clone()
        };
        assert_eq!(etag(&live), etag(&text));
        assert_ne!(etag(&live), etag(&k));
        let f = |i: &str, r: &str| TileKey {
            filter: TileFilter::parse(Some(i), Some(r), None).unwrap_or_default(),
            ..k.clone()
        };
        assert_ne!(etag(&f("gas", "")), etag(&k));
        assert_ne!(etag(&f("gas", "")), etag(&f("gas", "major")));
        assert_eq!(etag(&f("gas,mining", "")), etag(&f("mining,gas", "")));
        assert_eq!(etag(&f("", "major,high,medium,low")), etag(&k));
        let t = etag(&k);
        assert!(not_modified(
            &headers(&[("if-none-match", &format!("\"x\", {t}"))]),
            &t
        ));
        assert!(not_modified(
            &headers(&[("if-none-match", &format!("W/{t}"))]),
            &t
        ));
        assert!(!not_modified(&headers(&[("if-none-match", &etag(&g))]), &t));
    }
}
