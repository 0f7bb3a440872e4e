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

#[derive(PartialEq, LabelSet)]
struct Labels {
    kind: Kind,
}

impl PartialEq for Kind {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ::core::clone::Clone for Labels {
    fn clone(&self) -> Self {
        Labels { kind: match self.kind { Kind::A => Kind::A } }
    }
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
    let registry = prometheus_client::Registry::new();
    let app = <App as Metrics>::register(&registry);
    assert!(app.is_ok());
}
