//! Copies of buffers that keep their capacity. A derived `Clone` keeps only
//! a vector's length, so a forked run (every scenario of a compare after the
//! first, every point of a sweep) would grow each buffer again in its first
//! busy months, copying it each time; these keep what the run it came from
//! had grown to.

use std::collections::VecDeque;

/// A copy of `v` with `v`'s capacity.
pub(crate) fn clone_with_capacity<T: Clone>(v: &Vec<T>) -> Vec<T> {
    let mut c = Vec::with_capacity(v.capacity());
    c.extend_from_slice(v);
    c
}

/// A copy of `v` with `v`'s capacity, each element copied by `elem`.
pub(crate) fn deque_with_capacity<T>(v: &VecDeque<T>, elem: impl Fn(&T) -> T) -> VecDeque<T> {
    let mut c = VecDeque::with_capacity(v.capacity());
    c.extend(v.iter().map(elem));
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_keep_contents_and_capacity() {
        let mut v = Vec::with_capacity(100);
        v.extend([1, 2, 3]);
        let c = clone_with_capacity(&v);
        assert_eq!(c, v);
        assert!(c.capacity() >= 100);
        let mut d = VecDeque::with_capacity(50);
        d.extend([4, 5]);
        let e = deque_with_capacity(&d, Clone::clone);
        assert_eq!(e, d);
        assert!(e.capacity() >= 50);
    }
}
