"""Reads a PMTiles archive with the `pmtiles` package (PyPI), an independent
reader, and prints its header, metadata and every tile (gunzipped, hex) as
JSON for tests/pmtiles.rs. Usage: python3 tests/pmtiles_read.py ARCHIVE"""

import gzip
import json
import sys

from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

with open(sys.argv[1], "rb") as f:
    reader = Reader(MmapSource(f))
    header = reader.header()
    metadata = reader.metadata()
    tiles = []
    for (z, x, y), data in all_tiles(reader.get_bytes):
        if header["tile_compression"] == Compression.GZIP:
            data = gzip.decompress(data)
        tiles.append({"z": z, "x": x, "y": y, "hex": data.hex()})
    # Random access through the directory, not only the traversal.
    for t in tiles:
        got = reader.get(t["z"], t["x"], t["y"])
        assert got is not None, t
        assert gzip.decompress(got).hex() == t["hex"], t
    json.dump(
        {
            "version": header["version"],
            "min_zoom": header["min_zoom"],
            "max_zoom": header["max_zoom"],
            "tile_type": "mvt" if header["tile_type"] == TileType.MVT else str(header["tile_type"]),
            "tile_compression": "gzip"
            if header["tile_compression"] == Compression.GZIP
            else str(header["tile_compression"]),
            "addressed_tiles": header["addressed_tiles_count"],
            "bounds": [
                header["min_lon_e7"] / 1e7,
                header["min_lat_e7"] / 1e7,
                header["max_lon_e7"] / 1e7,
                header["max_lat_e7"] / 1e7,
            ],
            "metadata": metadata,
            "tiles": tiles,
        },
        sys.stdout,
    )
