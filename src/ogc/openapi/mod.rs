//! The OpenAPI 3.0 document of `/ogc/api`, generated from the collections
//! and their queryables so it cannot drift from what the server accepts.
//!
//! Every collection gets its own concrete paths (QGIS reads the items
//! parameters of `/collections/{id}/items` to offer property filters, and
//! `components.parameters.limit` for its page size).

pub mod model;

use super::crs::OgcCrs;
use super::links::BaseUrl;
use super::queryables::{geometry_type, properties};
use super::{DEFAULT_LIMIT, GEOJSON, HTML, JSON, MAX_LIMIT, OPENAPI, SCHEMA};
use crate::model::LayerId;
use model::{
    Components, Header, Info, OpenApi, Operation, Parameter, PathItem, RefOr, Response, Server,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn ok(description: &str, media_type: &str, schema: Value) -> (String, RefOr<Response>) {
    (
        "200".into(),
        RefOr::Item(Response::body(description, media_type, schema)),
    )
}

fn errors(codes: &[&str]) -> Vec<(String, RefOr<Response>)> {
    codes
        .iter()
        .map(|c| (c.to_string(), RefOr::component("responses", c)))
        .collect()
}

fn op(
    id: &str,
    summary: &str,
    tag: &str,
    parameters: Vec<RefOr<Parameter>>,
    responses: Vec<(String, RefOr<Response>)>,
    private: bool,
) -> PathItem {
    PathItem {
        get: Operation {
            summary: summary.to_string(),
            operation_id: id.to_string(),
            tags: vec![tag.to_string()],
            parameters,
            responses: responses.into_iter().collect(),
            security: private
                .then(|| vec![BTreeMap::from([("bearerAuth".to_string(), Vec::new())])]),
        },
    }
}

fn crs_schema() -> Value {
    json!({ "type": "string", "format": "uri", "enum": OgcCrs::ALL.map(OgcCrs::uri), "default": OgcCrs::Crs84.uri() })
}

/// The items parameters shared by every collection, by component name.
fn shared_parameters() -> BTreeMap<String, Parameter> {
    let list = [
        Parameter::query(
            "f",
            "response format",
            json!({"type": "string", "enum": ["json"], "default": "json"}),
        ),
        Parameter::query(
            "bbox",
            "only features whose geometry intersects the box minx,miny,maxx,maxy (in bbox-crs axis order; CRS84 lon/lat by default)",
            json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}),
        ),
        Parameter::query("bbox-crs", "CRS of bbox", crs_schema()),
        Parameter::query(
            "crs",
            "CRS of the response geometries (EPSG:4326 and EPSG:4490 are latitude first)",
            crs_schema(),
        ),
        Parameter::query(
            "limit",
            format!(
                "page size; larger values are clamped to {MAX_LIMIT}. The `next` link of a page of 10, 100 or 1,000 asks for ten times as many (up to {MAX_LIMIT}), so clients that page with the default size need few requests"
            ),
            json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
        ),
        Parameter::query(
            "offset",
            "features skipped before the page",
            json!({"type": "integer", "minimum": 0, "default": 0}),
        ),
        Parameter::query(
            "datetime",
            "an instant (YYYY-MM-DD or RFC 3339 date-time) or an interval start/end with `..` for an open end; validated (400 when malformed), the features carry no time yet",
            json!({"type": "string"}),
        ),
        Parameter::query(
            "filter",
            "CQL2 filter (text or, with filter-lang=cql2-json, JSON) over the queryables: comparisons (=, <>, <, <=, >, >=), [NOT] LIKE, [NOT] BETWEEN, [NOT] IN, IS [NOT] NULL, CASEI, ACCENTI, S_INTERSECTS(geometry, POINT/LINESTRING/POLYGON/MULTI…/BBOX) in filter-crs, AND, OR, NOT, parentheses; at most 8 KiB and 64 levels of nesting",
            json!({"type": "string"}),
        ),
        Parameter::query(
            "filter-lang",
            "filter language",
            json!({"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"}),
        ),
        Parameter::query(
            "filter-crs",
            "CRS of the geometry literals in filter (CRS84 by default)",
            crs_schema(),
        ),
        Parameter::query(
            "sortby",
            "comma-separated queryables, `-` prefix for descending",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
        Parameter::query(
            "properties",
            "comma-separated properties to include",
            json!({"type": "array", "items": {"type": "string"}}),
        ),
    ];
    list.into_iter().map(|p| (p.name.clone(), p)).collect()
}

fn feature_schema(layer: LayerId) -> Value {
    let props: serde_json::Map<String, Value> = properties(layer)
        .iter()
        .map(|p| {
            let mut s = p.kind.schema();
            s["description"] = json!(p.description);
            if p.nullable {
                s["nullable"] = json!(true);
            }
            (p.name.to_string(), s)
        })
        .collect();
    json!({
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": [geometry_type(layer)]},
                    "coordinates": {"type": "array", "items": {}}
                }
            },
            "properties": {"type": "object", "properties": props},
            "links": {"type": "array", "items": schema_ref("link")}
        }
    })
}

fn schemas() -> BTreeMap<String, Value> {
    let mut s = BTreeMap::new();
    s.insert(
        "link".into(),
        json!({"type": "object", "required": ["href"], "properties": {
            "href": {"type": "string", "format": "uri"}, "rel": {"type": "string"},
            "type": {"type": "string"}, "title": {"type": "string"}}}),
    );
    s.insert(
        "landingPage".into(),
        json!({"type": "object", "required": ["links"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"},
            "links": {"type": "array", "items": schema_ref("link")}}}),
    );
    s.insert(
        "confClasses".into(),
        json!({"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string", "format": "uri"}}}}),
    );
    s.insert(
        "collection".into(),
        json!({"type": "object", "required": ["id", "links"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "itemType": {"type": "string", "default": "feature"},
            "crs": {"type": "array", "items": {"type": "string", "format": "uri"}},
            "storageCrs": {"type": "string", "format": "uri"},
            "extent": {"type": "object", "properties": {"spatial": {"type": "object", "properties": {
                "bbox": {"type": "array", "items": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
                "crs": {"type": "string"}}}}},
            "links": {"type": "array", "items": schema_ref("link")}}}),
    );
    s.insert(
        "collections".into(),
        json!({"type": "object", "required": ["links", "collections"], "properties": {
            "links": {"type": "array", "items": schema_ref("link")},
            "crs": {"type": "array", "items": {"type": "string", "format": "uri"}},
            "collections": {"type": "array", "items": schema_ref("collection")}}}),
    );
    s.insert(
        "exception".into(),
        json!({"type": "object", "required": ["code"], "properties": {
            "code": {"type": "string"}, "description": {"type": "string"}}}),
    );
    s.insert(
        "queryables".into(),
        json!({"type": "object", "required": ["type", "properties"], "properties": {
            "$schema": {"type": "string"}, "$id": {"type": "string"}, "type": {"type": "string"},
            "title": {"type": "string"}, "properties": {"type": "object"}}}),
    );
    for layer in LayerId::SERVED {
        s.insert(format!("feature_{layer}"), feature_schema(layer));
        s.insert(
            format!("featureCollection_{layer}"),
            json!({"type": "object", "required": ["type", "features"], "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": schema_ref(&format!("feature_{layer}"))},
                "links": {"type": "array", "items": schema_ref("link")},
                "timeStamp": {"type": "string", "format": "date-time"},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0}}}),
        );
    }
    s
}

fn error_responses() -> BTreeMap<String, Response> {
    [
        ("400", "a malformed or unknown parameter"),
        ("401", "the collection needs a bearer token"),
        ("403", "the token does not open this collection or feature"),
        ("404", "no such collection or feature"),
        (
            "414",
            "the request target is longer than the server accepts",
        ),
        ("500", "a server error"),
    ]
    .into_iter()
    .map(|(code, d)| {
        (
            code.to_string(),
            Response::body(d, JSON, schema_ref("exception")),
        )
    })
    .collect()
}

fn collection_paths(paths: &mut BTreeMap<String, PathItem>, layer: LayerId) {
    let private = layer.is_private();
    let auth: &[&str] = if private { &["401", "403"] } else { &[] };
    let with = |base: &[&str]| -> Vec<(String, RefOr<Response>)> {
        let mut codes: Vec<&str> = base.to_vec();
        codes.extend_from_slice(auth);
        codes.sort_unstable();
        errors(&codes)
    };
    let tag = layer.label_zh();
    let root = format!("/collections/{layer}");

    let mut r = vec![ok("collection metadata", JSON, schema_ref("collection"))];
    r.extend(with(&["404", "500"]));
    paths.insert(
        root.clone(),
        op(
            &format!("describe_{layer}"),
            &format!("metadata of {layer}"),
            tag,
            Vec::new(),
            r,
            private,
        ),
    );

    let mut params: Vec<RefOr<Parameter>> = super::params::KNOWN
        .iter()
        .map(|name| RefOr::component("parameters", name))
        .collect();
    params.extend(properties(layer).iter().map(|p| {
        let mut s = p.kind.schema();
        s["description"] = json!(p.title);
        RefOr::Item(Parameter::query(
            p.name,
            format!(
                "only features whose {} equals this value ({})",
                p.name, p.description
            ),
            s,
        ))
    }));
    let mut items = Response::body(
        "a page of features",
        GEOJSON,
        schema_ref(&format!("featureCollection_{layer}")),
    );
    items.headers.insert(
        "Content-Crs".into(),
        Header {
            description: "the CRS of the geometries, as <URI>".into(),
            schema: json!({"type": "string"}),
        },
    );
    let mut r = vec![("200".to_string(), RefOr::Item(items))];
    r.extend(with(&["400", "404", "414", "500"]));
    paths.insert(
        format!("{root}/items"),
        op(
            &format!("items_{layer}"),
            &format!("features of {layer}"),
            tag,
            params,
            r,
            private,
        ),
    );

    let fid = Parameter::path(
        "featureId",
        "feature id (the code of a grid unit, the ledger id otherwise)",
        json!({"type": "string"}),
    );
    let mut r = vec![ok(
        "one feature",
        GEOJSON,
        schema_ref(&format!("feature_{layer}")),
    )];
    r.extend(with(&["400", "404", "414", "500"]));
    paths.insert(
        format!("{root}/items/{{featureId}}"),
        op(
            &format!("feature_{layer}"),
            &format!("one feature of {layer}"),
            tag,
            vec![RefOr::Item(fid), RefOr::component("parameters", "crs")],
            r,
            private,
        ),
    );

    let mut r = vec![ok(
        "the queryables (JSON Schema)",
        SCHEMA,
        schema_ref("queryables"),
    )];
    r.extend(with(&["404", "500"]));
    paths.insert(
        format!("{root}/queryables"),
        op(
            &format!("queryables_{layer}"),
            &format!("queryables of {layer}"),
            tag,
            Vec::new(),
            r,
            private,
        ),
    );
}

/// The OpenAPI 3.0 document, its server rooted at `base`'s `/ogc`.
pub fn document(base: &BaseUrl) -> OpenApi {
    let mut paths = BTreeMap::new();
    let basic = |id: &str, summary: &str, media: &str, schema: Value| {
        let mut r = vec![ok(summary, media, schema)];
        r.extend(errors(&["500"]));
        op(id, summary, "service", Vec::new(), r, false)
    };
    paths.insert(
        "/".into(),
        basic("landing", "landing page", JSON, schema_ref("landingPage")),
    );
    paths.insert(
        "/conformance".into(),
        basic(
            "conformance",
            "conformance classes",
            JSON,
            schema_ref("confClasses"),
        ),
    );
    paths.insert(
        "/api".into(),
        basic(
            "api",
            "this API definition",
            OPENAPI,
            json!({"type": "object"}),
        ),
    );
    paths.insert(
        "/api.html".into(),
        basic(
            "api_html",
            "API documentation",
            HTML,
            json!({"type": "string"}),
        ),
    );
    paths.insert(
        "/collections".into(),
        basic(
            "collections",
            "the collections (private ones only with a token)",
            JSON,
            schema_ref("collections"),
        ),
    );
    for layer in LayerId::SERVED {
        collection_paths(&mut paths, layer);
    }
    OpenApi {
        openapi: "3.0.3",
        info: Info {
            title: "城市安全风险电子地图 — OGC API – Features".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Grid units with risk scores, road-collapse risk zones and, with a bearer token, enterprises and major hazard sources. Part 1 (core, GeoJSON, OpenAPI 3.0), Part 2 (CRS) and Part 3 (queryables, CQL2 text and JSON filters).".into(),
        },
        servers: vec![Server {
            url: base.ogc(""),
            description: "this server".into(),
        }],
        paths,
        components: Components {
            parameters: shared_parameters(),
            responses: error_responses(),
            schemas: schemas(),
            security_schemes: BTreeMap::from([(
                "bearerAuth".to_string(),
                json!({"type": "http", "scheme": "bearer", "description": "a riskmap token"}),
            )]),
        },
    }
}

/// A small HTML page describing the API (the landing page's `service-doc`).
pub fn html(base: &BaseUrl) -> String {
    let mut rows = String::new();
    for layer in LayerId::SERVED {
        let props: Vec<&str> = properties(layer).iter().map(|p| p.name).collect();
        rows.push_str(&format!(
            "<tr><td><a href=\"{items}\">{layer}</a></td><td>{zh}</td><td>{access}</td><td>{props}</td></tr>\n",
            items = base.ogc(&format!("/collections/{layer}/items")),
            zh = layer.label_zh(),
            access = if layer.is_private() { "token" } else { "public" },
            props = props.join(", "),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>riskmap OGC API – Features</title></head><body>\n\
         <h1>城市安全风险电子地图 — OGC API – Features</h1>\n\
         <p>OpenAPI 3.0 definition: <a href=\"{api}\">{api}</a>. Conformance: <a href=\"{conf}\">{conf}</a>.</p>\n\
         <p>Items: <code>limit</code> (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}), <code>offset</code>, <code>bbox</code>, <code>bbox-crs</code>, <code>crs</code>, \
         <code>filter</code> (CQL2 text or JSON, <code>filter-lang</code>, <code>filter-crs</code>), <code>sortby</code>, <code>properties</code>, and any property as <code>?name=value</code>. \
         Private collections need <code>Authorization: Bearer TOKEN</code>.</p>\n\
         <table border=\"1\"><tr><th>collection</th><th>名称</th><th>access</th><th>properties</th></tr>\n{rows}</table>\n</body></html>\n",
        api = base.ogc("/api"),
        conf = base.ogc("/conformance"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_declares_limit_and_queryables() {
        let base = BaseUrl::from_headers(None, None, Some("example.cn"));
        let doc = serde_json::to_value(document(&base)).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        assert_eq!(doc["servers"][0]["url"], "http://example.cn/ogc");
        let limit = &doc["components"]["parameters"]["limit"];
        assert_eq!(limit["schema"]["maximum"], 10_000);
        assert_eq!(limit["schema"]["default"], 10);
        let items = &doc["paths"]["/collections/cells/items"]["get"];
        let params = items["parameters"].as_array().unwrap();
        let risk = params.iter().find(|p| p["name"] == "risk_level").unwrap();
        assert_eq!(risk["in"], "query");
        assert_eq!(risk["style"], "form");
        assert_eq!(risk["explode"], false);
        assert_eq!(risk["schema"]["type"], "string");
        assert!(
            params
                .iter()
                .any(|p| p["$ref"] == "#/components/parameters/bbox")
        );
        // Every $ref resolves.
        let text = doc.to_string();
        for (i, _) in text.match_indices("\"$ref\":\"#/") {
            let rest = &text[i + 8..];
            let end = rest.find('"').unwrap();
            let pointer = &rest[1..end];
            assert!(doc.pointer(pointer).is_some(), "dangling {pointer}");
        }
        assert!(doc["paths"]["/collections/enterprises/items"]["get"]["security"].is_array());
        assert!(doc["paths"]["/collections/cells/items"]["get"]["security"].is_null());
        assert_eq!(
            doc["paths"].as_object().unwrap().len(),
            5 + 4 * LayerId::SERVED.len()
        );
    }
}
