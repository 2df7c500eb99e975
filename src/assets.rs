//! The web page's files embedded in the binary (the page, its scripts and
//! styles, MapLibre, the map style, glyphs), shared by the server
//! (`server::web`) and the static site of `riskmap export-pmtiles
//! --with-page`, so that neither depends on the other.

/// Every served file: its path in the repository (which is also its URL
/// path, `/` being `web/index.html`) and its bytes.
pub const FILES: &[(&str, &[u8])] = &[
    ("web/index.html", include_bytes!("../web/index.html")),
    ("web/app.css", include_bytes!("../web/app.css")),
    ("web/dangers.css", include_bytes!("../web/dangers.css")),
    ("web/history.css", include_bytes!("../web/history.css")),
    ("web/js/main.js", include_bytes!("../web/js/main.js")),
    ("web/js/api.js", include_bytes!("../web/js/api.js")),
    ("web/js/auth.js", include_bytes!("../web/js/auth.js")),
    ("web/js/dom.js", include_bytes!("../web/js/dom.js")),
    ("web/js/export.js", include_bytes!("../web/js/export.js")),
    ("web/js/hover.js", include_bytes!("../web/js/hover.js")),
    ("web/js/labels.js", include_bytes!("../web/js/labels.js")),
    ("web/js/levels.js", include_bytes!("../web/js/levels.js")),
    ("web/js/panels.js", include_bytes!("../web/js/panels.js")),
    ("web/js/detail.js", include_bytes!("../web/js/detail.js")),
    ("web/js/style.js", include_bytes!("../web/js/style.js")),
    ("web/js/domains.js", include_bytes!("../web/js/domains.js")),
    ("web/js/alarms.js", include_bytes!("../web/js/alarms.js")),
    ("web/js/basemap.js", include_bytes!("../web/js/basemap.js")),
    ("web/js/dangers.js", include_bytes!("../web/js/dangers.js")),
    ("web/js/live.js", include_bytes!("../web/js/live.js")),
    ("web/js/static.js", include_bytes!("../web/js/static.js")),
    (
        "web/js/identity.js",
        include_bytes!("../web/js/identity.js"),
    ),
    ("web/js/png.js", include_bytes!("../web/js/png.js")),
    ("web/js/trend.js", include_bytes!("../web/js/trend.js")),
    (
        "web/js/timeline.js",
        include_bytes!("../web/js/timeline.js"),
    ),
    ("web/js/filters.js", include_bytes!("../web/js/filters.js")),
    ("web/favicon.svg", include_bytes!("../web/favicon.svg")),
    (
        "web/vendor/maplibre-gl.js",
        include_bytes!("../web/vendor/maplibre-gl.js"),
    ),
    (
        "web/vendor/maplibre-gl.css",
        include_bytes!("../web/vendor/maplibre-gl.css"),
    ),
    (
        "web/vendor/LICENSE.txt",
        include_bytes!("../web/vendor/LICENSE.txt"),
    ),
    (
        "web/vendor/pmtiles.js",
        include_bytes!("../web/vendor/pmtiles.js"),
    ),
    (
        "web/vendor/pmtiles-LICENSE.txt",
        include_bytes!("../web/vendor/pmtiles-LICENSE.txt"),
    ),
    (
        "styles/riskmap.json",
        include_bytes!("../styles/riskmap.json"),
    ),
    (
        "fonts/Noto Sans CJK SC Regular/0-255.pbf",
        include_bytes!("../fonts/Noto Sans CJK SC Regular/0-255.pbf"),
    ),
    (
        "fonts/Noto Sans CJK SC Bold/0-255.pbf",
        include_bytes!("../fonts/Noto Sans CJK SC Bold/0-255.pbf"),
    ),
    ("fonts/LICENSE.txt", include_bytes!("../fonts/LICENSE.txt")),
];

/// The page, served at `/`.
pub const INDEX: &str = "web/index.html";

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

/// The page loads nothing from elsewhere: scripts, styles, tiles, glyphs
/// and API calls all come from this server (MapLibre runs its workers from
/// `blob:` URLs and draws sprites into `data:`/`blob:` images).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data: blob:; worker-src 'self' blob:; child-src blob:; connect-src 'self' blob: data:; \
font-src 'self'; object-src 'none'; base-uri 'self'";

/// [`CSP`] that also lets the page fetch raster basemap tiles from
/// `origins` (`scheme://host[:port]`).
pub fn csp_allowing(origins: &[String]) -> String {
    if origins.is_empty() {
        return CSP.to_owned();
    }
    let extra = origins.join(" ");
    CSP.replace(
        "img-src 'self' data: blob:;",
        &format!("img-src 'self' data: blob: {extra};"),
    )
    .replace(
        "connect-src 'self' blob: data:;",
        &format!("connect-src 'self' blob: data: {extra};"),
    )
}
