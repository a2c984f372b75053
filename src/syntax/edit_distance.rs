//! The edit distance behind every "did you mean": misspelt verbs ([`super::verbs`]) and
//! dangling ids (`analysis::suggest`).
//!
//! Owns: the optimal-string-alignment distance (insertions, deletions, substitutions and swaps
//! of two adjacent items; no substring is edited twice), computed only up to a bound and only
//! near the diagonal. Must never: allocate (the prefilter runs it on `@words` of files that
//! hold no verb), or compare sequences longer than [`MAX_LEN`].

/// Longest sequence compared (the longest id "did you mean" compares; verbs are shorter).
pub const MAX_LEN: usize = crate::limits::MAX_SUGGESTION_ID_CHARS;

/// The distance between `a` and `b` when it is at most `max`; `None` when it is more, or when
/// either is longer than [`MAX_LEN`]. Only the cells within `max` of the diagonal are
/// computed: at most `a.len() * (2 * max + 1)` of them (see [`cells`]).
pub fn osa_distance_within<T: PartialEq>(a: &[T], b: &[T], max: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max || n > MAX_LEN || m > MAX_LEN {
        return None;
    }
    // Any value over `max` stands for "too far"; cells outside the band are too far.
    let far = max + 1;
    let mut rows = [[far; MAX_LEN + 1]; 3];
    for (j, cell) in rows[0].iter_mut().enumerate().take(m.min(max) + 1) {
        *cell = j;
    }
    let mut previous_row_min = 0;
    for i in 1..=n {
        let (cur, prev, prev2) = (i % 3, (i - 1) % 3, (i + 1) % 3);
        let (lo, hi) = (i.saturating_sub(max).max(1), (i + max).min(m));
        // The cells next to the band: the next row reads them.
        rows[cur][lo - 1] = if lo == 1 { i.min(far) } else { far };
        if hi < m {
            rows[cur][hi + 1] = far;
        }
        let mut row_min = rows[cur][lo - 1];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[prev][j] + 1).min(rows[cur][j - 1] + 1).min(rows[prev][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[prev2][j - 2] + 1);
            }
            rows[cur][j] = v.min(far);
            row_min = row_min.min(v);
        }
        // A row draws on the two rows above it: when both exceed `max`, so does every later one.
        if row_min > max && previous_row_min > max {
            return None;
        }
        previous_row_min = row_min;
    }
    let distance = rows[n % 3][m];
    (distance <= max).then_some(distance)
}

/// How many cells [`osa_distance_within`] computes at most for an `a` of `a_len` items.
pub fn cells(a_len: usize, max: usize) -> usize {
    a_len * (2 * max + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_agrees_with_the_full_distance() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut within = 0;
        for _ in 0..20_000 {
            let a: Vec<u8> = (0..next(12)).map(|_| b"abc"[next(3)]).collect();
            let b: Vec<u8> = (0..next(12)).map(|_| b"abc"[next(3)]).collect();
            let max = next(5);
            let full =
                strsim::osa_distance(std::str::from_utf8(&a).unwrap(), std::str::from_utf8(&b).unwrap());
            let expected = (full <= max).then_some(full);
            assert_eq!(osa_distance_within(&a, &b, max), expected, "{a:?} {b:?} {max}");
            within += usize::from(expected.is_some());
        }
        assert!(within > 2_000, "{within}");
    }

    #[test]
    fn swaps_count_once_and_long_inputs_are_refused() {
        assert_eq!(osa_distance_within(b"csfr", b"csrf", 1), Some(1));
        assert_eq!(osa_distance_within(b"ca", b"abc", 2), None, "OSA, not Damerau: 3 edits");
        assert_eq!(osa_distance_within(b"", b"ab", 2), Some(2));
        let long = [b'a'; MAX_LEN + 1];
        assert_eq!(osa_distance_within(&long, &long, 0), None);
        assert_eq!(osa_distance_within(&long[1..], &long[1..], 0), Some(0));
    }
}
