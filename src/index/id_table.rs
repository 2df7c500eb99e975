//! [`IdTable`]: feature indices by string id, without a copy of the ids.
//!
//! A map from id to index (`HashMap<String, u32>`) holds a second copy of
//! every id, one allocation each: for the province's 1,050,000 enterprises
//! and 330,702 hidden dangers that was a fifth of indexing at start-up. The
//! table keeps only the indices, hashed by id; a lookup compares the id
//! asked for with the id of the feature the table points at, which the
//! caller reads from its own list.

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Indices of features by their id; the first feature with a repeated id
/// wins. The ids stay in the caller's features (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct IdTable {
    table: HashTable<u32>,
    hasher: RandomState,
}

impl IdTable {
    /// The table of `count` features whose ids `id_of` gives by index.
    pub fn build<'a>(count: usize, id_of: impl Fn(u32) -> &'a str) -> IdTable {
        let hasher = RandomState::default();
        let mut table = HashTable::with_capacity(count);
        for i in 0..count as u32 {
            let id = id_of(i);
            let hash = hasher.hash_one(id);
            if table.find(hash, |&j| id_of(j) == id).is_none() {
                table.insert_unique(hash, i, |&j| hasher.hash_one(id_of(j)));
            }
        }
        IdTable { table, hasher }
    }

    /// The index of the feature with `id`; `id_of` must read the same
    /// features the table was built from.
    pub fn get<'a>(&self, id: &str, id_of: impl Fn(u32) -> &'a str) -> Option<u32> {
        self.table
            .find(self.hasher.hash_one(id), |&j| id_of(j) == id)
            .copied()
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the table holds no id.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_id_and_the_first_of_a_repeated_one() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("E{}", i % 9_000)).collect();
        let table = IdTable::build(ids.len(), |i| &ids[i as usize]);
        assert_eq!(table.len(), 9_000);
        for (i, id) in ids.iter().enumerate() {
            let expected = if i < 9_000 { i } else { i - 9_000 };
            assert_eq!(table.get(id, |j| &ids[j as usize]), Some(expected as u32));
        }
        assert_eq!(table.get("E9000", |j| &ids[j as usize]), None);
        assert_eq!(table.get("", |j| &ids[j as usize]), None);
        let empty = IdTable::build(0, |_| "");
        assert!(empty.is_empty());
        assert_eq!(empty.get("E1", |_| ""), None);
    }
}
