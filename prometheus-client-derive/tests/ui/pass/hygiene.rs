// Generated code must not depend on the user's prelude.
#![allow(dead_code)]

use prometheus_client::{Counter, Histogram, LabelSet, LabelValue, Metrics};

struct Result;
struct Option;
struct Box;
struct Vec;
struct String;
struct Default;
struct Clone;

#[derive(LabelValue)]
enum Kind {
    A,
}

#[derive(LabelSet)]
struct Labels {
    kind: Kind,
}

#[derive(Metrics)]
#[metrics(prefix = "hygiene")]
struct App {
    /// Count.
    count: Counter,
    /// Latency.
    #[metric(buckets = [1.0])]
    latency: Histogram,
}

fn main() {
    let family = prometheus_client::Family::<Labels, Counter>::default();
    family.get_or_create(&Labels { kind: Kind::A }).inc();
    let registry = prometheus_client::Registry::new();
    let app = <App as Metrics>::register(&registry);
    assert!(app.is_ok());
}
