#!/usr/bin/env python3
"""Fingerprint of every tile a server answers over its TileJSON bounds.

Usage: tile_hashes.py BASE MINZOOM MAXZOOM [TOKEN]

Fetches /tiles/{z}/{x}/{y}.mvt for every tile of zooms MINZOOM..MAXZOOM
that meets the bounds of BASE/tiles.json (with the bearer TOKEN when
given, and always with an Origin), once plain and, every 7th tile, with
Accept-Encoding: gzip; every 5th tile again with If-None-Match naming the
ETag just received (a 304), every 11th with HEAD. Prints one SHA-256 over
each answer's status, body and header lines in order (every line but
`date`; of `x-request-id` only that it is there), then the number of
tiles and of non-empty ones (with LINES=FILE, one line per answer there
too). Two builds that print the same line serve the same bytes and
headers. Run it twice on a server: the second pass answers from the
tile cache. With GUNZIP=1, a gzip body counts by the bytes it unzips to
and its `content-length` by presence only (two builds that compress the
same tiles differently print the same line).
"""
import hashlib
import http.client
import gzip
import json
import math
import os
import sys
import urllib.parse

# Header lines whose values differ from one answer to the next.
VOLATILE = {"date", "x-request-id"}


def header_lines(headers):
    """Every header line in order, the volatile ones without their value."""
    return "".join(
        f"{name}={'' if name in VOLATILE else value};" for name, value in headers
    )


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

    def get(path, extra, method="GET"):
        h = {"Origin": "http://example.org"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(extra)
        conn.request(method, path, headers=h)
        r = conn.getresponse()
        return r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read()

    _, _, body = get("/tiles.json", {})
    bounds = json.loads(body)["bounds"]
    digest = hashlib.sha256()
    lines = open(os.environ["LINES"], "w") if os.environ.get("LINES") else None
    tiles = full = 0
    for z in range(zmin, zmax + 1):
        x0, x1, y0, y1 = tile_range(bounds, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                path = f"/tiles/{z}/{x}/{y}.mvt"
                variants = [{}]
                if tiles % 7 == 0:
                    variants.append({"Accept-Encoding": "gzip"})
                for extra in variants:
                    status, headers, body = get(path, extra)
                    answers = [("GET", extra, status, headers, body)]
                    if tiles % 5 == 0:
                        tag = dict(headers).get("etag", "")
                        revalidate = dict(extra, **{"If-None-Match": tag})
                        answers.append(("GET", revalidate, *get(path, revalidate)))
                    if tiles % 11 == 0:
                        answers.append(("HEAD", extra, *get(path, extra, "HEAD")))
                    for method, sent, st, hs, b in answers:
                        if os.environ.get("GUNZIP") and dict(hs).get("content-encoding") == "gzip":
                            hs = [(k, "" if k == "content-length" else v) for k, v in hs]
                            b = gzip.decompress(b) if b else b
                        line = f"{method} {z}/{x}/{y} {sent} {st} " + header_lines(hs) + \
                            hashlib.sha256(b).hexdigest()
                        digest.update(line.encode())
                        if lines:
                            lines.write(line + "\n")
                    if extra == {}:
                        full += status == 200
                tiles += 1
    print(f"{digest.hexdigest()} tiles={tiles} non_empty={full}")


if __name__ == "__main__":
    main()
