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
print(json.dumps(out))
