//! Field names for Shapefile DBF tables, which allow at most 10 bytes.
//!
//! Canonical fields longer than that have a documented short name
//! ([`SHORT_NAMES`]); riskmap writes them, and reads them back (as well as
//! the plain 10-byte truncation that `ogr2ogr` and desktop GIS produce).
//! Any other long name (a Chinese header, say) is cut at a character
//! boundary and numbered if that collides: [`dbf_names`].

/// Most bytes in a DBF field name.
pub const DBF_NAME_BYTES: usize = 10;

/// Canonical field → its short name in a Shapefile. Every canonical field
/// longer than 10 bytes is here; shorter ones keep their names.
pub const SHORT_NAMES: &[(&str, &str)] = &[
    ("hidden_dangers_open", "hd_open"),
    ("major_hidden_dangers_open", "major_hd"),
    ("enterprise_id", "ent_id"),
    ("blacklisted", "blacklist"),
    ("parent_code", "parent"),
    ("description", "descr"),
    ("responsible", "respons"),
];

/// The documented short name of a canonical field, if it has one.
pub fn short_name(field: &str) -> Option<&'static str> {
    SHORT_NAMES
        .iter()
        .find(|(long, _)| *long == field)
        .map(|(_, short)| *short)
}

/// The longest prefix of `name` of at most `max` bytes that ends on a
/// character boundary.
pub fn truncate_bytes(name: &str, max: usize) -> &str {
    if name.len() <= max {
        return name;
    }
    let mut end = max;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// DBF names for `columns`, in order: the documented short name, else the
/// name itself if it fits, else its first 10 bytes; a name already taken
/// gets a numeric suffix (`name_1`, `name_2`, …) within the 10 bytes.
/// Names are compared case-insensitively, as DBF readers do.
pub fn dbf_names<S: AsRef<str>>(columns: &[S]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::with_capacity(columns.len());
    let mut out = Vec::with_capacity(columns.len());
    for c in columns {
        let c = c.as_ref();
        let base = short_name(c).unwrap_or_else(|| truncate_bytes(c, DBF_NAME_BYTES));
        let mut name = base.to_string();
        let mut n = 1;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            let suffix = format!("_{n}");
            name = format!(
                "{}{suffix}",
                truncate_bytes(base, DBF_NAME_BYTES - suffix.len())
            );
            n += 1;
        }
        taken.push(name.clone());
        out.push(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_fit_and_are_unique() {
        for (long, short) in SHORT_NAMES {
            assert!(long.len() > DBF_NAME_BYTES, "{long} needs no short name");
            assert!(short.len() <= DBF_NAME_BYTES, "{short}");
        }
        let shorts: Vec<&str> = SHORT_NAMES.iter().map(|(_, s)| *s).collect();
        let mut dedup = shorts.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), shorts.len());
    }

    #[test]
    fn long_and_chinese_names_are_cut_and_numbered() {
        let names = dbf_names(&[
            "parent_code",
            "未整改重大隐患数",
            "未整改重大隐患",
            "population",
            "POPULATION",
        ]);
        assert_eq!(
            names,
            ["parent", "未整改", "未整_1", "population", "POPULATI_1"]
        );
        assert!(names.iter().all(|n| n.len() <= DBF_NAME_BYTES));
    }
}
