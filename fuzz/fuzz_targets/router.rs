//! The whole HTTP router over a tiny dataset: any request target (tile
//! paths, `/api` and `/ogc` query strings, deep nesting, long lists and
//! huge numbers), with or without a token, is answered without a 5xx.
#![no_main]

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    // The target itself may be shaped (nested, a long list, a huge number).
    let Some(target) = riskmap_fuzz::shaped(rest) else {
        return;
    };
    let target = target.as_str();
    let fx = riskmap_fuzz::fixture();
    let mut req = Request::get(format!("/{}", target.trim_start_matches('/')));
    if let Some(token) = riskmap_fuzz::TOKENS.get(usize::from(first % 4)) {
        req = req.header("Authorization", format!("Bearer {token}"));
    }
    let Ok(req) = req.body(Body::empty()) else {
        return;
    };
    let router = fx.router.clone();
    let status = fx
        .runtime
        .block_on(async move { router.oneshot(req).await })
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert!(
        (200..500).contains(&status),
        "GET /{target} answered {status}"
    );
});
