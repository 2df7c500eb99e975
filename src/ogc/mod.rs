//! OGC API – Features under `/ogc`: Part 1 (core, GeoJSON, OpenAPI 3.0),
//! Part 2 (CRS) and Part 3 (queryables, CQL2 filters in text and JSON).
//!
//! The library half of the API; `server::ogc` holds the thin handlers.
//!
//! - [`collections`]: landing page, conformance, collection metadata.
//! - [`queryables`]: each collection's properties and their JSON Schema.
//! - [`params`]: the items query parameters, every mistake a 400.
//! - [`cql2`]: the CQL2 parsers (text and JSON) and evaluator.
//! - [`crs`]: output and `bbox` CRSs with their axis orders.
//! - [`features`]: ids, property values and GeoJSON text of features.
//! - [`items`]: access, selection, paging, chunked writing.
//! - [`links`]: absolute URLs from the request's headers.
//! - [`openapi`]: the generated OpenAPI 3.0 document.
//!
//! The routes and parameters as clients see them: `docs/http.md`.

pub mod collections;
pub mod cql2;
pub mod crs;
mod error;
pub mod features;
pub mod items;
pub mod links;
pub mod openapi;
pub mod params;
pub mod queryables;

pub use error::OgcError;

/// Default page size of `/items`.
pub const DEFAULT_LIMIT: usize = 10;
/// Largest page size of `/items` (larger `limit`s are clamped).
pub const MAX_LIMIT: usize = 10_000;

/// `application/json`.
pub const JSON: &str = "application/json";
/// `application/geo+json`.
pub const GEOJSON: &str = "application/geo+json";
/// The OpenAPI 3.0 JSON media type.
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
/// `application/schema+json` (queryables).
pub const SCHEMA: &str = "application/schema+json";
/// `text/html`.
pub const HTML: &str = "text/html";

/// The conformance classes implemented.
pub const CONFORMANCE: [&str; 15] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
];

pub use crate::schema::{NoRisk, RiskLookup};
