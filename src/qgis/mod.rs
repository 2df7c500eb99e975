//! QGIS support: QML styles for the OGC collections, the map style in the
//! form QGIS's vector-tile converter reads, and a ready project
//! (`/qgis/riskmap.qgs`) wiring both to this server.

pub mod project;
pub mod qml;
pub mod style;
pub mod tile_renderer;

pub use project::{AUTHCFG, project};
pub use qml::qml;
pub use style::qgis_style;
