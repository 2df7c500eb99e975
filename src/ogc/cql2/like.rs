//! `LIKE` patterns: `%` any run of characters, `_` one character, `\`
//! escapes the next character. Matching is iterative (no recursion, no
//! exponential backtracking).

/// One element of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// This character.
    Char(char),
    /// `_`: any one character.
    One,
    /// `%`: any run of characters, possibly empty.
    Any,
}

/// A parsed `LIKE` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Piece>);

impl Pattern {
    /// Parses `text` (consecutive `%` are merged).
    pub fn new(text: &str) -> Pattern {
        let mut out = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            let piece = match c {
                '\\' => Piece::Char(chars.next().unwrap_or('\\')),
                '%' => Piece::Any,
                '_' => Piece::One,
                c => Piece::Char(c),
            };
            if piece == Piece::Any && out.last() == Some(&Piece::Any) {
                continue;
            }
            out.push(piece);
        }
        Pattern(out)
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.0;
        let (mut ti, mut pi) = (0, 0);
        // Where the last `%` was and which text position it now covers up to.
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(Piece::Any) => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(Piece::One) => {
                    pi += 1;
                    ti += 1;
                }
                Some(Piece::Char(c)) if *c == t[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi.min(p.len())..].iter().all(|x| *x == Piece::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        let m = |p: &str, t: &str| Pattern::new(p).matches(t);
        assert!(m("%社区%", "金山社区"));
        assert!(m("%社区%", "社区"));
        assert!(!m("%社区%", "金山街道"));
        assert!(m("金_社区", "金山社区"));
        assert!(!m("金_社区", "金山山社区"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("%", ""));
        assert!(m("a%b%c", "aXXbYYc"));
        assert!(!m("a%b%c", "aXXbYY"));
        assert!(m("100\\%", "100%"));
        assert!(!m("100\\%", "1000"));
        assert!(m("a\\_b", "a_b"));
        assert!(!m("a\\_b", "axb"));
        // Many stars stay linear-ish, and never recurse.
        let long = "a".repeat(5000);
        assert!(!m(&"%a".repeat(200).replace("%a%a", "%a%b"), &long));
    }
}
