//! The static site beside an archive (`riskmap export-pmtiles --with-page`):
//! the server's own web page, style, fonts and vendored libraries (the
//! files it embeds, [`site_files`]), plus `site.json`, which names the
//! archive and switches the page to its static edition. Every path in the
//! folder is relative to `index.html`, so the folder works on any static
//! host that answers HTTP `Range` requests, at the root or under a path.

use super::{ExportError, ExportOptions, ExportSummary};
use crate::assets::{CSP, csp_allowing, site_files, static_page, style};
use crate::datetime::rfc3339;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The site's configuration file, beside `index.html`.
pub const SITE_CONFIG: &str = "site.json";

/// Writes the page's files into `dir` (the archive's folder), the
/// basemap's (`basemap.json` and its GeoJSON) when there is one, then
/// `site.json` naming `archive` (a file name in `dir`) with the export's
/// `data_version`, access and zooms. Returns the paths written, `site.json`
/// last.
pub fn write_site(
    dir: &Path,
    archive: &str,
    summary: &ExportSummary,
    options: &ExportOptions,
    basemap: Option<&crate::basemap::Basemap>,
) -> Result<Vec<PathBuf>, ExportError> {
    if archive.is_empty() || archive.contains(['/', '\\']) || archive == SITE_CONFIG {
        return Err(ExportError::SiteArchiveName(archive.to_string()));
    }
    let mut written = Vec::new();
    for (path, bytes) in site_files() {
        let body: Vec<u8> = match path {
            // The page's policy allows the basemap's raster tile hosts.
            "index.html" => {
                let page = static_page(SITE_CONFIG).ok_or(ExportError::SitePage)?;
                let origins = basemap.map(|b| b.origins()).unwrap_or_default();
                page.replace(CSP, &csp_allowing(&origins)).into_bytes()
            }
            "styles/riskmap.json" => site_style(archive)?.into_bytes(),
            _ => bytes.to_vec(),
        };
        written.push(write(&dir.join(path), &body)?);
    }
    if let Some(b) = basemap {
        let descriptor = b.descriptor().to_string();
        for (path, body) in [
            ("basemap.json", descriptor.as_str()),
            ("basemap/land.geojson", b.land.as_str()),
            ("basemap/places.geojson", b.places.as_str()),
        ] {
            written.push(write(&dir.join(path), body.as_bytes())?);
        }
    }
    let config = site_config(archive, summary, options, SystemTime::now());
    let text = serde_json::to_string_pretty(&config).unwrap_or_default() + "\n";
    written.push(write(&dir.join(SITE_CONFIG), text.as_bytes())?);
    Ok(written)
}

fn write(path: &Path, bytes: &[u8]) -> Result<PathBuf, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)?;
    Ok(path.to_path_buf())
}

/// The content of `site.json`: `pmtiles` (the archive, relative to the
/// page), `style` (likewise), `data_version`, `access` (`public` or
/// `private`), `minzoom`, `maxzoom` and `exported` (UTC, RFC 3339).
pub fn site_config(
    archive: &str,
    summary: &ExportSummary,
    options: &ExportOptions,
    now: SystemTime,
) -> Value {
    json!({
        "pmtiles": archive,
        "style": "styles/riskmap.json",
        "data_version": summary.data_version,
        "access": if options.include_private { "private" } else { "public" },
        "minzoom": options.minzoom,
        "maxzoom": options.maxzoom,
        "exported": rfc3339(now),
        "generator": format!("riskmap {}", env!("CARGO_PKG_VERSION")),
    })
}

/// The server's style with paths relative to the page: glyphs under
/// `fonts/` and the `riskmap` source read from `pmtiles://ARCHIVE`.
pub fn site_style(archive: &str) -> Result<String, ExportError> {
    let mut style: Value =
        serde_json::from_slice(style()).map_err(|e| ExportError::SiteStyle(e.to_string()))?;
    style["glyphs"] = json!("fonts/{fontstack}/{range}.pbf");
    let source = style
        .get_mut("sources")
        .and_then(|s| s.get_mut("riskmap"))
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ExportError::SiteStyle("no source \"riskmap\"".into()))?;
    source.insert("url".into(), json!(format!("pmtiles://{archive}")));
    Ok(serde_json::to_string_pretty(&style).unwrap_or_default() + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_style_reads_the_archive_and_fonts_relative_to_the_page() {
        let s: Value = serde_json::from_str(&site_style("risk.pmtiles").unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(s["glyphs"], "fonts/{fontstack}/{range}.pbf");
        assert_eq!(s["sources"]["riskmap"]["url"], "pmtiles://risk.pmtiles");
        assert!(s["sources"]["riskmap"]["promoteId"].is_object());
        let server: Value = serde_json::from_slice(style()).unwrap_or_default();
        assert_eq!(s["layers"], server["layers"]);
    }

    #[test]
    fn archive_names_stay_in_the_folder() {
        let dir = std::env::temp_dir();
        let summary = ExportSummary {
            planned: 0,
            tiles: 0,
            tiles_per_zoom: Vec::new(),
            bytes: 0,
            data_version: "v".into(),
        };
        let o = ExportOptions::default();
        for bad in ["", "../x.pmtiles", "a/b.pmtiles", "site.json"] {
            assert!(matches!(
                write_site(&dir, bad, &summary, &o, None),
                Err(ExportError::SiteArchiveName(_))
            ));
        }
    }
}
