//! No query text panics the parser or the evaluator, or runs past its deadline: any input is
//! checked, parsed and evaluated (instant and range) against a small fixed store.

#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use prometheus_client::pull::{
    series_labels, MemoryStorage, QueryEngine, QueryError, QueryLimits, Storage,
};

static STORE: LazyLock<MemoryStorage> = LazyLock::new(|| {
    let storage = MemoryStorage::default();
    for (name, le) in [("h_bucket", "0.1"), ("h_bucket", "+Inf"), ("c_total", ""), ("up", "")] {
        let mut labels = vec![("__name__".to_owned(), name.to_owned()), ("job".into(), "j".into())];
        if !le.is_empty() {
            labels.push(("le".into(), le.into()));
        }
        let labels = series_labels(labels);
        let samples: Vec<_> = (0..20).map(|i| (labels.clone(), i * 15_000, i as f64)).collect();
        storage.append(&samples).expect("a small store");
    }
    storage
});

static ENGINE: LazyLock<QueryEngine> = LazyLock::new(|| {
    QueryEngine::new(QueryLimits {
        max_samples: 100_000,
        timeout: Duration::from_secs(5),
        ..QueryLimits::default()
    })
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let instant = ENGINE.instant(&*STORE, text, 300_000);
    assert_ne!(instant, Err(QueryError::Panicked), "{text:?}");
    let range = ENGINE.range(&*STORE, text, 0, 300_000, 15_000);
    assert_ne!(range, Err(QueryError::Panicked), "{text:?}");
});
