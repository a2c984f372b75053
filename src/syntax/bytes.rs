//! Byte searches in short texts: the parser's searches of one comment line or argument.
//!
//! Owns: [`find_byte`] and [`find_byte2`], the first offset of one byte (or either of two) in
//! a slice. Must never: answer differently from `memchr` (a property test holds them to it),
//! or read outside the slice.
//!
//! Why not `memchr` alone: the parser searches each annotation line a dozen times (a keyword's
//! first letter, a `"`, a `-`, a `#`), each over 20-100 bytes, where `memchr`'s cost per call
//! (its run-time choice of routine, its set-up for long texts) was most of the work: ~55
//! instructions a call for one byte and ~140 for two, ~15M of the ~247M of a cold check of
//! the dense benchmark. Here the first `LONG` bytes are read 16 at a time with SSE2 (part of
//! every x86_64 target, so nothing is chosen at run time), the last partial block as the
//! slice's last 16 bytes, overlapping what was read (whose bytes held no match); shorter than
//! 16 bytes, a byte at a time; past `LONG` bytes, and on other targets, by `memchr`.

/// How much of a text is searched 16 bytes at a time before `memchr`'s 32-byte loop takes
/// over (its set-up then pays).
const LONG: usize = 128;

/// The offset of the first `a` in `hay`: `memchr::memchr(a, hay)`.
#[inline]
pub fn find_byte(a: u8, hay: &[u8]) -> Option<usize> {
    find_byte2(a, a, hay)
}

/// The offset of the first `a` or `b` in `hay`: `memchr::memchr2(a, b, hay)`. A long `hay` is
/// searched `LONG` bytes first, then by `memchr` (a comment searched for its first line
/// break mostly has one within a line).
#[inline]
pub fn find_byte2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    if hay.len() < 16 {
        return hay.iter().position(|&x| x == a || x == b);
    }
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        let head = hay.len().min(LONG);
        if let Some(at) = sse2::find2(a, b, &hay[..head]) {
            return Some(at);
        }
        if head == hay.len() {
            return None;
        }
        let rest = &hay[head..];
        let found = if a == b { memchr::memchr(a, rest) } else { memchr::memchr2(a, b, rest) };
        found.map(|at| head + at)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    if a == b { memchr::memchr(a, hay) } else { memchr::memchr2(a, b, hay) }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    /// [`super::find_byte2`] for `16 <= hay.len()`.
    #[inline]
    pub(super) fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
        debug_assert!(hay.len() >= 16);
        // SAFETY: the function needs SSE2, which this build enables for every CPU it runs on
        // (the `cfg` of this module).
        unsafe { find2_sse2(a, b, hay) }
    }

    #[target_feature(enable = "sse2")]
    fn find2_sse2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
        let (va, vb) = (_mm_set1_epi8(a as i8), _mm_set1_epi8(b as i8));
        let mut at = 0;
        while at + 16 <= hay.len() {
            let mask = block_mask(&hay[at..at + 16], va, vb);
            if mask != 0 {
                return Some(at + mask.trailing_zeros() as usize);
            }
            at += 16;
        }
        if at == hay.len() {
            return None;
        }
        // The last 16 bytes: those before `at` were read above and held no match.
        let last = hay.len() - 16;
        let mask = block_mask(&hay[last..], va, vb);
        (mask != 0).then(|| last + mask.trailing_zeros() as usize)
    }

    /// Bit `i` set when `block[i]` is `a` or `b` (broadcast in `va`, `vb`).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn block_mask(block: &[u8], va: __m128i, vb: __m128i) -> u32 {
        assert!(block.len() == 16);
        // SAFETY: `block` holds 16 readable bytes (asserted); the load is unaligned.
        let v = unsafe { _mm_loadu_si128(block.as_ptr().cast()) };
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb))) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_length_and_position_agrees_with_memchr() {
        for len in 0..=LONG + 40 {
            for at in 0..=len {
                let mut hay = vec![b'x'; len];
                if at < len {
                    hay[at] = b'a';
                }
                assert_eq!(find_byte(b'a', &hay), memchr::memchr(b'a', &hay), "len {len} at {at}");
                assert_eq!(
                    find_byte2(b'q', b'a', &hay),
                    memchr::memchr2(b'q', b'a', &hay),
                    "len {len} at {at}"
                );
                // A second match later never hides the first.
                if at + 1 < len {
                    hay[len - 1] = b'q';
                    assert_eq!(
                        find_byte2(b'a', b'q', &hay),
                        memchr::memchr2(b'a', b'q', &hay),
                        "len {len} at {at}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_memchr(hay in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'B'), any::<u8>()], 0..300),
                              a in prop_oneof![Just(b'a'), any::<u8>()], b in prop_oneof![Just(b'B'), any::<u8>()]) {
            prop_assert_eq!(find_byte(a, &hay), memchr::memchr(a, &hay));
            prop_assert_eq!(find_byte2(a, b, &hay), memchr::memchr2(a, b, &hay));
        }
    }
}
