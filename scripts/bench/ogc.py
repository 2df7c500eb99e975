#!/usr/bin/env python3
"""Checks the OGC API - Features item pages listed in a file, on loopback.

    ogc.py pages BASE PATHS_FILE [SAMPLE]
        fetches the first SAMPLE paths (default 5) of PATHS_FILE from BASE and
        prints "pages mean_bytes features properties": the mean body size, the
        feature count per page (one number when all pages agree, else min-max)
        and the sorted property names of the first feature, comma-separated.
        Exits non-zero when a page is not a GeoJSON FeatureCollection.
"""
import json
import sys
import urllib.request


def main():
    cmd, base, paths = sys.argv[1], sys.argv[2], sys.argv[3]
    if cmd != "pages":
        sys.exit(f"unknown command {cmd}")
    sample = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    with open(paths) as f:
        lines = [line.strip() for line in f if line.strip()][:sample]
    sizes, counts, props = [], [], None
    for path in lines:
        with urllib.request.urlopen(base + path, timeout=120) as r:
            body = r.read()
        doc = json.loads(body)
        if doc.get("type") != "FeatureCollection":
            sys.exit(f"{path}: not a FeatureCollection")
        sizes.append(len(body))
        counts.append(len(doc["features"]))
        if props is None and doc["features"]:
            props = ",".join(sorted(doc["features"][0].get("properties") or {}))
    lo, hi = min(counts), max(counts)
    feats = str(lo) if lo == hi else f"{lo}-{hi}"
    print(f"{len(sizes)} {sum(sizes) / len(sizes):.0f} {feats} {props or '-'}")


if __name__ == "__main__":
    main()
