//! Caps on open connections: in total (`limits.max_connections`) and per
//! client address (`limits.max_connections_per_client`; trusted proxies
//! are not counted per address). A connection over a cap is answered a
//! short 503 and closed at once, before anything is read from it.

use crate::ip_range::{IpRange, any_contains};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts open connections; [`ConnLimit::admit`] hands out a guard per
/// connection that gives its place back when dropped.
#[derive(Clone)]
pub struct ConnLimit(Arc<Inner>);

struct Inner {
    max_total: usize,
    max_per_client: usize,
    exempt: Vec<IpRange>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` are open.
    Total,
    /// `max_connections_per_client` are open from this address.
    PerClient,
}

impl Refusal {
    /// The reason as `/metrics` counts it.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Total => "connections",
            Refusal::PerClient => "connections_per_client",
        }
    }
}

/// One admitted connection; dropping it frees its place.
pub struct ConnGuard {
    limit: Arc<Inner>,
    /// The address counted against the per-client cap (`None`: exempt).
    client: Option<IpAddr>,
}

impl ConnLimit {
    /// At most `max_total` connections, `max_per_client` from one address
    /// not in `exempt`.
    pub fn new(max_total: usize, max_per_client: usize, exempt: Vec<IpRange>) -> Self {
        ConnLimit(Arc::new(Inner {
            max_total,
            max_per_client,
            exempt,
            open: Mutex::new(Open::default()),
        }))
    }

    /// Admits a connection from `ip`, or says which cap it would exceed.
    pub fn admit(&self, ip: IpAddr) -> Result<ConnGuard, Refusal> {
        let mut open = self.0.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.0.max_total {
            return Err(Refusal::Total);
        }
        let client = (!any_contains(&self.0.exempt, ip)).then_some(ip);
        if let Some(ip) = client {
            let n = open.per_client.entry(ip).or_default();
            if *n >= self.0.max_per_client {
                return Err(Refusal::PerClient);
            }
            *n += 1;
        }
        open.total += 1;
        Ok(ConnGuard {
            limit: self.0.clone(),
            client,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.0
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut open = self
            .limit
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(ip) = self.client
            && let Some(n) = open.per_client.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                open.per_client.remove(&ip);
            }
        }
    }
}

/// The whole answer written to a refused connection.
pub fn refusal_response(refusal: Refusal) -> String {
    let description = match refusal {
        Refusal::Total => "the server has too many open connections; retry later",
        Refusal::PerClient => "too many open connections from your address; retry later",
    };
    let body =
        serde_json::json!({"code": "ServiceUnavailable", "description": description}).to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 5\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn caps_per_client_and_in_total_and_frees_on_drop() {
        let proxy: IpRange = "10.0.0.1".parse().unwrap_or_else(|e| panic!("{e}"));
        let limit = ConnLimit::new(5, 2, vec![proxy]);
        let a1 = limit.admit(ip("192.0.2.1"));
        let a2 = limit.admit(ip("192.0.2.1"));
        assert!(a1.is_ok() && a2.is_ok());
        assert_eq!(limit.admit(ip("192.0.2.1")).err(), Some(Refusal::PerClient));
        // The proxy is not capped per address, only in total.
        let p: Vec<_> = (0..3).map(|_| limit.admit(ip("10.0.0.1"))).collect();
        assert!(p.iter().all(Result::is_ok));
        assert_eq!(limit.open(), 5);
        assert_eq!(limit.admit(ip("192.0.2.9")).err(), Some(Refusal::Total));
        drop(a1);
        assert!(limit.admit(ip("192.0.2.1")).is_ok());
        drop(p);
        drop(a2);
        assert_eq!(limit.open(), 0);
    }

    #[test]
    fn the_refusal_is_a_complete_http_response() {
        let r = refusal_response(Refusal::PerClient);
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or_default();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(v["code"], "ServiceUnavailable");
    }
}
