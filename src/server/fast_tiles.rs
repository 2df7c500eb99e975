//! The fast path for cached tiles: a `GET /tiles/{z}/{x}/{y}.mvt` whose
//! answer is already known — its body is in the tile cache, or its
//! `If-None-Match` names its tag (304) — is answered in front of the
//! router, without the router's middleware, with the status, body and
//! headers the full stack would give (only the values of `date` and of a
//! generated `x-request-id` differ). Every other request, and every request
//! the fast path is not sure of, goes to the router unchanged.
//!
//! What the full stack does to such a request, and how the fast path does
//! the same:
//!
//! - authentication (`Authorization`, Bearer or Basic): read with the same
//!   [`Authentication::of`]; an unknown or malformed credential, an
//!   `ingest` token, and an anonymous caller when `public_access = false`
//!   go to the router (401/403 there);
//! - the tile handler's work: the same functions of [`super::tiles`] parse
//!   the tile, read the filter (`industry`, `risk_level`, `hazard_grade`)
//!   and `auth=required`, make the cache key, the ETag and the answer;
//!   `?date=`, any other query parameter and anything that does not parse
//!   go to the router;
//! - the middleware's headers: CORS ([`super::cors::decorate`]) and
//!   `x-request-id` (the client's, else the next id of the shared counter);
//! - `/metrics`: the request under its route and status, its latency, the
//!   tile cache hit, the requests-in-flight gauge;
//! - the limits: a request with a body, a request target or header fields
//!   over their limits (413/414/431) go to the router; the answer takes a
//!   place of `max_concurrent_requests` from the same semaphore while it is
//!   made (none free: the router, where the request waits its turn as
//!   before) and consults the same rate limiter (a refusal is handed to the
//!   router with the request, which answers the 429 without counting the
//!   request twice);
//! - the path check, the private-cache headers and the audit log have
//!   nothing to do for a tile path of plain digits.
//!
//! Only `GET` is answered here: `HEAD`, `OPTIONS` (CORS preflights) and
//! every other method go to the router.

use super::AppState;
use super::cors;
use super::limits::{Gates, header_len, target_len};
use super::metrics::InFlight;
use super::ratelimit::{self, Refused};
use super::tiles::{self, TILE_ROUTE, TileService};
use crate::auth::{Authentication, Caller, Role};
use crate::tiles::cache::TileBody;
use crate::tiles::{HAZARD_GRADE_PARAM, INDUSTRY_PARAM, RISK_LEVEL_PARAM};
use axum::http::{HeaderName, Method, Request, header};
use axum::response::Response;
use futures_util::future::Either;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Instant;

/// The header of request ids.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The query parameters the fast path reads (as the tile handler reads
/// them); a query with any other goes to the router.
const HANDLED_PARAMS: [&str; 4] = ["auth", INDUSTRY_PARAM, RISK_LEVEL_PARAM, HAZARD_GRADE_PARAM];

/// Longest decimal number in a tile path the fast path reads (`u32`).
const MAX_DIGITS: usize = 10;

/// The fast path: the tile service the router's tile route answers from,
/// and the budgets its limit layers count against.
pub struct FastTiles {
    state: AppState,
    tiles: Arc<TileService>,
    gates: Gates,
}

/// What the fast path makes of a request.
enum Verdict {
    /// The answer, made here.
    Answer(Response),
    /// For the router; with the rate limiter's refusal when it refused.
    Forward(Option<Refused>),
}

/// An answer known before the limits are consulted.
struct Known {
    /// 304, or the cached body.
    body: Option<TileBody>,
    /// The entity tag.
    tag: String,
    /// Whether the caller has no token (public caching).
    public: bool,
    /// Whether the body is gzipped.
    gzip: bool,
    /// Who asks (the rate limiter's key).
    auth: Authentication,
}

impl FastTiles {
    /// The fast path in front of a router whose tile route answers from
    /// `tiles` and whose limit layers count against `gates`.
    pub(super) fn new(state: AppState, tiles: Arc<TileService>, gates: Gates) -> Self {
        FastTiles {
            state,
            tiles,
            gates,
        }
    }

    /// The answer to `req` from `peer`, or why it goes to the router.
    fn answer<B>(&self, req: &Request<B>, peer: Option<SocketAddr>) -> Verdict {
        let started = Instant::now();
        let Some(known) = self.known(req) else {
            return Verdict::Forward(None);
        };
        // No free place: the router, where the request waits for one.
        let Ok(_place) = self.gates.permits.try_acquire() else {
            return Verdict::Forward(None);
        };
        if let Some(rate) = &self.gates.rate
            && let Err(wait) = rate
                .limiter
                .check(&ratelimit::key_of(Some(&known.auth), peer))
        {
            return Verdict::Forward(Some(Refused(wait)));
        }
        let metrics = &self.state.metrics;
        let _in_flight = InFlight::enter(metrics);
        let mut resp = match known.body {
            None => tiles::not_modified_response(&known.tag, known.public),
            Some(body) => {
                metrics.tile_cache_hits.fetch_add(1, Ordering::Relaxed);
                tiles::tile_response(body, known.gzip, &known.tag, known.public)
            }
        };
        let headers = resp.headers_mut();
        cors::decorate(headers);
        let id = match req.headers().get(&REQUEST_ID) {
            Some(id) => Some(id.clone()),
            None => self.gates.ids.next_id(),
        };
        if let Some(id) = id {
            headers.insert(REQUEST_ID, id);
        }
        let status = resp.status();
        let seconds = started.elapsed().as_secs_f64();
        metrics.observe(TILE_ROUTE, status.as_u16(), seconds);
        tracing::debug!(
            method = %req.method(),
            uri = %req.uri(),
            status = status.as_u16(),
            seconds,
            "cached tile answered on the fast path"
        );
        Verdict::Answer(resp)
    }

    /// The answer to `req` if it is a plain tile request whose answer is
    /// known (cached, or 304), without consulting the limits.
    fn known<B>(&self, req: &Request<B>) -> Option<Known> {
        if req.method() != Method::GET {
            return None;
        }
        let headers = req.headers();
        // A body (413 over its limit), `Expect`: the router's.
        if headers.contains_key(header::CONTENT_LENGTH)
            || headers.contains_key(header::TRANSFER_ENCODING)
            || headers.contains_key(header::EXPECT)
        {
            return None;
        }
        let limits = &self.state.config.limits;
        if target_len(req.uri()) > limits.max_uri_bytes
            || header_len(headers) > limits.max_header_bytes
        {
            return None;
        }
        let (z, x, y_ext) = tile_path(req.uri().path())?;
        let tile = tiles::parse_tile(z, x, y_ext).ok()?;
        let query = match req.uri().query() {
            None => HashMap::new(),
            Some(q) if handled_query(q) => tiles::query_map(Some(q)),
            Some(_) => return None,
        };
        let filter = tiles::tile_filter(&query).ok()?;
        let auth = Authentication::of(
            headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()),
            &self.state.tokens,
        );
        let snap = self.state.snapshot.load();
        let scope = match &auth {
            Authentication::Absent if self.state.config.public_access => {
                Caller::Anonymous.scope(&snap.store)
            }
            Authentication::Valid(caller) if caller.role() != Some(Role::Ingest) => {
                caller.scope(&snap.store)
            }
            _ => return None,
        };
        let public = !scope.has_token();
        if public && tiles::requires_token(&query) {
            return None;
        }
        let key = tiles::tile_key(&snap, scope, tile, filter, None, headers);
        let tag = tiles::etag(&key);
        let body = if tiles::not_modified(headers, &tag) {
            None
        } else {
            Some(self.tiles.cache.get(&key)?)
        };
        Some(Known {
            body,
            tag,
            public,
            gzip: key.gzip,
            auth,
        })
    }
}

/// `z`, `x` and `y.mvt` of a path `/tiles/Z/X/Y.mvt` whose numbers are
/// plain decimal digits (so that percent-decoding leaves them as they are);
/// `None` for any other path.
fn tile_path(path: &str) -> Option<(&str, &str, &str)> {
    let mut parts = path.strip_prefix("/tiles/")?.split('/');
    let (z, x, y_ext) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let y = y_ext.strip_suffix(".mvt")?;
    let number =
        |s: &str| !s.is_empty() && s.len() <= MAX_DIGITS && s.bytes().all(|b| b.is_ascii_digit());
    (number(z) && number(x) && number(y)).then_some((z, x, y_ext))
}

/// Whether every parameter of `query` is one the fast path reads.
fn handled_query(query: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).all(|(k, _)| HANDLED_PARAMS.contains(&k.as_ref()))
}

/// A connection's service: [`FastTiles`] in front of `inner` (the router).
#[derive(Clone)]
pub struct WithFastTiles<S> {
    fast: Arc<FastTiles>,
    peer: Option<SocketAddr>,
    inner: S,
}

impl<S> WithFastTiles<S> {
    /// `inner` behind `fast`, for requests from `peer`.
    pub fn new(fast: Arc<FastTiles>, peer: Option<SocketAddr>, inner: S) -> Self {
        WithFastTiles { fast, peer, inner }
    }
}

impl<S, B> tower::Service<Request<B>> for WithFastTiles<S>
where
    S: tower::Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // A panic here (there should be none) leaves the request to the
        // router.
        let verdict = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.fast.answer(&req, self.peer)
        }))
        .unwrap_or(Verdict::Forward(None));
        match verdict {
            Verdict::Answer(resp) => Either::Left(ready(Ok(resp))),
            Verdict::Forward(refused) => {
                if let Some(r) = refused {
                    req.extensions_mut().insert(r);
                }
                Either::Right(self.inner.call(req))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_tile_paths() {
        assert_eq!(
            tile_path("/tiles/12/3397/1755.mvt"),
            Some(("12", "3397", "1755.mvt"))
        );
        assert_eq!(tile_path("/tiles/0/0/0.mvt"), Some(("0", "0", "0.mvt")));
        for p in [
            "/tiles/12/3397/1755.png",
            "/tiles/12/3397/1755",
            "/tiles/12/3397/1755.mvt/",
            "/tiles/12/3397/%31.mvt",
            "/tiles/12/+3/1.mvt",
            "/tiles/12/-3/1.mvt",
            "/tiles//3/1.mvt",
            "/tiles/1/2/3/4.mvt",
            "/tiles/1/2",
            "/tiles.json",
            "//tiles/1/2/3.mvt",
            "/tiles/1/2/99999999999.mvt",
        ] {
            assert_eq!(tile_path(p), None, "{p}");
        }
    }

    #[test]
    fn only_the_parameters_the_handler_reads() {
        assert!(handled_query(""));
        assert!(handled_query("auth=required"));
        assert!(handled_query(
            "industry=gas,mining&risk_level=major&hazard_grade=1"
        ));
        assert!(handled_query("%61uth=required"));
        assert!(!handled_query("date=2026-12-01"));
        assert!(!handled_query("industry=gas&v=2"));
        assert!(!handled_query("token=abc"));
    }
}
