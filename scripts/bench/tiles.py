#!/usr/bin/env python3
"""Fetches the tiles listed in a `z/x/y` file from a tile server on loopback.

    tiles.py sizes BASE_TEMPLATE TILES_FILE [SAMPLE] [TOKEN]
        prints "count empty mean_bytes p95_bytes max_bytes" over the first
        SAMPLE distinct tiles (identity encoding).
    tiles.py dump BASE_TEMPLATE TILES_FILE OUT_DIR [TOKEN]
        saves every distinct tile as OUT_DIR/z/x/y.mvt (empty tiles are not
        written), for a static file server.

BASE_TEMPLATE holds {z}, {x} and {y}, e.g. http://127.0.0.1:8080/tiles/{z}/{x}/{y}.mvt,
and may hold {layers}: the comma-separated layers whose minimum zoom is at most z,
from the environment variable MINZOOMS ("name=minzoom name=minzoom ...").
"""
import os
import sys
import urllib.request


def distinct(path, limit=None):
    seen, out = set(), []
    with open(path) as f:
        for line in f:
            t = line.strip()
            if t and t not in seen:
                seen.add(t)
                out.append(t)
                if limit and len(out) >= limit:
                    break
    return out


def layers_at(z):
    pairs = [kv.split("=") for kv in os.environ.get("MINZOOMS", "").split()]
    return ",".join(name for name, minzoom in pairs if int(z) >= int(minzoom))


def fetch(template, zxy, token):
    z, x, y = zxy.split("/")
    url = template.format(z=z, x=x, y=y, layers=layers_at(z) if "{layers}" in template else "")
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()


def main():
    cmd, template, tiles = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd == "sizes":
        sample = int(sys.argv[4]) if len(sys.argv) > 4 else 500
        token = sys.argv[5] if len(sys.argv) > 5 else ""
        sizes, empty = [], 0
        for t in distinct(tiles, sample):
            status, body = fetch(template, t, token)
            if status == 204 or not body:
                empty += 1
            else:
                sizes.append(len(body))
        sizes.sort()
        if not sizes:
            print(f"{empty} {empty} 0 0 0")
            return
        mean = sum(sizes) / len(sizes)
        p95 = sizes[min(len(sizes) - 1, int(len(sizes) * 0.95))]
        print(f"{len(sizes) + empty} {empty} {mean:.0f} {p95} {sizes[-1]}")
    elif cmd == "dump":
        out = sys.argv[4]
        token = sys.argv[5] if len(sys.argv) > 5 else ""
        for t in distinct(tiles):
            status, body = fetch(template, t, token)
            if status == 200 and body:
                path = os.path.join(out, t + ".mvt")
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(body)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
