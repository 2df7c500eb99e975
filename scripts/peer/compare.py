#!/usr/bin/env python3
"""Fetches the same tiles from two tile servers and compares what is in them.

    compare.py A_TEMPLATE B_TEMPLATE TILES... [--token-a TOKEN] [--token-b TOKEN]
    compare.py A_TEMPLATE B_TEMPLATE --list FILE [--sample N] ...

A template holds {z}, {x} and {y}: a URL (http://127.0.0.1:8080/tiles/{z}/{x}/{y}.mvt)
or a file path (a tile dumped by scripts/bench/tiles.py; a missing file is an
empty tile). TILES are z/x/y. With --list, the first N distinct tiles of a
z/x/y file (N = --sample, default 100) are compared and only the totals
printed; with --brief, one line of totals over the layers both sides have:
"tiles bytes_a bytes_b features_a features_b clusters_a clusters_b
enterprises_a enterprises_b bytes_a_other_layers" (enterprises: those the
enterprises layer stands for, singles plus the clusters' point_count).

Per tile and layer it prints the features in A and in B, and for the
enterprises how many are clusters and how many enterprises the layer stands
for (singles plus the clusters' point_count); then the bytes of each tile,
and of each layer, and the vertices of polygon layers. No dependency beyond
the standard library: the MVT protobuf is decoded here.
"""
import argparse
import collections
import sys
import urllib.request


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf):
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        yield num, wt, v


def packed(buf):
    out, i = [], 0
    while i < len(buf):
        v, i = varint(buf, i)
        out.append(v)
    return out


def value(buf):
    import struct
    for num, _, v in fields(buf):
        if num == 1:
            return v.decode()
        if num == 2:
            return struct.unpack("<f", v)[0]
        if num == 3:
            return struct.unpack("<d", v)[0]
        if num in (4, 5):
            return v
        if num == 6:
            return (v >> 1) ^ -(v & 1)
        if num == 7:
            return bool(v)
    return None


def decode(tile):
    """{layer: {"bytes", "features": [(props, vertices)]}}."""
    layers = {}
    for num, _, lbuf in fields(tile):
        if num != 3:
            continue
        name, keys, vals, feats = None, [], [], []
        for n, _, v in fields(lbuf):
            if n == 1:
                name = v.decode()
            elif n == 2:
                feats.append(v)
            elif n == 3:
                keys.append(v.decode())
            elif n == 4:
                vals.append(value(v))
        out = []
        for f in feats:
            tags, geom = [], []
            for n, _, v in fields(f):
                if n == 2:
                    tags = packed(v)
                elif n == 4:
                    geom = packed(v)
            props = {keys[tags[i]]: vals[tags[i + 1]] for i in range(0, len(tags) - 1, 2)}
            # Vertices: the parameters of MoveTo and LineTo (ClosePath has none).
            verts, i = 0, 0
            while i < len(geom):
                cmd, count = geom[i] & 7, geom[i] >> 3
                i += 1
                if cmd in (1, 2):
                    verts += count
                    i += 2 * count
            out.append((props, verts))
        layers[name] = {"bytes": len(lbuf), "features": out}
    return layers


def fetch(template, zxy, token):
    z, x, y = zxy.split("/")
    if "://" not in template:
        try:
            with open(template.format(z=z, x=x, y=y), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""
    req = urllib.request.Request(template.format(z=z, x=x, y=y))
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=300) as r:
        return r.read()


def summary(layers):
    """Per layer: features, clusters, points stood for, vertices, bytes."""
    out = {}
    for name, layer in layers.items():
        feats = layer["features"]
        clusters = [p for p, _ in feats if "point_count" in p]
        out[name] = {
            "features": len(feats),
            "clusters": len(clusters),
            "points": len(feats) - len(clusters) + sum(int(p["point_count"]) for p in clusters),
            "vertices": sum(v for _, v in feats),
            "bytes": layer["bytes"],
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("tiles", nargs="*")
    ap.add_argument("--list")
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--token-a", default="")
    ap.add_argument("--token-b", default="")
    ap.add_argument("--brief", action="store_true")
    args = ap.parse_args()
    tiles = list(args.tiles)
    if args.list:
        seen = set()
        for line in open(args.list):
            t = line.strip()
            if t and t not in seen:
                seen.add(t)
                tiles.append(t)
                if len(seen) >= args.sample:
                    break
    verbose = not args.list and not args.brief
    totals = {"a": collections.Counter(), "b": collections.Counter()}
    layer_totals = {"a": collections.defaultdict(collections.Counter),
                    "b": collections.defaultdict(collections.Counter)}
    for t in tiles:
        ta, tb = fetch(args.a, t, args.token_a), fetch(args.b, t, args.token_b)
        sa, sb = summary(decode(ta)), summary(decode(tb))
        totals["a"]["bytes"] += len(ta)
        totals["b"]["bytes"] += len(tb)
        for side, s in (("a", sa), ("b", sb)):
            for name, v in s.items():
                layer_totals[side][name].update(v)
        if verbose:
            ratio = f"{len(tb) / len(ta):.2f}" if ta else "n/a"
            print(f"{t}: A {len(ta)} B, B {len(tb)} B (B/A {ratio})")
            for name in sorted(set(sa) | set(sb), key=lambda n: (n not in sa, n)):
                a, b = sa.get(name, {}), sb.get(name, {})
                line = (f"  {name:15} features {a.get('features', 0):>6} / {b.get('features', 0):<6}"
                        f" bytes {a.get('bytes', 0):>7} / {b.get('bytes', 0):<7}")
                if a.get("clusters") or b.get("clusters"):
                    line += (f" clusters {a.get('clusters', 0)} / {b.get('clusters', 0)},"
                             f" enterprises {a.get('points', 0)} / {b.get('points', 0)}")
                if a.get("vertices", 0) > a.get("features", 0) or b.get("vertices", 0) > b.get("features", 0):
                    line += f" vertices {a.get('vertices', 0)} / {b.get('vertices', 0)}"
                print(line)
    n = len(tiles)
    if args.brief:
        common = set(layer_totals["a"]) & set(layer_totals["b"])
        a = sum((layer_totals["a"][k] for k in common), collections.Counter())
        b = sum((layer_totals["b"][k] for k in common), collections.Counter())
        other = sum(layer_totals["a"][k]["bytes"] for k in set(layer_totals["a"]) - common)
        ea, eb = layer_totals["a"]["enterprises"], layer_totals["b"]["enterprises"]
        print(n, a["bytes"], b["bytes"], a["features"], b["features"], a["clusters"], b["clusters"],
              ea["points"], eb["points"], other)
        return
    print(f"{n} tiles: A mean {totals['a']['bytes'] / max(n, 1):.0f} B, "
          f"B mean {totals['b']['bytes'] / max(n, 1):.0f} B, "
          f"B/A {totals['b']['bytes'] / max(totals['a']['bytes'], 1):.2f}")
    names = sorted(set(layer_totals["a"]) | set(layer_totals["b"]))
    for name in names:
        a, b = layer_totals["a"][name], layer_totals["b"][name]
        print(f"  {name:15} features {a['features']:>7} / {b['features']:<7} clusters {a['clusters']:>6} / "
              f"{b['clusters']:<6} vertices {a['vertices']:>8} / {b['vertices']:<8} "
              f"bytes {a['bytes']:>9} / {b['bytes']}")


if __name__ == "__main__":
    sys.exit(main())
