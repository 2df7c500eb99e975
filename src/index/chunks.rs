//! [`ChunkVec`]: a vector whose clone is cheap and whose writes copy only
//! the chunk they touch, so that a live write can derive the next scores
//! from the current ones without copying every unit.

use std::ops::Index;
use std::sync::Arc;

/// Elements per chunk unless the type says otherwise.
pub const CHUNK: usize = 256;

/// A vector in shared chunks of `N` elements: `clone` copies one pointer
/// per chunk, [`ChunkVec::set`] copies the one chunk it changes when that
/// chunk is shared. Smaller chunks make a scattered write copy less and a
/// clone copy more pointers.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkVec<T, const N: usize = CHUNK> {
    chunks: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T, const N: usize> Default for ChunkVec<T, N> {
    fn default() -> Self {
        ChunkVec {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone, const N: usize> ChunkVec<T, N> {
    /// The elements of `items`, in order.
    pub fn from_vec(items: Vec<T>) -> Self {
        let len = items.len();
        let mut chunks = Vec::with_capacity(len.div_ceil(N));
        let mut it = items.into_iter();
        loop {
            let chunk: Vec<T> = it.by_ref().take(N).collect();
            if chunk.is_empty() {
                break;
            }
            chunks.push(Arc::new(chunk));
        }
        ChunkVec { chunks, len }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The element at `i`, if any.
    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks.get(i / N).and_then(|c| c.get(i % N))
    }

    /// Replaces the element at `i` (copying its chunk if it is shared);
    /// does nothing when `i` is out of range.
    pub fn set(&mut self, i: usize, value: T) {
        if let Some(chunk) = self.chunks.get_mut(i / N)
            && let Some(slot) = Arc::make_mut(chunk).get_mut(i % N)
        {
            *slot = value;
        }
    }

    /// Appends `value` (copying the last chunk if it is shared and not
    /// full).
    pub fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < N => Arc::make_mut(last).push(value),
            _ => self.chunks.push(Arc::new(vec![value])),
        }
        self.len += 1;
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: Clone, const N: usize> Index<usize> for ChunkVec<T, N> {
    type Output = T;
    /// Panics when `i` is out of range, as a slice does.
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / N][i % N]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_copies_only_the_shared_chunk() {
        let a: ChunkVec<u32> = ChunkVec::from_vec((0..3000).collect());
        assert_eq!(a.len(), 3000);
        assert_eq!(a[2999], 2999);
        let mut b = a.clone();
        b.set(1500, 7);
        assert_eq!(b[1500], 7);
        assert_eq!(a[1500], 1500);
        assert!(Arc::ptr_eq(&a.chunks[0], &b.chunks[0]));
        assert!(!Arc::ptr_eq(
            &a.chunks[1500 / CHUNK],
            &b.chunks[1500 / CHUNK]
        ));
        assert_eq!(b.iter().count(), 3000);
        assert!(b.get(3000).is_none());
        assert!(ChunkVec::<u8>::from_vec(Vec::new()).is_empty());
        let mut c: ChunkVec<u32> = ChunkVec::from_vec(vec![0u32; 1024]);
        let d = c.clone();
        c.push(1);
        c.push(2);
        assert_eq!((c.len(), c[1025], d.len()), (1026, 2, 1024));
        // Smaller chunks: a write copies 8 elements, not 256.
        let e: ChunkVec<u32, 8> = ChunkVec::from_vec((0..100).collect());
        let mut f = e.clone();
        f.set(17, 0);
        assert_eq!((e[17], f[17], f[99]), (17, 0, 99));
        assert_eq!(f.chunks[17 / 8].len(), 8);
        assert!(Arc::ptr_eq(&e.chunks[3], &f.chunks[3]));
    }
}
