//! The `Authorization` header, read once per request into an
//! [`Authentication`]: `Bearer TOKEN` (the scheme in any case, spaces
//! around the token tolerated) or `Basic base64(any-user:TOKEN)` (what QGIS
//! and GDAL store); both stand for the same token.

use super::{Caller, TokensFile};
use base64::Engine;

/// What a request's `Authorization` header established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// No `Authorization` header: an anonymous caller.
    Absent,
    /// A header naming a valid token.
    Valid(Caller),
    /// A header that names no valid token: malformed, another scheme, or a
    /// token not in the tokens file. Always 401.
    Refused(Refusal),
}

/// Why a presented `Authorization` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The header is not `Bearer TOKEN` or `Basic base64(user:TOKEN)`.
    #[error("malformed Authorization header: {0}")]
    Malformed(&'static str),
    /// A well-formed header whose token is not in the tokens file.
    #[error("unknown token")]
    UnknownToken,
}

impl Authentication {
    /// Reads the raw `Authorization` header value (`None` when the request
    /// has none) against the tokens file.
    pub fn of(header: Option<&[u8]>, tokens: &TokensFile) -> Authentication {
        let Some(raw) = header else {
            return Authentication::Absent;
        };
        match presented_token(raw) {
            Err(why) => Authentication::Refused(Refusal::Malformed(why)),
            Ok(token) => match tokens.authenticate(&token) {
                Some(caller) => Authentication::Valid(caller),
                None => Authentication::Refused(Refusal::UnknownToken),
            },
        }
    }

    /// Whether a credential was presented at all (valid or not).
    pub fn presented(&self) -> bool {
        !matches!(self, Authentication::Absent)
    }

    /// The caller: anonymous without a header, the token's caller with a
    /// valid one, the refusal otherwise.
    pub fn caller(&self) -> Result<Caller, Refusal> {
        match self {
            Authentication::Absent => Ok(Caller::Anonymous),
            Authentication::Valid(c) => Ok(c.clone()),
            Authentication::Refused(r) => Err(r.clone()),
        }
    }
}

/// The token an `Authorization` header value carries: `Bearer TOKEN` or
/// `Basic base64(user:TOKEN)`, the scheme case-insensitive, any run of
/// spaces or tabs around the parts.
pub fn presented_token(raw: &[u8]) -> Result<String, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "not UTF-8")?;
    let text = text.trim_matches([' ', '\t']);
    let (scheme, rest) = text
        .split_once([' ', '\t'])
        .ok_or("expected `Bearer TOKEN` or `Basic base64(user:TOKEN)`")?;
    let credentials = rest.trim_matches([' ', '\t']);
    if credentials.is_empty() {
        return Err("no credentials after the scheme");
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        if credentials.contains([' ', '\t']) {
            return Err("a bearer token holds no spaces");
        }
        Ok(credentials.to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(credentials))
            .map_err(|_| "Basic credentials are not base64")?;
        let pair = String::from_utf8(decoded).map_err(|_| "Basic credentials are not UTF-8")?;
        let (_user, password) = pair
            .split_once(':')
            .ok_or("Basic credentials are not `user:password`")?;
        if password.is_empty() {
            return Err("Basic credentials carry no token as the password");
        }
        Ok(password.to_string())
    } else {
        Err("the scheme must be Bearer or Basic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn basic(pair: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    #[test]
    fn bearer_in_any_case_with_spaces() {
        for h in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR   abc  ",
            "  Bearer\tabc",
        ] {
            assert_eq!(presented_token(h.as_bytes()), Ok("abc".into()), "{h:?}");
        }
    }

    #[test]
    fn basic_carries_the_token_as_password() {
        assert_eq!(
            presented_token(basic("qgis:abc").as_bytes()),
            Ok("abc".into())
        );
        assert_eq!(presented_token(basic(":abc").as_bytes()), Ok("abc".into()));
        // The password may itself hold a colon; only the first one splits.
        assert_eq!(presented_token(basic("u:a:b").as_bytes()), Ok("a:b".into()));
        let lower = basic("u:abc").replacen("Basic", "basic", 1);
        assert_eq!(presented_token(lower.as_bytes()), Ok("abc".into()));
        // Unpadded base64 (some clients drop the `=`).
        let unpadded = basic("u:abcd").trim_end_matches('=').to_string();
        assert_eq!(presented_token(unpadded.as_bytes()), Ok("abcd".into()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        for h in [
            "",
            "Bearer",
            "Bearer   ",
            "Bearer a b",
            "Token abc",
            "abc",
            "Basic !!!",
            "Basic dXNlcg==",
        ] {
            assert!(presented_token(h.as_bytes()).is_err(), "{h:?}");
        }
        assert!(presented_token(basic("user:").as_bytes()).is_err());
        assert!(presented_token(b"Bearer \xff").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_header_bytes_give_a_token_or_a_reason(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Ok(t) = presented_token(&raw) {
                proptest::prop_assert!(!t.is_empty());
            }
        }

        #[test]
        fn every_spelling_of_a_token_is_that_token(token in "[!-~]{1,40}", pad in "[ \t]{0,3}", upper in proptest::bool::ANY) {
            let scheme = if upper { "BEARER" } else { "bearer" };
            let header = format!("{pad}{scheme} {pad}{token}{pad}");
            proptest::prop_assert_eq!(presented_token(header.as_bytes()), Ok(token.clone()));
            proptest::prop_assert_eq!(presented_token(basic(&format!("u:{token}")).as_bytes()), Ok(token));
        }
    }

    #[test]
    fn one_outcome_per_header() {
        let mut file = TokensFile::default();
        let plain = file.add("p", Role::Planner, None).unwrap();
        let valid = Authentication::Valid(Caller::Token {
            name: "p".into(),
            role: Role::Planner,
            scope: None,
        });
        let bearer = format!("bearer  {plain}");
        let basic = basic(&format!("anyone:{plain}"));
        assert_eq!(Authentication::of(Some(bearer.as_bytes()), &file), valid);
        assert_eq!(Authentication::of(Some(basic.as_bytes()), &file), valid);
        assert_eq!(Authentication::of(None, &file), Authentication::Absent);
        assert_eq!(
            Authentication::of(Some(b"Bearer nope"), &file),
            Authentication::Refused(Refusal::UnknownToken)
        );
        assert!(matches!(
            Authentication::of(Some(b"Digest x"), &file),
            Authentication::Refused(Refusal::Malformed(_))
        ));
    }
}
