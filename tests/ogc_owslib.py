"""OWSLib's OGC API - Features client against a running riskmap.

Usage: python3 ogc_owslib.py BASE_URL [TOKEN]; prints one JSON object.
"""
import json
import sys

from owslib.ogcapi.features import Features

url = sys.argv[1]
token = sys.argv[2] if len(sys.argv) > 2 else None
headers = {"Authorization": "Bearer " + token} if token else None
w = Features(url, headers=headers)
out = {
    "conformance": w.conformance()["conformsTo"],
    "collections": [c["id"] for c in w.collections()["collections"]],
    "api_paths": len(w.api()["paths"]),
    "items": {},
}
for cid in out["collections"]:
    page = w.collection_items(cid, limit=10000)
    queryables = w.collection_queryables(cid)
    out["items"][cid] = {
        "matched": page["numberMatched"],
        "returned": len(page["features"]),
        "queryables": sorted(queryables["properties"]),
    }
out["major_cells"] = sorted(
    f["id"] for f in w.collection_items("cells", risk_level="major", limit=10000)["features"]
)
one = w.collection_item("cells", out["major_cells"][0]) if out["major_cells"] else None
out["one"] = one["id"] if one else None

# CQL2 filters through OWSLib's query parameters: IN, LIKE, S_INTERSECTS
# (a box over the middle of the cells' extent).
e = w.collection("cells")["extent"]["spatial"]["bbox"][0]
width, height = e[2] - e[0], e[3] - e[1]
box = [e[0] + 0.2 * width, e[1] + 0.3 * height, e[0] + 0.45 * width, e[1] + 0.5 * height]
out["cql2_bbox"] = box
filters = {
    "in": "risk_level IN ('major', 'high')",
    "like": "name LIKE '%1%'",
    "s_intersects": "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))".format(*box),
}
out["cql2"] = {}
for key, text in filters.items():
    ids = []
    while True:
        page = w.collection_items(
            "cells", filter=text, limit=10000, offset=len(ids), **{"filter-lang": "cql2-text"}
        )
        ids.extend(f["id"] for f in page["features"])
        if not page["features"] or len(ids) >= page["numberMatched"]:
            break
    out["cql2"][key] = sorted(ids)
print(json.dumps(out))
