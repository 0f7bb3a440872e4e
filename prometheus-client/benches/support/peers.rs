//! The same workloads set up in each library: ours, `prometheus` 0.14, `prometheus-client`
//! 0.26 (here `pcr`) and `metrics` 0.24 with `metrics-exporter-prometheus` 0.18. Same names,
//! label names and values everywhere; label values are `&'static str` for every library, so
//! no library pays for building its keys.

#![allow(dead_code)]

/// client_golang's default buckets, the same in every library.
pub(crate) const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// `n` distinct label value pairs `(a, b)`: `a` in `n / width` values, `b` in `width`.
pub(crate) fn label_pairs(n: usize, width: usize) -> Vec<(&'static str, &'static str)> {
    (0..n)
        .map(|i| {
            (
                leak(format!("value-{}", i / width)),
                leak(format!("{}", i % width)),
            )
        })
        .collect()
}

/// Family names `family_0` … for the encode workloads.
pub(crate) fn family_names(n: usize) -> Vec<&'static str> {
    (0..n).map(|i| leak(format!("family_{i}"))).collect()
}

/// The four libraries' registries for an encode workload: counter or histogram families.
pub(crate) type Registries = (
    prometheus_client::Registry,
    prometheus::Registry,
    prometheus_client_peer::registry::Registry,
    metrics_exporter_prometheus::PrometheusRecorder,
);

/// Builds `families` families of `sets` label sets each, in every library.
pub(crate) fn registries(histograms: bool, families: usize, sets: usize) -> Registries {
    if histograms {
        (
            ours::histograms(families, sets),
            prom::histograms(families, sets),
            pcr::histograms(families, sets),
            metrics_rs::histograms(families, sets),
        )
    } else {
        (
            ours::counters(families, sets),
            prom::counters(families, sets),
            pcr::counters(families, sets),
            metrics_rs::counters(families, sets),
        )
    }
}

pub(crate) mod ours {
    use prometheus_client::encoding::Format;
    use prometheus_client::{Counter, Family, Histogram, Registry};

    pub(crate) type Labeled = Family<[String; 2], Counter>;

    pub(crate) fn counters(families: usize, sets: usize) -> Registry {
        let registry = Registry::new();
        let pairs = super::label_pairs(sets, 10);
        for (f, name) in super::family_names(families).into_iter().enumerate() {
            let family = registry
                .register(name, "A counter family.", Labeled::new(["a", "b"]))
                .expect("valid");
            for (i, (a, b)) in pairs.iter().enumerate() {
                family.get_or_create(&[*a, *b]).inc_by((f * i) as u64);
            }
        }
        registry
    }

    pub(crate) fn histograms(families: usize, sets: usize) -> Registry {
        let registry = Registry::new();
        let pairs = super::label_pairs(sets, 10);
        for name in super::family_names(families) {
            let family = registry
                .register(
                    name,
                    "A histogram family.",
                    Family::<[String; 2], Histogram>::new(["a", "b"]),
                )
                .expect("valid");
            for (i, (a, b)) in pairs.iter().enumerate() {
                family.get_or_create(&[*a, *b]).observe(0.003 * i as f64);
            }
        }
        registry
    }

    pub(crate) fn encode(registry: &Registry, out: &mut Vec<u8>) -> usize {
        out.clear();
        registry.encode(Format::Text, out).expect("encodes");
        out.len()
    }
}

pub(crate) mod prom {
    use prometheus::{
        Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
    };

    pub(crate) fn labeled(name: &str) -> IntCounterVec {
        IntCounterVec::new(Opts::new(name, "A counter family."), &["a", "b"]).expect("valid")
    }

    pub(crate) fn counters(families: usize, sets: usize) -> Registry {
        let registry = Registry::new();
        let pairs = super::label_pairs(sets, 10);
        for (f, name) in super::family_names(families).into_iter().enumerate() {
            let family = labeled(&format!("{name}_total"));
            registry
                .register(Box::new(family.clone()))
                .expect("registers");
            for (i, (a, b)) in pairs.iter().enumerate() {
                family.with_label_values(&[*a, *b]).inc_by((f * i) as u64);
            }
        }
        registry
    }

    pub(crate) fn histograms(families: usize, sets: usize) -> Registry {
        let registry = Registry::new();
        let pairs = super::label_pairs(sets, 10);
        for name in super::family_names(families) {
            let opts =
                HistogramOpts::new(name, "A histogram family.").buckets(super::BUCKETS.to_vec());
            let family = HistogramVec::new(opts, &["a", "b"]).expect("valid");
            registry
                .register(Box::new(family.clone()))
                .expect("registers");
            for (i, (a, b)) in pairs.iter().enumerate() {
                family
                    .with_label_values(&[*a, *b])
                    .observe(0.003 * i as f64);
            }
        }
        registry
    }

    pub(crate) fn encode(registry: &Registry, out: &mut Vec<u8>) -> usize {
        out.clear();
        TextEncoder::new()
            .encode(&registry.gather(), out)
            .expect("encodes");
        out.len()
    }
}

pub(crate) mod pcr {
    use prometheus_client_peer::encoding::text::encode as encode_text;
    use prometheus_client_peer::metrics::counter::Counter;
    use prometheus_client_peer::metrics::family::Family;
    use prometheus_client_peer::metrics::histogram::Histogram;
    use prometheus_client_peer::registry::Registry;

    pub(crate) type Labels = [(&'static str, &'static str); 2];
    pub(crate) type Labeled = Family<Labels, Counter>;
    pub(crate) type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

    pub(crate) fn histogram() -> Histogram {
        Histogram::new(super::BUCKETS.iter().copied())
    }

    pub(crate) fn counters(families: usize, sets: usize) -> Registry {
        let mut registry = Registry::default();
        let pairs = super::label_pairs(sets, 10);
        for (f, name) in super::family_names(families).into_iter().enumerate() {
            let family = Labeled::default();
            registry.register(name, "A counter family.", family.clone());
            for (i, (a, b)) in pairs.iter().enumerate() {
                family
                    .get_or_create(&[("a", *a), ("b", *b)])
                    .inc_by((f * i) as u64);
            }
        }
        registry
    }

    pub(crate) fn histograms(families: usize, sets: usize) -> Registry {
        let mut registry = Registry::default();
        let pairs = super::label_pairs(sets, 10);
        for name in super::family_names(families) {
            let family = Histograms::new_with_constructor(histogram as fn() -> Histogram);
            registry.register(name, "A histogram family.", family.clone());
            for (i, (a, b)) in pairs.iter().enumerate() {
                family
                    .get_or_create(&[("a", *a), ("b", *b)])
                    .observe(0.003 * i as f64);
            }
        }
        registry
    }

    pub(crate) fn encode(registry: &Registry, out: &mut String) -> usize {
        out.clear();
        encode_text(out, registry).expect("encodes");
        out.len()
    }
}

pub(crate) mod metrics_rs {
    use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

    pub(crate) fn recorder() -> PrometheusRecorder {
        PrometheusBuilder::new()
            .set_buckets(&super::BUCKETS)
            .expect("valid buckets")
            .build_recorder()
    }

    pub(crate) fn counters(families: usize, sets: usize) -> PrometheusRecorder {
        let recorder = recorder();
        let pairs = super::label_pairs(sets, 10);
        metrics::with_local_recorder(&recorder, || {
            for (f, name) in super::family_names(families).into_iter().enumerate() {
                metrics::describe_counter!(name, "A counter family.");
                for (i, (a, b)) in pairs.iter().enumerate() {
                    metrics::counter!(name, "a" => *a, "b" => *b).increment((f * i) as u64);
                }
            }
        });
        recorder
    }

    pub(crate) fn histograms(families: usize, sets: usize) -> PrometheusRecorder {
        let recorder = recorder();
        let pairs = super::label_pairs(sets, 10);
        metrics::with_local_recorder(&recorder, || {
            for name in super::family_names(families) {
                metrics::describe_histogram!(name, "A histogram family.");
                for (i, (a, b)) in pairs.iter().enumerate() {
                    metrics::histogram!(name, "a" => *a, "b" => *b).record(0.003 * i as f64);
                }
            }
        });
        recorder
    }

    pub(crate) fn encode(recorder: &PrometheusRecorder) -> usize {
        recorder.handle().render().len()
    }
}
