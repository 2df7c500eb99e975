#!/usr/bin/env python3
"""Fingerprint of every tile a server answers over its TileJSON bounds.

Usage: tile_hashes.py BASE MINZOOM MAXZOOM [TOKEN]

Fetches /tiles/{z}/{x}/{y}.mvt for every tile of zooms MINZOOM..MAXZOOM
that meets the bounds of BASE/tiles.json (with the bearer TOKEN when
given), once plain and, every 7th tile, with Accept-Encoding: gzip, and
prints one SHA-256 over each answer's status, body and caching headers
(ETag, Vary, Cache-Control, Content-Type, Content-Encoding, CORS), then the
number of tiles and of non-empty ones (with LINES=FILE, one line per
answer there too). Two builds that print the same line
serve the same bytes and headers.
"""
import hashlib
import http.client
import json
import math
import os
import sys
import urllib.parse

HEADERS = ["etag", "vary", "cache-control", "content-type", "content-encoding",
           "access-control-allow-origin", "access-control-expose-headers", "content-length"]


def tile_range(bounds, z):
    w, s, e, n = bounds
    def tx(lon):
        return int((lon + 180.0) / 360.0 * (1 << z))
    def ty(lat):
        r = math.radians(lat)
        return int((1.0 - math.log(math.tan(r) + 1.0 / math.cos(r)) / math.pi) / 2.0 * (1 << z))
    top = (1 << z) - 1
    return (max(0, tx(w)), min(top, tx(e)), max(0, ty(n)), min(top, ty(s)))


def main():
    base, zmin, zmax = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    token = sys.argv[4] if len(sys.argv) > 4 else ""
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def get(path, extra):
        h = {"Origin": "http://example.org"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(extra)
        conn.request("GET", path, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()

    _, _, body = get("/tiles.json", {})
    bounds = json.loads(body)["bounds"]
    digest = hashlib.sha256()
    lines = open(os.environ["LINES"], "w") if os.environ.get("LINES") else None
    tiles = full = 0
    for z in range(zmin, zmax + 1):
        x0, x1, y0, y1 = tile_range(bounds, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                variants = [{}]
                if tiles % 7 == 0:
                    variants.append({"Accept-Encoding": "gzip"})
                for extra in variants:
                    status, headers, body = get(f"/tiles/{z}/{x}/{y}.mvt", extra)
                    line = f"{z}/{x}/{y} {extra} {status} " + "".join(
                        f"{name}={headers.get(name, '')};" for name in HEADERS
                    ) + hashlib.sha256(body).hexdigest()
                    digest.update(line.encode())
                    if lines:
                        lines.write(line + "\n")
                tiles += 1
                full += status == 200
    print(f"{digest.hexdigest()} tiles={tiles} non_empty={full}")


if __name__ == "__main__":
    main()
