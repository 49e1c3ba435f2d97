//! A page of a list: which rows a client asks for, and what it gets.

use uuid::Uuid;

/// Which rows to read: at most `first`, after the row `after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub first: u64,
    pub after: Option<Uuid>,
}

/// One page of rows and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slice<T> {
    pub items: Vec<T>,
    /// Whether more rows follow this page.
    pub has_next: bool,
    /// Rows matching the filter, on every page.
    pub total: u64,
}

impl<T> Slice<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Slice<U> {
        Slice {
            items: self.items.into_iter().map(f).collect(),
            has_next: self.has_next,
            total: self.total,
        }
    }
}
