//! Pinyin matching of place names for search: "jiudu" (full pinyin) and
//! "jdz" (initials) both find 九都镇. Readings come from the `pinyin`
//! crate's dictionary with every reading of a character (都 is "du" in
//! place names, "dou" elsewhere); characters it does not know (digits,
//! Latin letters) stand for themselves.

use pinyin::ToPinyinMulti;

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
    /// at least two letters: one letter is an id prefix such as `E`), else
    /// `None`.
    pub fn new(q: &str) -> Option<Query> {
        let latin = q
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\'');
        let letters: String = q
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (latin && letters.len() >= 2).then_some(Query(letters))
    }

    /// How `name` matches: some run of its characters spelled, each by a
    /// full reading or its initial letter (the last one may be cut short),
    /// gives the query.
    pub fn fit(&self, name: &str) -> Option<Fit> {
        let readings = readings(name);
        let q = self.0.as_bytes();
        if spells(&readings, 0, q) {
            return Some(Fit::Prefix);
        }
        (1..readings.len())
            .any(|start| spells(&readings, start, q))
            .then_some(Fit::Inside)
    }
}

/// Letters and digits as themselves, for characters without a reading.
const ASCII: &str = "0123456789abcdefghijklmnopqrstuvwxyz";

/// Every reading (toneless, lower case) of each character of `name`.
fn readings(name: &str) -> Vec<Vec<&'static str>> {
    name.chars()
        .map(|c| match c.to_pinyin_multi() {
            Some(multi) => {
                let mut v: Vec<&'static str> = multi.into_iter().map(|p| p.plain()).collect();
                v.sort_unstable();
                v.dedup();
                v
            }
            None => {
                let c = c.to_ascii_lowercase();
                ASCII
                    .find(c)
                    .map(|i| vec![&ASCII[i..=i]])
                    .unwrap_or_default()
            }
        })
        .collect()
}

/// Whether the characters from `at` on spell `q` (see [`Query::fit`]).
fn spells(readings: &[Vec<&'static str>], at: usize, q: &[u8]) -> bool {
    if q.is_empty() {
        return true;
    }
    let Some(options) = readings.get(at) else {
        return false;
    };
    options.iter().any(|r| {
        let r = r.as_bytes();
        if q.len() <= r.len() && r.starts_with(q) {
            return true; // the query ends inside this reading
        }
        (q.starts_with(r) && spells(readings, at + 1, &q[r.len()..]))
            || (r.first() == q.first() && spells(readings, at + 1, &q[1..]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_pinyin_and_initials_find_a_town() {
        let q = Query::new("jiudu").unwrap();
        assert_eq!(q.fit("九都镇"), Some(Fit::Prefix));
        assert_eq!(Query::new("jdz").unwrap().fit("九都镇"), Some(Fit::Prefix));
        assert_eq!(
            Query::new("duzhen").unwrap().fit("九都镇"),
            Some(Fit::Inside)
        );
        assert_eq!(
            Query::new("jiudouzhen").unwrap().fit("九都镇"),
            Some(Fit::Prefix)
        );
        assert_eq!(q.fit("金山社区"), None);
        assert_eq!(
            Query::new("jinshansq").unwrap().fit("金山社区居委会"),
            Some(Fit::Prefix)
        );
    }

    #[test]
    fn only_latin_queries_are_pinyin() {
        assert_eq!(Query::new("九都"), None);
        assert_eq!(Query::new("3505"), None);
        assert_eq!(Query::new("E"), None);
        assert_eq!(Query::new("Jiu Du"), Some(Query("jiudu".into())));
    }
}
