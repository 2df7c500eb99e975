//! Absolute links: the public base URL of a request (honouring
//! `X-Forwarded-Proto` / `X-Forwarded-Host`, else `Host`) and the link
//! objects of OGC API responses.

use serde::Serialize;

/// The scheme and authority clients reach the server at, e.g.
/// `https://map.example.cn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

fn first(list: Option<&str>) -> Option<&str> {
    list.and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn valid_host(h: &str) -> bool {
    h.len() <= 255
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'))
}

impl BaseUrl {
    /// From the request's forwarding headers and `Host`; an implausible host
    /// falls back to `localhost`, a scheme other than `https` to `http`.
    pub fn from_headers(
        forwarded_proto: Option<&str>,
        forwarded_host: Option<&str>,
        host: Option<&str>,
    ) -> BaseUrl {
        let scheme = match first(forwarded_proto) {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let host = first(forwarded_host)
            .filter(|h| valid_host(h))
            .or_else(|| first(host).filter(|h| valid_host(h)))
            .unwrap_or("localhost");
        BaseUrl(format!("{scheme}://{host}"))
    }

    /// The scheme and authority, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of an OGC API path (`""` is the landing page,
    /// `"/collections"` …).
    pub fn ogc(&self, path: &str) -> String {
        format!("{}/ogc{path}", self.0)
    }
}

/// A link of an OGC API response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Absolute URL.
    pub href: String,
    /// Relation (`self`, `next`, `data` …).
    pub rel: &'static str,
    /// Media type of the target.
    #[serde(rename = "type")]
    pub media_type: &'static str,
    /// Human-readable title.
    pub title: String,
}

impl Link {
    /// A new link.
    pub fn new(
        href: String,
        rel: &'static str,
        media_type: &'static str,
        title: impl Into<String>,
    ) -> Link {
        Link {
            href,
            rel,
            media_type,
            title: title.into(),
        }
    }
}

const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment (a feature id).
pub fn path_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// Encodes query pairs as `?a=1&b=2` (empty for no pairs).
pub fn query_string(pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let mut ser = form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_headers_win() {
        let b = BaseUrl::from_headers(
            Some("https, http"),
            Some("map.example.cn"),
            Some("127.0.0.1:8080"),
        );
        assert_eq!(
            b.ogc("/collections"),
            "https://map.example.cn/ogc/collections"
        );
        let b = BaseUrl::from_headers(None, None, Some("127.0.0.1:8080"));
        assert_eq!(b.ogc(""), "http://127.0.0.1:8080/ogc");
        let b = BaseUrl::from_headers(Some("gopher"), Some("evil\"host"), Some("a b"));
        assert_eq!(b.ogc(""), "http://localhost/ogc");
    }

    #[test]
    fn query_strings_are_encoded() {
        let q = query_string(&[
            ("filter".into(), "name = '金山'".into()),
            ("limit".into(), "5".into()),
        ]);
        assert_eq!(q, "?filter=name+%3D+%27%E9%87%91%E5%B1%B1%27&limit=5");
        assert_eq!(query_string(&[]), "");
        assert_eq!(path_segment("CZ-1 a/b"), "CZ-1%20a%2Fb");
    }
}
