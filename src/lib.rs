//! riskmap — 城市安全风险电子地图, a city safety risk map server.
//!
//! It loads a city's work-safety ledgers (enterprises, major hazard sources,
//! road-collapse zones and the management grid), indexes them in R-trees,
//! scores every grid unit with an explainable model and serves vector tiles,
//! OGC API – Features and a grid managers' API.
//!
//! # Layout
//!
//! Data flows one way:
//!
//! ```text
//! files ──ingest──▶ model ──index──▶ Store ──risk──▶ scores ──▶ Snapshot ──▶ server
//! ```
//!
//! - [`assets`]: the web page's files embedded in the binary (served by
//!   [`server`], written by the static export).
//! - [`model`]: layer and level names, attribute enums, typed features.
//! - [`crs`]: the one place for coordinate systems (Web Mercator, GCJ-02,
//!   BD-09, metric areas and distances).
//! - [`datetime`]: RFC 3339 times and the OGC `datetime` parameter;
//!   [`clock`]: "now" and "today" (the system clock, or `RISKMAP_NOW`).
//! - [`json_text`]: JSON numbers and strings written straight into text
//!   (feature pages).
//! - [`config`] reads `riskmap.toml`; [`source`]: where the data come
//!   from (a folder or a PostgreSQL URL, printed without its password);
//!   [`pg`]: connecting to PostgreSQL, quoting, its error messages (for
//!   the PostGIS source, the score writer, the journal table, replicas).
//! - [`auth`]: tokens (Bearer or Basic), roles, and [`auth::Scope`], the one
//!   access rule every output asks.
//! - [`ingest`]: one reader per format (GeoJSON, FlatGeobuf, CSV; GDAL
//!   formats with the `gdal` feature; PostGIS tables) feeding one builder
//!   and validator that collects every problem.
//! - [`index`]: the [`index::Store`]: R-trees per layer and the grid hierarchy.
//! - [`risk`]: the scoring model.
//! - [`schema`]: one table per served layer (name, type, title, getter,
//!   which outputs carry it) that tiles, TileJSON, OGC, `/api` features and
//!   the score writers iterate.
//! - [`report`]: unit summaries, ledgers, rankings, statistics and search.
//! - [`generate`]: the deterministic demo and province datasets.
//! - [`write`](mod@write): GeoJSON, FlatGeobuf and CSV writers (with the
//!   `gdal` feature also GeoPackage and Shapefile) and the PostGIS score
//!   table.
//! - [`ogc`]: OGC API – Features (collections, queryables, CQL2 filters,
//!   CRSs, paging, the OpenAPI document).
//! - [`snapshot`]: an immutable loaded dataset with its `data_version`.
//! - [`tiles`]: composite vector tiles (clip, simplify, cluster, encode,
//!   cache), TileJSON and the PMTiles export.
//! - [`server`]: the HTTP server (axum): [`server::start`] runs
//!   `riskmap serve`, [`server::run`] serves on a bound listener.
//! - [`cli`]: the command line's commands (`main.rs` only sets up the
//!   process and calls [`cli::run`]).
//!
//! The documentation for users and contributors is in `docs/`: the HTTP
//! and command-line references (`docs/http.md`, `docs/cli.md`), the data
//! (`docs/data.md`), the risk model (`docs/risk-model.md`), the
//! architecture — data flow, folder map, reload, the tile path, dependency
//! direction, tests (`docs/architecture.md`) — and deployment
//! (`docs/deployment.md`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod assets;
pub mod auth;
pub mod basemap;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crs;
pub mod datetime;
pub mod export;
pub mod generate;
pub mod history;
pub mod index;
pub mod ingest;
pub mod ip_range;
pub mod journal;
pub mod json_text;
pub mod latency;
pub mod live;
pub mod model;
pub mod ogc;
pub mod pg;
pub mod qgis;
pub mod report;
pub mod risk;
pub mod schema;
pub mod server;
pub mod snapshot;
pub mod source;
pub mod tiles;
pub mod write;
