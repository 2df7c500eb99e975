//! The fast path for cached tiles: a `GET /tiles/{z}/{x}/{y}.mvt` whose
//! answer is already known — its body is in the tile cache (or, with
//! `[tiles] stale_ms`, an earlier state of it that may still be answered,
//! the rebuild behind it started as the router would), or its
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
use crate::tiles::cache::{TileBody, TileKey};
use crate::tiles::{HAZARD_GRADE_PARAM, INDUSTRY_PARAM, RISK_LEVEL_PARAM};
use axum::body::HttpBody;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
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

/// The name of the header of request ids.
const REQUEST_ID_NAME: &str = "x-request-id";

/// The header of request ids.
const REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_NAME);

/// The most an `x-request-id` the router adds to a request weighs in its
/// header size ([`header_len`]: name, 16 hexadecimal digits, separators).
const MAX_ID_FIELD: usize = REQUEST_ID_NAME.len() + 16 + 4;

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
    /// Whether the answer is a state a write has changed since (within
    /// `[tiles] stale_ms`).
    stale: bool,
    /// The rebuild a stale answer is to start, for this caller and key.
    refresh: Option<(Caller, TileKey)>,
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
        let Some(mut known) = self.known(req) else {
            return Verdict::Forward(None);
        };
        // A rebuild behind a stale answer starts whatever the limits say:
        // `known` has claimed it (one per state of a tile, so no flood
        // makes more), and the router, should it get the request, finds
        // it claimed.
        if let Some((caller, key)) = known.refresh.take() {
            tiles::refresh(&self.state, &self.tiles, caller, key);
        }
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
            None => tiles::not_modified_response(known.tag, known.public),
            Some(body) => {
                let counter = if known.stale {
                    &metrics.tile_stale_answers
                } else {
                    &metrics.tile_cache_hits
                };
                counter.fetch_add(1, Ordering::Relaxed);
                tiles::tile_response(body, known.gzip, known.tag, known.public)
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
        set_content_length(&mut resp);
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
        // The router counts the request id it adds among the header fields.
        let id_len = if headers.contains_key(&REQUEST_ID) {
            0
        } else {
            MAX_ID_FIELD
        };
        let limits = &self.state.config.limits;
        if target_len(req.uri()) > limits.max_uri_bytes
            || header_len(headers) + id_len > limits.max_header_bytes
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
        let gzip = key.gzip;
        let mut refresh = None;
        let (body, tag, stale) = if tiles::not_modified(headers, &tag) {
            (None, tag, false)
        } else if let Some(body) = self.tiles.cache.get(&key) {
            (Some(body), tag, false)
        } else {
            // Lagging allowed (`[tiles] stale_ms`): the state the tile had a
            // moment ago, as the router's handler would answer it.
            let stale = self.tiles.get_stale(&key)?;
            if stale.refresh {
                let caller = match &auth {
                    Authentication::Valid(caller) => caller.clone(),
                    _ => Caller::Anonymous,
                };
                refresh = Some((caller, key.clone()));
            }
            let tag = tiles::etag(&TileKey {
                seq: stale.seq,
                ..key
            });
            let body = (!tiles::not_modified(headers, &tag)).then_some(stale.body);
            (body, tag, true)
        };
        Some(Known {
            body,
            tag,
            public,
            gzip,
            auth,
            stale,
            refresh,
        })
    }
}

/// `Content-Length` as the router sets it on every answer (axum's
/// outermost route: the body's exact size, unless the answer has one).
fn set_content_length(resp: &mut Response) {
    if resp.headers().contains_key(header::CONTENT_LENGTH) {
        return;
    }
    let value = match resp.body().size_hint().exact() {
        None => return,
        Some(0) => HeaderValue::from_static("0"),
        Some(size) => match HeaderValue::from_bytes(decimal(size, &mut [0; 20])) {
            Ok(v) => v,
            Err(_) => return,
        },
    };
    resp.headers_mut().insert(header::CONTENT_LENGTH, value);
}

/// `n` in decimal digits, written at the end of `buf` (a value made from
/// them costs one allocation; `HeaderValue::from(u64)` makes two).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.get(start..).unwrap_or_default()
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
    use crate::auth::TokensFile;
    use crate::config::Config;
    use crate::snapshot::Snapshot;
    use axum::body::Body;
    use tower::ServiceExt;

    /// A server state on an empty dataset with a planner and an ingest
    /// token (their plain texts returned), and its router and fast path.
    fn app(config: Config) -> (axum::Router, Arc<FastTiles>, String, String) {
        let mut tokens = TokensFile::default();
        let planner = tokens.add("p", Role::Planner, None).unwrap();
        let ingest = tokens.add("i", Role::Ingest, None).unwrap();
        let snap = Snapshot::from_dataset(Default::default(), &config);
        let (router, fast) = super::super::app(AppState::new(snap, config, tokens));
        (router, fast, planner, ingest)
    }

    fn get(target: &str, headers: &[(&str, &str)]) -> Request<Body> {
        let mut req = Request::builder().uri(target);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(Body::empty()).unwrap()
    }

    /// Status, headers but the request id, and body.
    async fn parts(resp: Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter(|(k, _)| *k != REQUEST_ID)
            .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body.to_vec())
    }

    async fn routed(router: &axum::Router, req: Request<Body>) -> Response {
        match router.clone().oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn a_cached_tile_is_answered_here_as_the_router_answers_it() {
        let (router, fast, planner, _) = app(Config::default());
        let bearer = format!("Bearer {planner}");
        for (x, headers) in [
            vec![],
            vec![("authorization", bearer.as_str())],
            vec![
                ("authorization", bearer.as_str()),
                ("accept-encoding", "gzip"),
            ],
            vec![("origin", "http://example.org"), ("x-request-id", "abc")],
        ]
        .into_iter()
        .enumerate()
        {
            // A tile of its own for each, not cached yet.
            let target = &format!("/tiles/3/{x}/3.mvt?industry=gas");
            // Not cached yet: the router's.
            assert!(matches!(
                fast.answer(&get(target, &headers), None),
                Verdict::Forward(None)
            ));
            let first = parts(routed(&router, get(target, &headers)).await).await;
            let Verdict::Answer(resp) = fast.answer(&get(target, &headers), None) else {
                panic!("a cached tile goes to the router: {headers:?}");
            };
            let cached = parts(resp).await;
            assert_eq!(cached, first, "{headers:?}");
            let tag = first.1.iter().find(|(k, _)| k == "etag").unwrap().1.clone();
            let mut revalidate = headers.clone();
            revalidate.push(("if-none-match", &tag));
            let Verdict::Answer(resp) = fast.answer(&get(target, &revalidate), None) else {
                panic!("a matching If-None-Match goes to the router");
            };
            let not_modified = parts(resp).await;
            assert_eq!(not_modified.0, 304);
            assert_eq!(
                not_modified,
                parts(routed(&router, get(target, &revalidate)).await).await
            );
        }
    }

    #[tokio::test]
    async fn what_the_router_must_answer_goes_to_it() {
        let mut config = Config::default();
        config.limits.max_uri_bytes = 64;
        let (router, fast, planner, ingest) = app(config);
        let bearer = format!("Bearer {planner}");
        let ingest = format!("Bearer {ingest}");
        let cached = |target: &'static str| get(target, &[("authorization", bearer.as_str())]);
        routed(&router, cached("/tiles/3/6/3.mvt")).await;
        assert!(matches!(
            fast.answer(&cached("/tiles/3/6/3.mvt"), None),
            Verdict::Answer(_)
        ));
        let long = format!("/tiles/3/6/3.mvt?auth={}", "x".repeat(64));
        for req in [
            get("/tiles/3/6/3.mvt", &[("authorization", "Bearer unknown")]),
            get("/tiles/3/6/3.mvt", &[("authorization", "Digest x")]),
            get("/tiles/3/6/3.mvt", &[("authorization", ingest.as_str())]),
            get("/tiles/3/6/3.mvt?auth=required", &[]),
            get(
                "/tiles/3/6/3.mvt?date=2026-12-01",
                &[("authorization", bearer.as_str())],
            ),
            get(
                "/tiles/3/6/3.mvt?via=router",
                &[("authorization", bearer.as_str())],
            ),
            get(
                "/tiles/3/6/3.mvt?industry=nonsense",
                &[("authorization", bearer.as_str())],
            ),
            get("/tiles/3/6/%33.mvt", &[("authorization", bearer.as_str())]),
            get("/tiles/3/8/3.mvt", &[("authorization", bearer.as_str())]),
            get("/tiles/23/0/0.mvt", &[("authorization", bearer.as_str())]),
            get(&long, &[("authorization", bearer.as_str())]),
            get(
                "/tiles/3/6/3.mvt",
                &[("authorization", bearer.as_str()), ("content-length", "5")],
            ),
        ] {
            let target = req.uri().to_string();
            assert!(
                matches!(fast.answer(&req, None), Verdict::Forward(None)),
                "{target}"
            );
        }
        let mut head = cached("/tiles/3/6/3.mvt");
        *head.method_mut() = Method::HEAD;
        assert!(matches!(fast.answer(&head, None), Verdict::Forward(None)));
    }

    #[tokio::test]
    async fn closed_servers_and_rate_limits_are_the_routers() {
        let mut config = Config {
            public_access: false,
            ..Config::default()
        };
        config.limits.rate_per_second = 0.001;
        config.limits.burst = 2;
        let (router, fast, planner, _) = app(config);
        let bearer = format!("Bearer {planner}");
        let req = || get("/tiles/3/6/3.mvt", &[("authorization", bearer.as_str())]);
        // The first request takes one of the two places of the burst.
        assert!(routed(&router, req()).await.status().is_success());
        // An anonymous caller, even with a tag that matches nothing cached.
        let anonymous = get("/tiles/3/6/3.mvt", &[("if-none-match", "*")]);
        assert!(matches!(
            fast.answer(&anonymous, None),
            Verdict::Forward(None)
        ));
        assert!(matches!(fast.answer(&req(), None), Verdict::Answer(_)));
        // The burst is spent: the refusal goes to the router with the request.
        assert!(matches!(
            fast.answer(&req(), None),
            Verdict::Forward(Some(_))
        ));
    }

    #[test]
    fn decimal_digits() {
        for n in [0, 7, 10, 101_449, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }

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
