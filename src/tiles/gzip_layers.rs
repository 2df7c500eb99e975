//! Gzip bodies of tiles made of one deflate segment per layer.
//!
//! A tile is its layers' fields back to back (MVT `Tile.layers`, field 3).
//! The gzip body of a served tile is a gzip member whose deflate stream is
//! one [`Segment`] per field: each compressed on its own (no match reaches
//! into another field), ending on a byte boundary in a non-final block (a
//! sync flush), followed by an empty final block and the trailer (CRC-32 of
//! the whole tile, combined from the fields' own, and its length). The
//! bytes depend only on the tile's bytes, so a layer whose field is kept
//! ([`super::layer_cache`]) enters a rebuilt tile's body without being
//! compressed again, and the body is the one a fresh build makes.
//!
//! What it costs against one stream over the whole tile: a sync flush's
//! five bytes and an empty block per layer, and no match across layers.

use bytes::Bytes;
use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress, Status};
use std::io;
use std::ops::Range;

/// The gzip member header: deflate, no flags, no time, fastest (`XFL` 4),
/// unknown system.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff];

/// An empty final block with fixed codes (`BFINAL` 1, `BTYPE` 01, end of
/// block), from a byte boundary.
const LAST_BLOCK: [u8; 2] = [0x03, 0x00];

/// One field of a tile, compressed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Raw deflate blocks, none final, ending on a byte boundary.
    data: Bytes,
    /// CRC-32 and length of the field's bytes.
    crc: (u32, u32),
}

impl Segment {
    /// Compressed size in bytes.
    pub fn compressed_len(&self) -> usize {
        self.data.len()
    }

    /// CRC-32 and length of the field it holds.
    pub fn crc(&self) -> (u32, u32) {
        self.crc
    }

    /// The segment at `range` of a body [`gzip`] made, whose field has
    /// `crc` ([`Segment::crc`]): the bytes are shared, not copied. `None`
    /// when the range lies outside the body.
    pub fn in_body(body: &Bytes, range: Range<usize>, crc: (u32, u32)) -> Option<Segment> {
        (range.start <= range.end && range.end <= body.len()).then(|| Segment {
            data: body.slice(range),
            crc,
        })
    }

    /// Length of the field it holds.
    pub fn len(&self) -> usize {
        self.crc.1 as usize
    }

    /// Whether the field is empty.
    pub fn is_empty(&self) -> bool {
        self.crc.1 == 0
    }
}

/// Compresses fields into [`Segment`]s, reusing its state between them.
pub struct Deflater {
    compress: Compress,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater").finish_non_exhaustive()
    }
}

impl Default for Deflater {
    fn default() -> Self {
        Deflater::new()
    }
}

impl Deflater {
    /// A compressor at the fastest level (see [`super::cache::gzip`]).
    pub fn new() -> Self {
        Deflater {
            compress: Compress::new(Compression::fast(), false),
        }
    }

    /// The segment of the field made of `parts` back to back.
    pub fn segment(&mut self, parts: &[&[u8]]) -> io::Result<Segment> {
        self.compress.reset();
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut data = Vec::with_capacity(total / 2 + 64);
        let mut crc = Hasher::new();
        for (i, part) in parts.iter().enumerate() {
            crc.update(part);
            let flush = if i + 1 == parts.len() {
                FlushCompress::Sync
            } else {
                FlushCompress::None
            };
            self.feed(part, flush, &mut data)?;
        }
        if parts.is_empty() {
            self.feed(&[], FlushCompress::Sync, &mut data)?;
        }
        let len = u32::try_from(total).map_err(|_| io::Error::other("tile field over 4 GiB"))?;
        Ok(Segment {
            data: Bytes::from(data),
            crc: (crc.finalize(), len),
        })
    }

    /// Compresses all of `input`, then flushes as `flush` asks. The
    /// segment's bytes follow from the input and from this function's
    /// sizing of `out` (a flush that ends exactly at the end of the buffer
    /// adds an empty stored block), the same on every path.
    fn feed(&mut self, input: &[u8], flush: FlushCompress, out: &mut Vec<u8>) -> io::Result<()> {
        let mut rest = input;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(4096));
            }
            let before = self.compress.total_in();
            let status = self
                .compress
                .compress_vec(rest, out, flush)
                .map_err(io::Error::other)?;
            let used = usize::try_from(self.compress.total_in() - before)
                .map_err(|_| io::Error::other("deflate consumed more than it was given"))?;
            rest = rest.get(used..).unwrap_or_default();
            // Done when the input is in and the output had room to spare
            // (the flush is then complete).
            // (A `BufError`, given room: nothing was left to do.)
            if rest.is_empty() && (out.len() < out.capacity() || status == Status::BufError) {
                return Ok(());
            }
        }
    }
}

/// Where each of `segments` lies in the body [`gzip`] makes of them.
pub fn ranges<'s>(segments: impl IntoIterator<Item = &'s Segment>) -> Vec<Range<usize>> {
    let mut at = HEADER.len();
    segments
        .into_iter()
        .map(|s| {
            let r = at..at + s.data.len();
            at = r.end;
            r
        })
        .collect()
}

/// The gzip body of a tile whose fields are `segments`, in order.
pub fn gzip<'s>(segments: impl IntoIterator<Item = &'s Segment> + Clone) -> Vec<u8> {
    let size: usize = segments.clone().into_iter().map(|s| s.data.len()).sum();
    let mut out = Vec::with_capacity(HEADER.len() + size + LAST_BLOCK.len() + 8);
    out.extend_from_slice(&HEADER);
    let mut crc = Hasher::new();
    // ISIZE: the length modulo 2^32.
    let mut len = 0u32;
    for s in segments {
        out.extend_from_slice(&s.data);
        crc.combine(&Hasher::new_with_initial_len(s.crc.0, u64::from(s.crc.1)));
        len = len.wrapping_add(s.crc.1);
    }
    out.extend_from_slice(&LAST_BLOCK);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out
}

/// The gzip body of the tile `tile` (its top-level fields found by their
/// length prefixes), as [`gzip`] makes it from each field's segment.
pub fn gzip_tile(tile: &[u8]) -> io::Result<Vec<u8>> {
    let mut deflater = Deflater::new();
    let segments = fields(tile)?
        .into_iter()
        .map(|f| deflater.segment(&[f]))
        .collect::<io::Result<Vec<_>>>()?;
    Ok(gzip(&segments))
}

/// The top-level length-delimited fields of a protobuf message.
fn fields(message: &[u8]) -> io::Result<Vec<&[u8]>> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not a tile of layer fields");
    let mut out = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let start = at;
        let (key, next) = varint(message, at).ok_or_else(bad)?;
        if key & 7 != 2 {
            return Err(bad());
        }
        let (len, next) = varint(message, next).ok_or_else(bad)?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| next.checked_add(l))
            .filter(|&e| e <= message.len())
            .ok_or_else(bad)?;
        out.push(&message[start..end]);
        at = end;
    }
    Ok(out)
}

/// The varint at `at` and the offset after it.
fn varint(bytes: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(at)?;
        at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some((v, at));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut d = flate2::read::GzDecoder::new(body);
        d.read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("not gzip: {e}"));
        // One member, nothing after it.
        assert_eq!(d.into_inner().len(), 0);
        out
    }

    fn field(tag: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![tag, payload.len() as u8];
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn a_tile_made_of_segments_unzips_to_its_bytes() {
        let a = field(0x1a, &[7; 100]);
        let b = field(0x1a, b"layer two, layer two, layer two");
        let tile = [a.as_slice(), b.as_slice()].concat();
        let body = gzip_tile(&tile).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gunzip(&body), tile);
        // Segments made apart (a kept layer) give the same body.
        let sa = Deflater::new()
            .segment(&[&a[..2], &a[2..]])
            .unwrap_or_else(|e| panic!("{e}"));
        let sb = Deflater::new()
            .segment(&[&b])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sa.len(), a.len());
        assert!(sa.compressed_len() < a.len());
        assert_eq!(gzip([&sa, &sb]), body);
        // Another order: another tile, still whole.
        assert_eq!(
            gunzip(&gzip([&sb, &sa])),
            [b.as_slice(), a.as_slice()].concat()
        );
        // No field: an empty member.
        assert_eq!(gunzip(&gzip([])), Vec::<u8>::new());
        // Empty parts (nothing to compress, flushes with nothing pending)
        // make an empty segment.
        let empty = Deflater::new()
            .segment(&[&[], &[], &[]])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(empty.is_empty());
        assert_eq!(gunzip(&gzip([&sa, &empty, &sb])), tile);
        // A body's segments, taken back out of it, make it again.
        let body = Bytes::from(gzip([&sa, &sb]));
        let r = ranges([&sa, &sb]);
        let back: Vec<Segment> = r
            .iter()
            .zip([&sa, &sb])
            .map(|(r, s)| {
                Segment::in_body(&body, r.clone(), s.crc()).unwrap_or_else(|| panic!("{r:?}"))
            })
            .collect();
        assert_eq!(back, [sa.clone(), sb.clone()]);
        assert_eq!(gzip(&back), body);
        assert!(Segment::in_body(&body, 0..body.len() + 1, sa.crc()).is_none());
    }

    #[test]
    fn large_fields_compress_through_several_rounds() {
        // Incompressible bytes larger than the first output buffer.
        let mut x = 0x9e37_79b9_u32;
        let payload: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        let mut tile = vec![0x1a, 0xe0, 0xa7, 0x12];
        tile.extend_from_slice(&payload);
        let body = gzip_tile(&tile).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gunzip(&body), tile);
    }

    #[test]
    fn bytes_that_are_not_layer_fields_are_refused() {
        assert!(gzip_tile(&[0x08, 0x01]).is_err()); // a varint field
        assert!(gzip_tile(&[0x1a, 0x05, 1, 2]).is_err()); // shorter than said
        assert!(gzip_tile(&[0x1a, 0xff]).is_err()); // unfinished length
        assert_eq!(
            gzip_tile(&[]).map(|b| gunzip(&b)).ok(),
            Some(Vec::<u8>::new())
        );
    }
}
