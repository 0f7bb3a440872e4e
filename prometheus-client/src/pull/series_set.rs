//! The series of one scrape, to compare with the last: which went away (they get stale
//! markers) and which are new. A steady scrape hands the very same labels (`Arc`s from its
//! scrape cache) each time, so series are found by their labels' address, and by the labels
//! themselves only when an address misses (a protobuf scrape, or a series the cache dropped).

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::storage::{LabelsSet, SeriesLabels};

/// A set of series labels, looked up by address first.
#[derive(Default)]
pub(crate) struct SeriesSet {
    by_address: HashMap<usize, SeriesLabels, foldhash::fast::RandomState>,
    /// The same labels by content, built on the first lookup an address misses.
    by_content: OnceCell<LabelsSet>,
}

fn address(labels: &SeriesLabels) -> usize {
    Arc::as_ptr(labels).cast::<()>() as usize
}

impl SeriesSet {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &SeriesLabels> {
        self.by_address.values()
    }

    pub(crate) fn contains(&self, labels: &SeriesLabels) -> bool {
        self.by_address.contains_key(&address(labels))
            || self
                .by_content
                .get_or_init(|| self.by_address.values().cloned().collect())
                .contains(labels)
    }

    /// The series of `self` that `other` does not hold.
    pub(crate) fn missing_from<'s>(
        &'s self,
        other: &'s SeriesSet,
    ) -> impl Iterator<Item = &'s SeriesLabels> + 's {
        self.iter().filter(|labels| !other.contains(labels))
    }
}

impl<'l> FromIterator<&'l SeriesLabels> for SeriesSet {
    fn from_iter<I: IntoIterator<Item = &'l SeriesLabels>>(labels: I) -> Self {
        let by_address = labels
            .into_iter()
            .map(|labels| (address(labels), Arc::clone(labels)))
            .collect();
        SeriesSet {
            by_address,
            by_content: OnceCell::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::storage::series_labels;

    fn labels(name: &str) -> SeriesLabels {
        series_labels(vec![("__name__".into(), name.into())])
    }

    #[test]
    fn series_are_found_by_address_or_by_labels() {
        let (a, b) = (labels("a"), labels("b"));
        let previous: SeriesSet = [&a, &b].into_iter().collect();
        // The same `a`, and `b` under new labels of the same content.
        let b_again = labels("b");
        let current: SeriesSet = [&a, &b_again].into_iter().collect();
        assert_eq!(previous.missing_from(&current).count(), 0);
        let c = labels("c");
        let next: SeriesSet = [&a, &c].into_iter().collect();
        let gone: Vec<&SeriesLabels> = current.missing_from(&next).collect();
        assert_eq!(gone, [&b_again]);
        let added: Vec<&SeriesLabels> = next.missing_from(&current).collect();
        assert_eq!(added, [&c]);
    }

    #[test]
    fn a_steady_scrape_never_hashes_labels() {
        let (a, b) = (labels("a"), labels("b"));
        let previous: SeriesSet = [&a, &b].into_iter().collect();
        let current: SeriesSet = [&a, &b].into_iter().collect();
        assert_eq!(previous.missing_from(&current).count(), 0);
        assert_eq!(current.missing_from(&previous).count(), 0);
        assert!(previous.by_content.get().is_none() && current.by_content.get().is_none());
    }
}
