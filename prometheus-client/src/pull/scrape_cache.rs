//! A target's scrape cache, as Prometheus keeps one: each series' text as the target writes
//! it (name and labels between the braces, escapes and all) mapped to the series labels it
//! is stored under, target labels merged and limits checked. A steady scrape then finds
//! every series by its bytes: no labels are parsed, merged, sorted or allocated again.
//!
//! Entries not seen in the last scrape go once they outnumber the series seen by half, so
//! the cache holds about one scrape's series.

use std::collections::HashMap;

use super::storage::SeriesLabels;

/// The series of a target, by their text.
#[derive(Default)]
pub(crate) struct ScrapeCache {
    series: HashMap<Box<[u8]>, Entry, foldhash::fast::RandomState>,
    /// The number of the scrape being read.
    scrape: u64,
    /// Entries found or added in this scrape.
    seen: usize,
    /// Where a key is put together, reused.
    key: Vec<u8>,
}

struct Entry {
    labels: SeriesLabels,
    last_scrape: u64,
}

impl ScrapeCache {
    /// Starts reading a scrape.
    pub(crate) fn begin(&mut self) {
        self.scrape += 1;
        self.seen = 0;
    }

    /// The series written as `name{raw}`, if a scrape has seen it.
    pub(crate) fn get(&mut self, name: &str, raw: &str) -> Option<SeriesLabels> {
        self.set_key(name, raw);
        let entry = self.series.get_mut(self.key.as_slice())?;
        if entry.last_scrape != self.scrape {
            entry.last_scrape = self.scrape;
            self.seen += 1;
        }
        Some(SeriesLabels::clone(&entry.labels))
    }

    /// Remembers the series written as `name{raw}`.
    pub(crate) fn insert(&mut self, name: &str, raw: &str, labels: &SeriesLabels) {
        self.set_key(name, raw);
        let entry = Entry {
            labels: SeriesLabels::clone(labels),
            last_scrape: self.scrape,
        };
        if self
            .series
            .insert(self.key.as_slice().into(), entry)
            .is_none()
        {
            self.seen += 1;
        }
    }

    /// Ends a scrape: series it did not have go, once they are many.
    pub(crate) fn end(&mut self) {
        if self.series.len() > self.seen + self.seen / 2 + 64 {
            let scrape = self.scrape;
            self.series.retain(|_, e| e.last_scrape == scrape);
        }
    }

    /// How many series it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.series.len()
    }

    fn set_key(&mut self, name: &str, raw: &str) {
        self.key.clear();
        self.key.extend_from_slice(name.as_bytes());
        // No name holds `{`: the same text split elsewhere is another key.
        self.key.push(b'{');
        self.key.extend_from_slice(raw.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::storage::series_labels;

    #[test]
    fn series_are_found_by_their_text_and_old_ones_go() {
        let mut cache = ScrapeCache::default();
        let labels = series_labels(vec![("__name__".into(), "a".into())]);
        cache.begin();
        assert!(cache.get("a", "x=\"1\"").is_none());
        cache.insert("a", "x=\"1\"", &labels);
        cache.end();
        cache.begin();
        let found = cache.get("a", "x=\"1\"").expect("seen last scrape");
        assert!(std::sync::Arc::ptr_eq(&found, &labels));
        assert!(cache.get("a", "x=\"2\"").is_none());
        assert!(cache.get("ax", "=\"1\"").is_none());
        cache.end();
        // 200 series once, then only one: the others go.
        cache.begin();
        for i in 0..200 {
            cache.insert("b", &i.to_string(), &labels);
        }
        cache.end();
        assert_eq!(cache.len(), 201);
        cache.begin();
        cache.get("a", "x=\"1\"");
        cache.end();
        assert_eq!(cache.len(), 1);
    }
}
