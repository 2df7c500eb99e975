//! Pinyin matching of place names for search: "jiudu" (full pinyin) and
//! "jdz" (initials) both find 九都镇. Readings come from the `pinyin`
//! crate's dictionary; characters it does not know (digits, Latin letters)
//! stand for themselves.

use pinyin::ToPinyin;

/// How well a name matched a query, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    /// The name (or its pinyin) starts with the query.
    Prefix,
    /// The query is found inside the name (or its pinyin).
    Inside,
}

/// A Latin-letter query, lower case, without spaces or apostrophes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query(String);

impl Query {
    /// The query if it is pinyin-like (ASCII letters, spaces, apostrophes,
    /// at least one letter), else `None`.
    pub fn new(q: &str) -> Option<Query> {
        let latin = q
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\'');
        let letters: String = q
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (latin && !letters.is_empty()).then_some(Query(letters))
    }

    /// How `name` matches: by its full pinyin or by its initials.
    pub fn fit(&self, name: &str) -> Option<Fit> {
        let (full, initials) = spell(name);
        if full.starts_with(&self.0) || initials.starts_with(&self.0) {
            Some(Fit::Prefix)
        } else if full.contains(&self.0) || initials.contains(&self.0) {
            Some(Fit::Inside)
        } else {
            None
        }
    }
}

/// The full pinyin (toneless, joined) and the initials of `name`.
pub fn spell(name: &str) -> (String, String) {
    let mut full = String::with_capacity(name.len() * 2);
    let mut initials = String::with_capacity(name.len());
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                let c = c.to_ascii_lowercase();
                full.push(c);
                initials.push(c);
            }
            None => {}
        }
    }
    (full, initials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_pinyin_and_initials_find_a_town() {
        let q = Query::new("jiudu").unwrap();
        assert_eq!(q.fit("九都镇"), Some(Fit::Prefix));
        assert_eq!(Query::new("jdz").unwrap().fit("九都镇"), Some(Fit::Prefix));
        assert_eq!(Query::new("duzhen").unwrap().fit("九都镇"), Some(Fit::Inside));
        assert_eq!(q.fit("金山社区"), None);
    }

    #[test]
    fn only_latin_queries_are_pinyin() {
        assert_eq!(Query::new("九都"), None);
        assert_eq!(Query::new("3505"), None);
        assert_eq!(Query::new("Jiu Du"), Some(Query("jiudu".into())));
    }
}
