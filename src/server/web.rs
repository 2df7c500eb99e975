//! The web map: `GET /`, `/web/*`, `/styles/*` and `/fonts/*`, served from
//! files embedded in the binary (so `riskmap serve` works from any working
//! directory), with content types, entity tags, gzip and cache lifetimes.

use super::ApiError;
use super::tiles::{accepts_gzip, not_modified};
use crate::tiles::cache::gzip;
use axum::Router;
use axum::extract::{Extension, Path};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

use super::AppState;

/// Every served file: its path in the repository (which is also its URL
/// path, `/` being `web/index.html`) and its bytes.
const FILES: &[(&str, &[u8])] = &[
    ("web/index.html", include_bytes!("../../web/index.html")),
    ("web/app.css", include_bytes!("../../web/app.css")),
    ("web/dangers.css", include_bytes!("../../web/dangers.css")),
    ("web/js/main.js", include_bytes!("../../web/js/main.js")),
    ("web/js/api.js", include_bytes!("../../web/js/api.js")),
    ("web/js/auth.js", include_bytes!("../../web/js/auth.js")),
    ("web/js/dom.js", include_bytes!("../../web/js/dom.js")),
    ("web/js/export.js", include_bytes!("../../web/js/export.js")),
    ("web/js/labels.js", include_bytes!("../../web/js/labels.js")),
    ("web/js/levels.js", include_bytes!("../../web/js/levels.js")),
    ("web/js/panels.js", include_bytes!("../../web/js/panels.js")),
    ("web/js/detail.js", include_bytes!("../../web/js/detail.js")),
    ("web/js/style.js", include_bytes!("../../web/js/style.js")),
    ("web/js/static.js", include_bytes!("../../web/js/static.js")),
    (
        "web/js/dangers.js",
        include_bytes!("../../web/js/dangers.js"),
    ),
    ("web/js/live.js", include_bytes!("../../web/js/live.js")),
    ("web/favicon.svg", include_bytes!("../../web/favicon.svg")),
    (
        "web/vendor/maplibre-gl.js",
        include_bytes!("../../web/vendor/maplibre-gl.js"),
    ),
    (
        "web/vendor/maplibre-gl.css",
        include_bytes!("../../web/vendor/maplibre-gl.css"),
    ),
    (
        "web/vendor/LICENSE.txt",
        include_bytes!("../../web/vendor/LICENSE.txt"),
    ),
    (
        "web/vendor/pmtiles.js",
        include_bytes!("../../web/vendor/pmtiles.js"),
    ),
    (
        "web/vendor/pmtiles-LICENSE.txt",
        include_bytes!("../../web/vendor/pmtiles-LICENSE.txt"),
    ),
    (
        "styles/riskmap.json",
        include_bytes!("../../styles/riskmap.json"),
    ),
    (
        "fonts/Noto Sans CJK SC Regular/0-255.pbf",
        include_bytes!("../../fonts/Noto Sans CJK SC Regular/0-255.pbf"),
    ),
    (
        "fonts/Noto Sans CJK SC Bold/0-255.pbf",
        include_bytes!("../../fonts/Noto Sans CJK SC Bold/0-255.pbf"),
    ),
    (
        "fonts/LICENSE.txt",
        include_bytes!("../../fonts/LICENSE.txt"),
    ),
];

/// The page, served at `/`.
const INDEX: &str = "web/index.html";

/// The web page as a static site (what `riskmap export-pmtiles --with-page`
/// writes): every embedded file with its path relative to the page, which
/// is `index.html` at the top; the rest keep the paths the server serves
/// them under (`web/…`, `styles/…`, `fonts/…`), so the page's relative
/// URLs resolve the same way on any host and under any path prefix.
pub fn site_files() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    FILES.iter().map(|&(path, bytes)| {
        let at = if path == INDEX { "index.html" } else { path };
        (at, bytes)
    })
}

/// The tag [`static_page`] inserts its own tags after.
const CHARSET: &str = "<meta charset=\"utf-8\">";

/// The name of the `<meta>` whose `content` names the static site's
/// configuration file; the page runs its static edition when it is set.
pub const SITE_META: &str = "riskmap-site";

/// `index.html` for a static site whose configuration file is `config`
/// (relative to the page): the page with a `riskmap-site` `<meta>` naming
/// it, and the server's Content-Security-Policy as a `<meta>` (a static
/// host may send no such header). `None` if the page lacks the
/// `<meta charset="utf-8">` the tags go after.
pub fn static_page(config: &str) -> Option<String> {
    let html = std::str::from_utf8(FILES.iter().find(|(p, _)| *p == INDEX)?.1).ok()?;
    let at = html.find(CHARSET)? + CHARSET.len();
    let config = config
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let tags = format!(
        "\n  <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n  \
         <meta name=\"{SITE_META}\" content=\"{config}\">"
    );
    Some(format!("{}{tags}{}", &html[..at], &html[at..]))
}

/// The server's embedded style (`styles/riskmap.json`).
pub fn style() -> &'static [u8] {
    FILES
        .iter()
        .find(|(p, _)| *p == "styles/riskmap.json")
        .map_or(&[], |(_, b)| b)
}

/// One file ready to send.
struct Asset {
    content_type: &'static str,
    cache_control: &'static str,
    identity: Bytes,
    identity_etag: String,
    /// The gzip body and its tag, when compressing saves something.
    gzipped: Option<(Bytes, String)>,
}

/// The embedded files by path.
struct Assets(HashMap<&'static str, Asset>);

/// The media type of a file, by extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "pbf" => "application/x-protobuf",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Vendored libraries and glyphs change only with a release: cache them for
/// a day. The page, its code and its style are revalidated every time
/// (cheap: `304` on a matching `ETag`).
fn cache_control(path: &str) -> &'static str {
    if path.starts_with("web/vendor/") || path.starts_with("fonts/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    }
}

fn tag(bytes: &[u8], encoding: &str) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}-{encoding}\"", hex::encode(&digest[..10]))
}

impl Assets {
    fn load() -> Assets {
        let map = FILES
            .iter()
            .map(|&(path, bytes)| {
                let identity_etag = tag(bytes, "identity");
                let compressible = !matches!(content_type(path), "image/png");
                let gzipped = compressible
                    .then(|| gzip(bytes).ok())
                    .flatten()
                    .filter(|z| z.len() + 64 < bytes.len())
                    .map(|z| (Bytes::from(z), tag(bytes, "gzip")));
                let asset = Asset {
                    content_type: content_type(path),
                    cache_control: cache_control(path),
                    identity: Bytes::from_static(bytes),
                    identity_etag,
                    gzipped,
                };
                (path, asset)
            })
            .collect();
        Assets(map)
    }

    /// The response for `path` (repository path), honouring
    /// `Accept-Encoding` and `If-None-Match`; `None` if there is no such file.
    fn respond(&self, path: &str, headers: &HeaderMap) -> Option<Response> {
        let asset = self.0.get(path)?;
        let (body, etag, gzipped) = match &asset.gzipped {
            Some((z, t)) if accepts_gzip(headers) => (z.clone(), t.as_str(), true),
            _ => (asset.identity.clone(), asset.identity_etag.as_str(), false),
        };
        let mut resp = if not_modified(headers, etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut r = (StatusCode::OK, body).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            if gzipped {
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            r
        };
        let h = resp.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(asset.cache_control),
        );
        if let Ok(v) = HeaderValue::from_str(etag) {
            h.insert(header::ETAG, v);
        }
        if asset.gzipped.is_some() {
            h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if path == INDEX {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
        }
        Some(resp)
    }
}

/// The page loads nothing from elsewhere: scripts, styles, tiles, glyphs
/// and API calls all come from this server (MapLibre runs its workers from
/// `blob:` URLs and draws sprites into `data:`/`blob:` images).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; worker-src 'self' blob:; child-src blob:; connect-src 'self' blob: data:; \
font-src 'self'; object-src 'none'; base-uri 'self'";

/// Routes of the web map.
pub fn routes() -> Router<AppState> {
    let assets = Arc::new(Assets::load());
    Router::new()
        .route("/", get(index))
        .route("/web/{*path}", get(web_file))
        .route("/styles/{*path}", get(style_file))
        .route("/fonts/{*path}", get(font_file))
        .layer(Extension(assets))
}

fn not_found(what: &str) -> ApiError {
    ApiError::NotFound(format!("no such file: {what}"))
}

/// Serves `prefix/rest` or 404.
fn serve(assets: &Assets, prefix: &str, rest: &str, headers: &HeaderMap) -> Response {
    let path = format!("{prefix}/{rest}");
    assets
        .respond(&path, headers)
        .unwrap_or_else(|| not_found(&path).into_response())
}

/// `GET /`: the page.
async fn index(Extension(assets): Extension<Arc<Assets>>, headers: HeaderMap) -> Response {
    serve(&assets, "web", "index.html", &headers)
}

/// `GET /web/*`.
async fn web_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&assets, "web", &path, &headers)
}

/// `GET /styles/*`.
async fn style_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    serve(&assets, "styles", &path, &headers)
}

/// `GET /fonts/*`: the licence, and glyph ranges as
/// `/fonts/{fontstack}/{range}.pbf`, where MapLibre names a comma-separated
/// stack and the first font of it that has the range answers.
async fn font_file(
    Extension(assets): Extension<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = assets.respond(&format!("fonts/{path}"), &headers) {
        return r;
    }
    let Some((fontstack, range)) = path.rsplit_once('/') else {
        return not_found(&format!("fonts/{path}")).into_response();
    };
    fontstack
        .split(',')
        .map(str::trim)
        .find_map(|font| assets.respond(&format!("fonts/{font}/{range}"), &headers))
        .unwrap_or_else(|| not_found(&format!("fonts/{path}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files_under(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                files_under(&p, out);
            } else if p.file_name().is_some_and(|n| n != "README.md") {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }

    /// A file added under `web/`, `styles/` or `fonts/` must be embedded,
    /// or the page would ask for something the server does not have.
    #[test]
    fn every_file_on_disk_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut on_disk = Vec::new();
        for dir in ["web", "styles", "fonts"] {
            files_under(&root.join(dir), &mut on_disk);
        }
        let embedded: Vec<String> = FILES
            .iter()
            .map(|(p, _)| root.join(p).to_string_lossy().into_owned())
            .collect();
        for f in &on_disk {
            assert!(embedded.contains(f), "{f} is not in web::FILES");
        }
        assert_eq!(on_disk.len(), FILES.len());
    }

    #[test]
    fn the_static_page_names_its_config_and_keeps_the_policy() {
        let html = static_page("site.json").unwrap_or_default();
        assert!(html.contains(r#"<meta name="riskmap-site" content="site.json">"#));
        let csp = format!(r#"<meta http-equiv="Content-Security-Policy" content="{CSP}">"#);
        let (head, _) = html.split_once("<script").unwrap_or_default();
        assert!(head.contains(&csp), "the policy precedes every script");
        let served = std::str::from_utf8(FILES[0].1).unwrap_or_default();
        assert!(
            !served.contains(SITE_META),
            "the served page stays as it is"
        );
        let tags = format!("\n  {csp}\n  <meta name=\"riskmap-site\" content=\"site.json\">");
        assert_eq!(
            html.replacen(&tags, "", 1),
            served,
            "only the two tags are added"
        );
        assert!(
            static_page("a\"b")
                .unwrap_or_default()
                .contains(r#"content="a&quot;b""#)
        );
        let site: Vec<&str> = site_files().map(|(p, _)| p).collect();
        assert_eq!(site.len(), FILES.len());
        assert!(site.contains(&"index.html") && !site.contains(&INDEX));
        assert!(
            site.iter()
                .all(|p| !p.starts_with('/') && !p.contains(".."))
        );
        assert!(!style().is_empty());
    }

    #[test]
    fn types_and_caching() {
        assert_eq!(content_type("web/index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("web/js/main.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("fonts/A/0-255.pbf"), "application/x-protobuf");
        assert_eq!(
            cache_control("web/vendor/maplibre-gl.js"),
            "public, max-age=86400"
        );
        assert_eq!(cache_control("web/js/main.js"), "no-cache");
    }

    #[test]
    fn conditional_and_gzip() {
        let assets = Assets::load();
        let plain = HeaderMap::new();
        let r = assets.respond("web/index.html", &plain);
        let etag = r
            .as_ref()
            .and_then(|r| r.headers().get(header::ETAG))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_default();
        assert!(etag.ends_with("-identity\""), "{etag}");
        let mut again = HeaderMap::new();
        again.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("")),
        );
        let r = assets.respond("web/index.html", &again);
        assert_eq!(r.map(|r| r.status()), Some(StatusCode::NOT_MODIFIED));
        let mut gz = HeaderMap::new();
        gz.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let r = assets.respond("web/vendor/maplibre-gl.js", &gz);
        let enc = r
            .as_ref()
            .and_then(|r| r.headers().get(header::CONTENT_ENCODING))
            .cloned();
        assert_eq!(enc, Some(HeaderValue::from_static("gzip")));
        assert!(assets.respond("web/nope.js", &plain).is_none());
    }
}
