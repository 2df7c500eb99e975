//! The demo-token guard: the demo tokens' plain text is printed in the
//! README, so `serve` refuses, on an address other than loopback, any
//! tokens file holding one of their hashes (whatever the file is called),
//! unless `--allow-demo-tokens` is given.

use crate::auth::TokensFile;

/// The demo tokens file shipped in `data/`, built in for its hashes.
const DEMO_TOKENS: &str = include_str!("../../data/demo-tokens.toml");

/// The names of the tokens in `file` whose hash is a demo token's.
pub fn demo_tokens_in(file: &TokensFile) -> Vec<String> {
    let demo: Vec<String> = toml::from_str::<TokensFile>(DEMO_TOKENS)
        .map(|d| d.tokens.into_iter().map(|t| t.sha256).collect())
        .unwrap_or_default();
    file.tokens
        .iter()
        .filter(|t| demo.iter().any(|h| h.eq_ignore_ascii_case(t.sha256.trim())))
        .map(|t| t.name.clone())
        .collect()
}

/// Whether `addr` (`host:port`) is a loopback address; a host name other
/// than `localhost` counts as public.
pub fn is_loopback(addr: &str) -> bool {
    addr.parse::<std::net::SocketAddr>()
        .map(|a| a.ip().is_loopback())
        .unwrap_or_else(|_| addr.starts_with("localhost:"))
}

/// Refuses to serve `file` on `addr` when it holds a demo token, `addr`
/// is not loopback and the demo tokens are not explicitly `allowed`.
pub fn check(file: &TokensFile, addr: &str, allowed: bool) -> Result<(), String> {
    let demo = demo_tokens_in(file);
    if demo.is_empty() || allowed || is_loopback(addr) {
        return Ok(());
    }
    Err(format!(
        "refusing to serve demo tokens on {addr}: the tokens file holds {} whose plain text is public ({}). Remove them (`riskmap token revoke NAME`) and add your own, or pass --allow-demo-tokens",
        if demo.len() == 1 { "a token" } else { "tokens" },
        demo.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Role, TokenEntry, hash_token};

    fn entry(name: &str, plain: &str) -> TokenEntry {
        TokenEntry {
            name: name.into(),
            role: Role::Planner,
            scope: None,
            sha256: hash_token(plain),
        }
    }

    #[test]
    fn the_built_in_demo_file_holds_the_readme_tokens() {
        let demo: TokensFile = toml::from_str(DEMO_TOKENS).unwrap_or_default();
        assert_eq!(demo_tokens_in(&demo).len(), 3);
        let planner = TokensFile {
            tokens: vec![entry("renamed", "demo-planner-7f3a91c2")],
        };
        assert_eq!(demo_tokens_in(&planner), ["renamed"]);
    }

    #[test]
    fn a_demo_hash_is_refused_off_loopback_whatever_the_file() {
        let mixed = TokensFile {
            tokens: vec![
                entry("ours", "rm_0123456789abcdef"),
                entry("kept-demo", "demo-admin-4be2d058"),
            ],
        };
        let own = TokensFile {
            tokens: vec![entry("ours", "rm_0123456789abcdef")],
        };
        let refused = check(&mixed, "0.0.0.0:8080", false);
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("kept-demo")),
            "{refused:?}"
        );
        assert!(check(&mixed, "192.168.1.10:80", true).is_ok());
        assert!(check(&mixed, "127.0.0.1:8080", false).is_ok());
        assert!(check(&mixed, "[::1]:8080", false).is_ok());
        assert!(check(&mixed, "localhost:8080", false).is_ok());
        assert!(check(&mixed, "map.example.cn:80", false).is_err());
        assert!(check(&own, "0.0.0.0:8080", false).is_ok());
    }
}
