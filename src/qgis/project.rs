//! `riskmap.qgs`: a ready QGIS project for this server — the vector tiles
//! styled by the QGIS variant of the map style, the public OGC collections
//! in the four colours, and the private collections wired to a Basic-auth
//! configuration with the id [`AUTHCFG`] that the user creates once
//! (user name anything, password the token).

use super::qml::{attr_escape, renderer_xml};
use super::tile_renderer::tile_renderer;
use crate::model::LayerId;
use serde_json::Value;
use std::fmt::Write as _;

/// The id of the QGIS authentication configuration the private layers use.
pub const AUTHCFG: &str = "riskmap";

/// Escapes text for an XML element body.
fn text_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A CRS as QGIS reads it back: by authority id, which it uses only when
/// its internal `srsid` is given too.
fn spatialrefsys(authid: &str) -> String {
    let srsid = match authid {
        "EPSG:3857" => 3857,
        _ => 3452,
    };
    format!("<spatialrefsys><srsid>{srsid}</srsid><authid>{authid}</authid></spatialrefsys>")
}

fn srs(authid: &str) -> String {
    format!("<srs>{}</srs>", spatialrefsys(authid))
}

/// One layer of the project.
struct Layer {
    id: String,
    name: String,
    provider: &'static str,
    source: String,
    body: String,
    checked: bool,
    private: bool,
}

impl Layer {
    fn tree_entry(&self) -> String {
        format!(
            "<layer-tree-layer id=\"{}\" name=\"{}\" providerKey=\"{}\" source=\"{}\" checked=\"{}\" expanded=\"0\"/>",
            attr_escape(&self.id),
            attr_escape(&self.name),
            self.provider,
            attr_escape(&self.source),
            if self.checked {
                "Qt::Checked"
            } else {
                "Qt::Unchecked"
            }
        )
    }

    fn map_layer(&self) -> String {
        let (kind, geometry) = match self.provider {
            "vectortile" => ("vector-tile", String::new()),
            _ => ("vector", String::new()),
        };
        format!(
            "<maplayer type=\"{kind}\"{geometry} hasScaleBasedVisibilityFlag=\"0\"><id>{}</id><datasource>{}</datasource><layername>{}</layername><provider encoding=\"UTF-8\">{}</provider>{}{}</maplayer>",
            text_escape(&self.id),
            text_escape(&self.source),
            text_escape(&self.name),
            self.provider,
            srs(if self.provider == "vectortile" {
                "EPSG:3857"
            } else {
                "EPSG:4326"
            }),
            self.body
        )
    }
}

fn ogc_layer(base: &str, layer: LayerId, checked: bool) -> Layer {
    let private = layer.is_private();
    let mut source = format!("url='{base}/ogc' typename='{}'", layer.as_str());
    if private {
        let _ = write!(source, " authcfg={AUTHCFG}");
    }
    Layer {
        id: format!("riskmap_{}", layer.as_str()),
        name: layer.label_zh().to_string(),
        provider: "OAPIF",
        source,
        body: renderer_xml(layer).unwrap_or_default(),
        checked,
        private,
    }
}

/// The data source of a vector-tile layer. The private one asks for
/// `auth=required` tiles (never answered anonymously, so never cached
/// under the public URL by QGIS, whose cache ignores `Vary`) with the
/// Basic configuration.
pub fn tile_source(base: &str, private: bool) -> String {
    let mut url = format!("{base}/tiles/%7Bz%7D/%7Bx%7D/%7By%7D.mvt");
    if private {
        url.push_str("%3Fauth%3Drequired");
    }
    let mut source = format!("type=xyz&url={url}&zmin=0&zmax=14");
    if private {
        let _ = write!(source, "&authcfg={AUTHCFG}");
    }
    source
}

/// The project for a server reached at `base` (e.g. `http://host:8080`),
/// its tiles drawn as `style` (the web map's style) draws them.
pub fn project(base: &str, style: &Value) -> String {
    let base = base.trim_end_matches('/');
    let tile_layer = |id: &str, name: &str, private: bool| Layer {
        id: id.to_string(),
        name: name.to_string(),
        provider: "vectortile",
        source: tile_source(base, private),
        body: tile_renderer(style),
        checked: !private,
        private,
    };
    let tiles = tile_layer("riskmap_tiles", "风险地图（矢量瓦片）", false);
    let private_tiles = tile_layer(
        "riskmap_tiles_private",
        "风险地图（矢量瓦片，含企业与危险源）",
        true,
    );
    // The layer tree lists the top of the drawing order first.
    let (private, public): (Vec<Layer>, Vec<Layer>) = LayerId::SERVED
        .into_iter()
        .rev()
        .map(|l| ogc_layer(base, l, l == LayerId::Counties))
        .partition(|l| l.private);
    let group = |name: &str, layers: &[&Layer]| {
        let entries: String = layers.iter().map(|l| l.tree_entry()).collect();
        format!(
            "<layer-tree-group name=\"{}\" checked=\"Qt::Checked\" expanded=\"1\">{entries}</layer-tree-group>",
            attr_escape(name)
        )
    };
    let private_refs: Vec<&Layer> = private
        .iter()
        .chain(std::iter::once(&private_tiles))
        .collect();
    let public_refs: Vec<&Layer> = public.iter().collect();
    let tree = format!(
        "<layer-tree-group>{}{}{}</layer-tree-group>",
        group(
            &format!("需令牌（认证配置 {AUTHCFG}：Basic，密码为令牌）"),
            &private_refs
        ),
        group("公开图层（OGC API – Features）", &public_refs),
        tiles.tree_entry()
    );
    let layers: String = private
        .iter()
        .chain(public.iter())
        .chain([&private_tiles, &tiles])
        .map(Layer::map_layer)
        .collect();
    format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n\
         <qgis projectname=\"riskmap\" version=\"3.22.0\">\n\
         <title>城市安全风险电子地图</title>\n\
         <projectCrs>{crs}</projectCrs>\n\
         <properties><SpatialRefSys><ProjectionsEnabled type=\"int\">1</ProjectionsEnabled></SpatialRefSys></properties>\n\
         {tree}\n\
         <projectlayers>{layers}</projectlayers>\n\
         </qgis>\n",
        crs = spatialrefsys("EPSG:3857")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_names_every_layer_once_with_the_server_address() {
        let style: Value = serde_json::from_slice(crate::assets::style()).unwrap();
        let p = project("http://example.test:8080/", &style);
        for layer in LayerId::SERVED {
            let in_layer = format!("typename='{}'", layer.as_str());
            let in_tree = format!("typename=&apos;{}&apos;", layer.as_str());
            assert_eq!(p.matches(&in_layer).count(), 1, "{layer}: the layer");
            assert_eq!(p.matches(&in_tree).count(), 1, "{layer}: the tree");
        }
        assert!(p.contains("url=http://example.test:8080/tiles/"));
        let private = LayerId::SERVED.iter().filter(|l| l.is_private()).count();
        assert_eq!(p.matches("authcfg=riskmap").count(), 2 * (private + 1));
        assert_eq!(p.matches(".mvt%3Fauth%3Drequired&amp;").count(), 2);
        assert!(!p.contains("example.test:8080//"));
    }
}
