//! A list of lists in two allocations: [`Jagged`].
//!
//! Owns: the per-annotation lists of a file (its reference facts, their resolutions) stored as
//! one flat vector of items plus where each list ends. One `Vec` per annotation cost a 24-byte
//! header and an allocation each (200,000 of them on the 20,000-file benchmark, twice); this is
//! 4 bytes per list and no allocation. Must never: know what it holds.

/// Lists of `T`, read as slices: `jagged[i]` is list `i`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Jagged<T> {
    items: Vec<T>,
    /// `ends[i]`: where list `i` ends in `items` (it starts where list `i - 1` ends, or at 0).
    ends: Vec<u32>,
}

impl<T> Default for Jagged<T> {
    fn default() -> Self {
        Jagged { items: Vec::new(), ends: Vec::new() }
    }
}

impl<T> Jagged<T> {
    /// Room for `lists` lists of `items` items in all.
    pub fn with_capacity(lists: usize, items: usize) -> Self {
        Jagged { items: Vec::with_capacity(items), ends: Vec::with_capacity(lists) }
    }

    /// How many lists.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// List `i`, if there are that many.
    pub fn get(&self, i: usize) -> Option<&[T]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.items[start..end])
    }

    /// Appends one list.
    pub fn push(&mut self, list: impl IntoIterator<Item = T>) {
        self.items.extend(list);
        self.ends.push(u32::try_from(self.items.len()).expect("under 2^32 items per file"));
    }

    /// Every list, in order.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { jagged: self, next: 0, back: self.ends.len() }
    }

    /// Every item of every list, in order.
    pub fn flat(&self) -> &[T] {
        &self.items
    }

    /// The lists, moved into allocations of exactly their size (for what lives as long as
    /// the index); `self` is left empty, with its room (a scratch list of lists, reused).
    pub fn take_exact(&mut self) -> Jagged<T> {
        use crate::syntax::take_exactly;
        Jagged { items: take_exactly(&mut self.items), ends: take_exactly(&mut self.ends) }
    }

    /// The room held for items, in items.
    pub fn capacity(&self) -> usize {
        self.items.capacity()
    }

    /// Gives back the growth slack (see [`crate::syntax::fit_exactly`]): for what lives as
    /// long as the index.
    pub fn fit_exactly(&mut self) {
        crate::syntax::fit_exactly(&mut self.items);
        crate::syntax::fit_exactly(&mut self.ends);
    }
}

impl<T> std::ops::Index<usize> for Jagged<T> {
    type Output = [T];

    /// List `i`; panics when there are not that many.
    fn index(&self, i: usize) -> &[T] {
        self.get(i).expect("a list of the jagged array")
    }
}

/// The lists of a [`Jagged`], as slices.
#[derive(Clone, Debug)]
pub struct Iter<'a, T> {
    jagged: &'a Jagged<T>,
    next: usize,
    back: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a [T];

    fn next(&mut self) -> Option<&'a [T]> {
        if self.next == self.back {
            return None;
        }
        self.next += 1;
        self.jagged.get(self.next - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.back - self.next, Some(self.back - self.next))
    }
}

impl<T> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.next == self.back {
            return None;
        }
        self.back -= 1;
        self.jagged.get(self.back)
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<'a, T> IntoIterator for &'a Jagged<T> {
    type Item = &'a [T];
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T, L: IntoIterator<Item = T>> FromIterator<L> for Jagged<T> {
    fn from_iter<I: IntoIterator<Item = L>>(lists: I) -> Self {
        let lists = lists.into_iter();
        let mut out = Jagged { items: Vec::new(), ends: Vec::with_capacity(lists.size_hint().0) };
        for list in lists {
            out.push(list);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested() -> Vec<Vec<u32>> {
        vec![vec![1, 2], vec![], vec![3], vec![4, 5, 6]]
    }

    #[test]
    fn reads_back_the_lists_it_was_given() {
        let lists = nested();
        let jagged: Jagged<u32> = lists.iter().cloned().collect();
        assert_eq!(jagged.len(), 4);
        assert_eq!(jagged.iter().map(<[u32]>::to_vec).collect::<Vec<_>>(), lists);
        assert_eq!(
            jagged.iter().rev().map(<[u32]>::to_vec).collect::<Vec<_>>(),
            lists.iter().rev().cloned().collect::<Vec<_>>()
        );
        assert_eq!(&jagged[3], &[4, 5, 6]);
        assert_eq!(jagged.get(1), Some(&[][..]));
        assert_eq!(jagged.get(4), None);
        assert_eq!(jagged.flat(), &[1, 2, 3, 4, 5, 6]);
    }

    /// Taken out at exactly its size, the scratch left empty with its room.
    #[test]
    fn take_exact_moves_the_lists_into_exact_allocations() {
        let lists = nested();
        let mut scratch = Jagged::with_capacity(16, 64);
        for list in &lists {
            scratch.push(list.iter().copied());
        }
        let taken = scratch.take_exact();
        assert_eq!(taken.iter().map(<[u32]>::to_vec).collect::<Vec<_>>(), lists);
        assert_eq!((taken.items.capacity(), taken.ends.capacity()), (6, 4));
        assert!(scratch.is_empty() && scratch.flat().is_empty());
        assert!(scratch.capacity() >= 64 && scratch.ends.capacity() >= 16);
    }
}
