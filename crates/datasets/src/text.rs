//! Text columns, dictionary-encoded.
//!
//! A text column is stored as its distinct values (the *levels*) and one `u32` code per
//! row. Data sets that monitoring compares are mostly categorical (a handful of levels
//! over a million rows), so this costs four bytes a row where `Vec<Option<String>>` costs
//! a `String` header and a heap allocation a row, and the codes are what a frequency
//! count or a drift test wants anyway. Free text with a distinct value in every row costs
//! about what `Vec<Option<String>>` would.

use std::collections::HashMap;

/// The values of a text column: each distinct value stored once, one code per row.
///
/// Invariants, kept by every constructor: levels are distinct, in the order of their first
/// appearance, and each is used by at least one row; a code is an index into the levels
/// or [`TextValues::MISSING`]. Two columns with the same values in the same rows are
/// therefore equal field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextValues {
    levels: Vec<String>,
    codes: Vec<u32>,
}

impl TextValues {
    /// The code of a missing value.
    pub const MISSING: u32 = u32::MAX;

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The value in `row`, `None` when it is missing.
    ///
    /// # Panics
    /// If `row >= self.len()`, as slice indexing does.
    pub fn get(&self, row: usize) -> Option<&str> {
        self.level(self.codes[row])
    }

    /// The values, row by row.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<&str>> + '_ {
        self.codes.iter().map(|&code| self.level(code))
    }

    /// The distinct values, in the order of their first appearance.
    pub fn levels(&self) -> &[String] {
        &self.levels
    }

    /// One code per row: an index into [`levels`](Self::levels), or
    /// [`MISSING`](Self::MISSING).
    pub fn codes(&self) -> &[u32] {
        &self.codes
    }

    /// The number of missing values.
    pub fn n_missing(&self) -> usize {
        self.codes
            .iter()
            .filter(|&&code| code == Self::MISSING)
            .count()
    }

    /// The rows at `indices`, in that order; levels no chosen row uses are dropped.
    ///
    /// # Panics
    /// If an index is out of range.
    pub(crate) fn take(&self, indices: &[usize]) -> TextValues {
        const UNSEEN: u32 = u32::MAX - 1;
        let mut new_codes = vec![UNSEEN; self.levels.len()];
        let mut levels = Vec::new();
        let codes = indices
            .iter()
            .map(|&row| {
                let code = self.codes[row];
                if code == Self::MISSING {
                    return Self::MISSING;
                }
                let new_code = &mut new_codes[code as usize];
                if *new_code == UNSEEN {
                    *new_code = level_code(levels.len());
                    levels.push(self.levels[code as usize].clone());
                }
                *new_code
            })
            .collect();
        TextValues { levels, codes }
    }

    fn level(&self, code: u32) -> Option<&str> {
        if code == Self::MISSING {
            None
        } else {
            Some(&self.levels[code as usize])
        }
    }
}

impl<S: AsRef<str>> FromIterator<Option<S>> for TextValues {
    fn from_iter<I: IntoIterator<Item = Option<S>>>(values: I) -> Self {
        let values = values.into_iter();
        let mut builder = TextBuilder::with_capacity(values.size_hint().0);
        for value in values {
            builder.push(value.as_ref().map(AsRef::as_ref));
        }
        builder.finish()
    }
}

/// Builds [`TextValues`] row by row, interning each distinct value once.
#[derive(Debug, Default)]
pub(crate) struct TextBuilder {
    /// Each level and its code; moved into the level list by `finish`, so a level's
    /// text is held once.
    index: HashMap<String, u32>,
    codes: Vec<u32>,
}

impl TextBuilder {
    pub(crate) fn with_capacity(n_rows: usize) -> Self {
        TextBuilder {
            index: HashMap::new(),
            codes: Vec::with_capacity(n_rows),
        }
    }

    pub(crate) fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => TextValues::MISSING,
            Some(value) => self.intern(value),
        };
        self.codes.push(code);
    }

    /// Appends a row by code, as [`intern`](Self::intern) returned it.
    pub(crate) fn push_code(&mut self, code: u32) {
        self.codes.push(code);
    }

    /// The code of `value`, a new level if it has not been seen.
    pub(crate) fn intern(&mut self, value: &str) -> u32 {
        if let Some(&code) = self.index.get(value) {
            return code;
        }
        let code = level_code(self.index.len());
        self.index.insert(value.to_owned(), code);
        code
    }

    pub(crate) fn finish(self) -> TextValues {
        let mut levels = vec![String::new(); self.index.len()];
        for (level, code) in self.index {
            levels[code as usize] = level;
        }
        TextValues {
            levels,
            codes: self.codes,
        }
    }
}

/// The code of the level at `position`; a column has far fewer than 2^32 - 2 levels, as
/// the row count of anything this crate holds in memory stays below that.
fn level_code(position: usize) -> u32 {
    u32::try_from(position)
        .ok()
        .filter(|&code| code < TextValues::MISSING - 1)
        .expect("a text column has fewer than 2^32 - 2 distinct values")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(values: &[Option<&str>]) -> TextValues {
        values.iter().copied().collect()
    }

    #[test]
    fn levels_are_distinct_in_order_of_first_appearance() {
        let values = text(&[Some("b"), None, Some("a"), Some("b"), Some("")]);
        assert_eq!(values.levels(), ["b", "a", ""]);
        assert_eq!(values.codes(), [0, TextValues::MISSING, 1, 0, 2]);
        assert_eq!(values.len(), 5);
        assert_eq!(values.n_missing(), 1);
        assert_eq!(values.get(1), None);
        assert_eq!(values.get(3), Some("b"));
        assert_eq!(
            values.iter().collect::<Vec<_>>(),
            [Some("b"), None, Some("a"), Some("b"), Some("")]
        );
    }

    #[test]
    fn take_reorders_and_drops_unused_levels() {
        let values = text(&[Some("x"), Some("y"), None, Some("z")]);
        let taken = values.take(&[3, 2, 3, 1]);
        assert_eq!(taken, text(&[Some("z"), None, Some("z"), Some("y")]));
        assert_eq!(taken.levels(), ["z", "y"]);
        assert!(values.take(&[]).is_empty());
    }

    #[test]
    fn equal_values_make_equal_columns() {
        assert_eq!(text(&[Some("a"), None]), text(&[Some("a"), None]));
        assert_ne!(text(&[Some("a"), None]), text(&[None, Some("a")]));
    }
}
