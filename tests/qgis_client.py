"""QGIS (PyQGIS, headless) as a GIS office runs it against riskmap.

Usage (prints one JSON object):
  qgis_client.py oapif BASE COLLECTION [TOKEN]
      the OGC API - Features layer as QGIS opens it, with a Basic-auth
      configuration holding TOKEN: {"valid", "count", "features"}
  qgis_client.py tiles BASE OUTDIR public|private [TOKEN]
      the vector tiles (the plain URL, or the `auth=required` one) styled
      by /qgis/style.json over the demo city at zoom 12, enterprises only:
      {"pixels": non-background pixels}
  qgis_client.py project BASE OUTDIR TOKEN CODE...
      opens /qgis/riskmap.qgs with the auth configuration `riskmap` holding
      TOKEN, and renders each cell CODE with the project's OGC cell layer
      and with its vector-tile layer: {"layers": {...}, "ogc": {code:
      "#rrggbb"}, "tiles": {code: "#rrggbb"}, "png": path}

Run with Debian's python3 (python3-qgis) and QT_QPA_PLATFORM=offscreen.
"""

import json
import os
import sys
import tempfile
import urllib.request

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# A fresh profile per run: QGIS caches HTTP answers on disk by URL alone.
PROFILE = tempfile.mkdtemp(prefix="qgis-profile-")
os.environ.setdefault("QGIS_CUSTOM_CONFIG_PATH", PROFILE)
os.environ.setdefault("QGIS_AUTH_DB_DIR_PATH", PROFILE)
# Qt's HTTP disk cache lives under XDG_CACHE_HOME: one per run as well, so
# no run sees another's answers.
os.environ["XDG_CACHE_HOME"] = os.path.join(PROFILE, "cache")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsAuthMethodConfig,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsMapBoxGlStyleConversionContext,
    QgsMapBoxGlStyleConverter,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402

APP = QgsApplication([], False)
APP.initQgis()
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
MERCATOR = QgsCoordinateReferenceSystem("EPSG:3857")
BACKGROUND = QColor(255, 255, 255)


def auth_config(token, cfg_id=None):
    """A Basic configuration with the token as password; its id."""
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        manager.setMasterPassword("riskmap-test", True)
    cfg = QgsAuthMethodConfig("Basic")
    cfg.setName("riskmap")
    if cfg_id:
        cfg.setId(cfg_id)
    cfg.setConfig("username", "qgis")
    cfg.setConfig("password", token)
    ok, stored = manager.storeAuthenticationConfig(cfg, True)
    if not ok:
        raise SystemExit("cannot store the auth configuration")
    return stored.id()


def render(layers, extent_3857, size=400):
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(MERCATOR)
    settings.setExtent(extent_3857)
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(BACKGROUND)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return settings, job.renderedImage()


def to_3857(rect_or_point, crs=WGS84):
    transform = QgsCoordinateTransform(crs, MERCATOR, QgsProject.instance())
    if isinstance(rect_or_point, QgsRectangle):
        return transform.transformBoundingBox(rect_or_point)
    return transform.transform(rect_or_point)


def oapif(base, collection, token=None):
    uri = f"url='{base}/ogc' typename='{collection}'"
    if token:
        uri += f" authcfg={auth_config(token)}"
    layer = QgsVectorLayer(uri, collection, "OAPIF")
    features = sum(1 for _ in layer.getFeatures()) if layer.isValid() else 0
    return {"valid": layer.isValid(), "count": layer.featureCount(), "features": features}


def tiles(base, outdir, url_kind, token=None):
    """url_kind: `public` (the plain tile URL) or `private` (auth=required)."""
    url = f"{base}/tiles/%7Bz%7D/%7Bx%7D/%7By%7D.mvt"
    if url_kind == "private":
        url += "%3Fauth%3Drequired"
    uri = f"type=xyz&url={url}&zmin=0&zmax=14"
    if token:
        uri += f"&authcfg={auth_config(token)}"
    layer = QgsVectorTileLayer(uri, "riskmap")
    with urllib.request.urlopen(f"{base}/qgis/style.json") as r:
        style = json.load(r)
    style["layers"] = [
        l for l in style["layers"] if l.get("source-layer") == "enterprises"
    ]
    converter = QgsMapBoxGlStyleConverter()
    converter.convert(style, QgsMapBoxGlStyleConversionContext())
    layer.setRenderer(converter.renderer())
    # 鲤城区 and around, at about zoom 12 for 800 px.
    extent = to_3857(QgsRectangle(118.50, 24.86, 118.66, 24.98))
    _, image = render([layer], extent, 800)
    image.save(os.path.join(outdir, f"qgis-tiles-{url_kind}-{'token' if token else 'anonymous'}.png"))
    pixels = sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if QColor(image.pixel(x, y)) != BACKGROUND
    )
    return {"valid": layer.isValid(), "pixels": pixels, "warnings": converter.warnings()}


def sample(settings, image, point_3857):
    pixel = settings.mapToPixel().transform(point_3857)
    return QColor(image.pixel(int(pixel.x()), int(pixel.y()))).name()


def project(base, outdir, token, codes):
    auth_config(token, "riskmap")
    path = os.path.join(outdir, "riskmap.qgs")
    with urllib.request.urlopen(f"{base}/qgis/riskmap.qgs") as r, open(path, "wb") as f:
        f.write(r.read())
    proj = QgsProject.instance()
    if not proj.read(path):
        raise SystemExit(f"QGIS cannot read the project: {proj.error()}")
    layers = {l.id(): l for l in proj.mapLayers().values()}
    out = {
        "crs": proj.crs().authid(),
        "layers": {
            lid: {"name": l.name(), "valid": l.isValid(), "provider": l.providerType()}
            for lid, l in layers.items()
        },
        "ogc": {},
        "tiles": {},
    }
    cells = layers["riskmap_cells"]
    tile_layer = layers["riskmap_tiles"]
    for code in codes:
        request = QgsFeatureRequest().setFilterExpression(f"\"code\" = '{code}'")
        feature = next(cells.getFeatures(request), None)
        if feature is None:
            out["ogc"][code] = None
            continue
        geometry = feature.geometry()
        inside = to_3857(geometry.pointOnSurface().asPoint(), cells.crs())
        # 1.2 km across 300 px: about zoom 16, where the tiles draw cells.
        box = QgsRectangle(inside.x() - 600, inside.y() - 600, inside.x() + 600, inside.y() + 600)
        for key, layer in (("ogc", cells), ("tiles", tile_layer)):
            settings, image = render([layer], box, 300)
            out[key][code] = sample(settings, image, inside)
    # The whole city as the project opens (counties on, the rest off).
    visible = [
        layers[n.layerId()]
        for n in proj.layerTreeRoot().findLayers()
        if n.isVisible() and n.layerId() in layers
    ]
    city = to_3857(QgsRectangle(117.5, 24.5, 119.1, 25.95))
    _, image = render(visible, city, 800)
    out["png"] = os.path.join(outdir, "qgis-project.png")
    image.save(out["png"])
    out["visible"] = [l.id() for l in visible]
    return out


def main(argv):
    command, base = argv[1], argv[2].rstrip("/")
    if command == "oapif":
        result = oapif(base, argv[3], argv[4] if len(argv) > 4 else None)
    elif command == "tiles":
        result = tiles(base, argv[3], argv[4], argv[5] if len(argv) > 5 else None)
    elif command == "project":
        result = project(base, argv[3], argv[4], argv[5:])
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv)
    # QGIS's exit handlers can crash a headless process; the JSON is out.
    sys.stdout.flush()
    os._exit(0)
