//! Typed OpenAPI 3.0 document objects (the subset this API uses); schemas
//! are JSON values.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The root of an OpenAPI 3.0 document.
#[derive(Debug, Clone, Serialize)]
pub struct OpenApi {
    /// `3.0.3`.
    pub openapi: &'static str,
    /// Title, version, description.
    pub info: Info,
    /// Where the paths are rooted (absolute `…/ogc`).
    pub servers: Vec<Server>,
    /// Operations by path.
    pub paths: BTreeMap<String, PathItem>,
    /// Shared parameters, responses, schemas and security schemes.
    pub components: Components,
}

/// `info`.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// API title.
    pub title: String,
    /// API version.
    pub version: String,
    /// Description (CommonMark).
    pub description: String,
}

/// A server URL.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// Absolute URL.
    pub url: String,
    /// What it is.
    pub description: String,
}

/// The operations of one path (this API only reads).
#[derive(Debug, Clone, Serialize)]
pub struct PathItem {
    /// `GET`.
    pub get: Operation,
}

/// One operation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Short summary.
    pub summary: String,
    /// Unique id.
    pub operation_id: String,
    /// Grouping tags.
    pub tags: Vec<String>,
    /// Parameters, inline or by reference.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<RefOr<Parameter>>,
    /// Responses by status code.
    pub responses: BTreeMap<String, RefOr<Response>>,
    /// Security requirements (bearer token for private collections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Vec<BTreeMap<String, Vec<String>>>>,
}

/// An object given inline or as a `$ref`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RefOr<T> {
    /// `{"$ref": "#/components/…"}`.
    Ref {
        /// The JSON pointer.
        #[serde(rename = "$ref")]
        reference: String,
    },
    /// Inline.
    Item(T),
}

impl<T> RefOr<T> {
    /// A reference to `#/components/{section}/{name}`.
    pub fn component(section: &str, name: &str) -> Self {
        RefOr::Ref {
            reference: format!("#/components/{section}/{name}"),
        }
    }
}

/// Where a parameter is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum In {
    /// The query string.
    Query,
    /// A path segment.
    Path,
}

/// A parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    /// Name.
    pub name: String,
    /// Location.
    #[serde(rename = "in")]
    pub location: In,
    /// Description.
    pub description: String,
    /// Whether it must be given.
    pub required: bool,
    /// Serialisation style (`form` for query parameters, `simple` for path).
    pub style: &'static str,
    /// Whether arrays are exploded.
    pub explode: bool,
    /// The value's schema.
    pub schema: Value,
}

impl Parameter {
    /// An optional query parameter, `style: form`, `explode: false`.
    pub fn query(name: &str, description: impl Into<String>, schema: Value) -> Parameter {
        Parameter {
            name: name.to_string(),
            location: In::Query,
            description: description.into(),
            required: false,
            style: "form",
            explode: false,
            schema,
        }
    }

    /// A required path parameter.
    pub fn path(name: &str, description: impl Into<String>, schema: Value) -> Parameter {
        Parameter {
            name: name.to_string(),
            location: In::Path,
            description: description.into(),
            required: true,
            style: "simple",
            explode: false,
            schema,
        }
    }
}

/// A response.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// Description.
    pub description: String,
    /// Response headers.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Header>,
    /// Body by media type.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub content: BTreeMap<String, MediaType>,
}

impl Response {
    /// A response whose body of `media_type` follows `schema`.
    pub fn body(description: &str, media_type: &str, schema: Value) -> Response {
        Response {
            description: description.to_string(),
            headers: BTreeMap::new(),
            content: BTreeMap::from([(media_type.to_string(), MediaType { schema })]),
        }
    }
}

/// A response header.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// Description.
    pub description: String,
    /// The value's schema.
    pub schema: Value,
}

/// The schema of a body.
#[derive(Debug, Clone, Serialize)]
pub struct MediaType {
    /// The schema.
    pub schema: Value,
}

/// `components`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Components {
    /// Shared parameters (QGIS reads `limit` here for its page size).
    pub parameters: BTreeMap<String, Parameter>,
    /// Shared responses.
    pub responses: BTreeMap<String, Response>,
    /// Shared schemas.
    pub schemas: BTreeMap<String, Value>,
    /// Security schemes.
    pub security_schemes: BTreeMap<String, Value>,
}
