//! Middleware: every error answer is JSON `{"code","description"}`, also
//! those made outside the handlers (a rejected path or query, 405 for a
//! wrong method with its `Allow` header, 413, the timeout's 503, a caught
//! panic's 500). A 4xx keeps its text as the description; a 5xx says
//! nothing internal.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Longest error text kept as a description.
const MAX_TEXT: usize = 4096;

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"))
}

/// The `code` of an error status.
fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "InvalidParameterValue",
        StatusCode::UNAUTHORIZED => "Unauthorized",
        StatusCode::FORBIDDEN => "Forbidden",
        StatusCode::NOT_FOUND => "NotFound",
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        StatusCode::NOT_ACCEPTABLE => "NotAcceptable",
        StatusCode::REQUEST_TIMEOUT => "RequestTimeout",
        StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
        StatusCode::URI_TOO_LONG => "URITooLong",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
        StatusCode::UNPROCESSABLE_ENTITY => "UnprocessableEntity",
        StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "HeaderFieldsTooLarge",
        StatusCode::SERVICE_UNAVAILABLE => "ServiceUnavailable",
        s if s.is_server_error() => "InternalError",
        _ => "BadRequest",
    }
}

/// What a 5xx, or a 4xx without text, says.
fn description(status: StatusCode, headers: &HeaderMap) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("this method is not allowed here; allowed: {allow}")
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            "the server could not answer in time; retry later".to_string()
        }
        s if s.is_server_error() => "internal error".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_string(),
    }
}

/// The middleware.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(resp.headers()) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = if status.is_client_error() && status != StatusCode::METHOD_NOT_ALLOWED {
        axum::body::to_bytes(body, MAX_TEXT)
            .await
            .ok()
            .and_then(|b| String::from_utf8(b.to_vec()).ok())
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    } else {
        None
    };
    let description = text.unwrap_or_else(|| description(status, &parts.headers));
    let json = serde_json::json!({"code": code(status), "description": description});
    let headers = &mut parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_ENCODING);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE && !headers.contains_key(header::RETRY_AFTER) {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    Response::from_parts(parts, Body::from(json.to_string()))
}
