//! A registry holding every metric type with the values and strings that are easiest to get
//! wrong on the wire, and the samples a correct parser must read back from it.

use std::collections::BTreeMap;

use prometheus_client::{
    Buckets, CollectError, CollectedFamilies, Collector, ConstHistogram, ConstSummary, Counter,
    Family, Gauge, Histogram, Info, Registry, StateSet, Summary, Unknown,
};

/// One sample as a parser should see it.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The sample name (`x_total`, `h_bucket`, …).
    pub name: String,
    /// Its labels; `le` and `quantile` values in canonical form (see [`canonical_labels`]).
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
    /// Whether only text 0.0.4 has this sample (OpenMetrics forbids it).
    pub text_only: bool,
}

/// One family as a parser should see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyMeta {
    /// The family name in text 0.0.4 (with `_total` for counters, `_info` for info).
    pub text_name: String,
    /// The family name in OpenMetrics.
    pub openmetrics_name: String,
    /// Its OpenMetrics type.
    pub openmetrics_type: &'static str,
    /// Its HELP text, unescaped.
    pub help: String,
}

/// The edge-case registry and what must be read back from it.
pub struct EdgeCases {
    /// The registry.
    pub registry: Registry,
    /// Every sample, in no particular order.
    pub samples: Vec<Sample>,
    /// Every family.
    pub families: Vec<FamilyMeta>,
}

/// Label values that need escaping or are otherwise unusual.
pub const TRICKY_VALUES: [(&str, &str); 7] = [
    ("backslash", "C:\\dir\\file"),
    ("quote", "say \"hi\""),
    ("newline", "line one\nline two"),
    ("utf8", "日本語 ☃ é ß 🦀"),
    ("all_three", "\\\"\n\\n"),
    ("braces", "{a=\"b\"},c"),
    ("hash", "# not a comment"),
];

/// Float values at the edges of what `f64` holds.
pub const EDGE_FLOATS: [(&str, f64); 12] = [
    ("pos_zero", 0.0),
    ("neg_zero", -0.0),
    ("min_subnormal", 5e-324),
    ("min_normal", f64::MIN_POSITIVE),
    ("max", f64::MAX),
    ("neg_max", -f64::MAX),
    ("pos_inf", f64::INFINITY),
    ("neg_inf", f64::NEG_INFINITY),
    ("nan", f64::NAN),
    ("tiny", 1e-5),
    ("million", 1e6),
    ("third", 1.0 / 3.0),
];

/// HELP text with every character that needs escaping somewhere.
pub const TRICKY_HELP: &str = "Escapes: backslash \\ newline \n quote \" and UTF-8 ☃.";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes `le`/`quantile` values as Rust prints the float, so `1`, `1.0` and `1e+00` agree.
pub fn canonical_labels(mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    for key in ["le", "quantile"] {
        if let Some(v) = labels.get_mut(key) {
            let parsed: Option<f64> = match v.as_str() {
                "+Inf" => Some(f64::INFINITY),
                "-Inf" => Some(f64::NEG_INFINITY),
                other => other.parse().ok(),
            };
            if let Some(f) = parsed {
                *v = format!("{f:?}");
            }
        }
    }
    labels
}

struct Builder {
    registry: Registry,
    samples: Vec<Sample>,
    families: Vec<FamilyMeta>,
}

impl Builder {
    fn sample(&mut self, name: &str, pairs: &[(&str, &str)], value: f64) {
        self.samples.push(Sample {
            name: name.to_owned(),
            labels: canonical_labels(labels(pairs)),
            value,
            text_only: false,
        });
    }

    fn text_only_sample(&mut self, name: &str, value: f64) {
        self.sample(name, &[], value);
        if let Some(last) = self.samples.last_mut() {
            last.text_only = true;
        }
    }

    fn family(
        &mut self,
        text_name: &str,
        openmetrics_name: &str,
        openmetrics_type: &'static str,
        help: &str,
    ) {
        self.families.push(FamilyMeta {
            text_name: text_name.to_owned(),
            openmetrics_name: openmetrics_name.to_owned(),
            openmetrics_type,
            help: help.to_owned(),
        });
    }
}

/// Builds the edge-case registry.
pub fn edge_cases() -> Result<EdgeCases, Box<dyn std::error::Error>> {
    let mut b = Builder {
        registry: Registry::new(),
        samples: Vec::new(),
        families: Vec::new(),
    };
    let r = b.registry.clone();

    let events = r.register("edge_events_total", "Events seen.", Counter::new())?;
    events.inc_by(u64::MAX);
    b.family(
        "edge_events_total",
        "edge_events",
        "counter",
        "Events seen.",
    );
    b.sample("edge_events_total", &[], u64::MAX as f64);

    let busy = r.register_with_unit(
        "edge_busy",
        "Time spent busy.",
        "seconds",
        Counter::<f64>::default(),
    )?;
    busy.inc_by(0.1);
    busy.inc_by(0.2);
    b.family(
        "edge_busy_seconds_total",
        "edge_busy_seconds",
        "counter",
        "Time spent busy.",
    );
    b.sample("edge_busy_seconds_total", &[], 0.1 + 0.2);

    let values = r.register(
        "edge_values",
        TRICKY_HELP,
        Family::<[String; 1], Gauge>::new(["case"]),
    )?;
    b.family("edge_values", "edge_values", "gauge", TRICKY_HELP);
    for (case, v) in EDGE_FLOATS {
        values.get_or_create(&[case]).set(v);
        b.sample("edge_values", &[("case", case)], v);
    }

    let escapes = r.register(
        "edge_label_values",
        "Label values that need care.",
        Family::<[String; 2], Gauge<i64>>::new(["kind", "value"]),
    )?;
    b.family(
        "edge_label_values",
        "edge_label_values",
        "gauge",
        "Label values that need care.",
    );
    for (i, (kind, value)) in TRICKY_VALUES.iter().enumerate() {
        escapes.get_or_create(&[*kind, *value]).set(i as i64 - 3);
        b.sample(
            "edge_label_values",
            &[("kind", kind), ("value", value)],
            i as f64 - 3.0,
        );
    }

    let latency = r.register_with_unit(
        "edge_latency",
        "Latency.",
        "seconds",
        Histogram::with_buckets(&[-1.0, 0.0, 0.5, 1e6])?,
    )?;
    for v in [-5.0, 0.0, 0.25, 0.5, 2.0, 1e7] {
        latency.observe(v);
    }
    b.family(
        "edge_latency_seconds",
        "edge_latency_seconds",
        "histogram",
        "Latency.",
    );
    for (le, count) in [
        ("-1", 1.0),
        ("0", 2.0),
        ("0.5", 4.0),
        ("1e+06", 5.0),
        ("+Inf", 6.0),
    ] {
        b.sample("edge_latency_seconds_bucket", &[("le", le)], count);
    }
    // Negative bounds: OpenMetrics forbids _sum, and _count goes with it.
    b.text_only_sample("edge_latency_seconds_sum", -5.0 + 0.25 + 0.5 + 2.0 + 1e7);
    b.text_only_sample("edge_latency_seconds_count", 6.0);

    let routes = r.register("edge_route_latency_seconds", "Latency by route.", {
        let buckets = Buckets::new(&[0.1])?;
        Family::<[String; 1], Histogram>::new_with_constructor(["route"], move || {
            Histogram::new(buckets.clone())
        })
    })?;
    routes.get_or_create(&["/a\"b"]).observe(0.05);
    b.family(
        "edge_route_latency_seconds",
        "edge_route_latency_seconds",
        "histogram",
        "Latency by route.",
    );
    b.sample(
        "edge_route_latency_seconds_bucket",
        &[("route", "/a\"b"), ("le", "0.1")],
        1.0,
    );
    b.sample(
        "edge_route_latency_seconds_bucket",
        &[("route", "/a\"b"), ("le", "+Inf")],
        1.0,
    );
    b.sample(
        "edge_route_latency_seconds_sum",
        &[("route", "/a\"b")],
        0.05,
    );
    b.sample(
        "edge_route_latency_seconds_count",
        &[("route", "/a\"b")],
        1.0,
    );

    let sizes = r.register_with_unit(
        "edge_size",
        "Sizes.",
        "bytes",
        Summary::builder()
            .objective(0.5, 0.05)
            .objective(0.99, 0.001)
            .build()?,
    )?;
    for v in 1..=9 {
        sizes.observe(f64::from(v));
    }
    b.family("edge_size_bytes", "edge_size_bytes", "summary", "Sizes.");
    b.sample("edge_size_bytes", &[("quantile", "0.5")], 5.0);
    b.sample("edge_size_bytes", &[("quantile", "0.99")], 9.0);
    b.sample("edge_size_bytes_sum", &[], 45.0);
    b.sample("edge_size_bytes_count", &[], 9.0);

    let plain = r.register("edge_plain_summary", "", Summary::default())?;
    plain.observe(2.5);
    b.family("edge_plain_summary", "edge_plain_summary", "summary", "");
    b.sample("edge_plain_summary_sum", &[], 2.5);
    b.sample("edge_plain_summary_count", &[], 1.0);

    r.register(
        "edge_build",
        "Build.",
        Info::new(&[("version", "1.0 \"beta\""), ("commit", "abc\\def")])?,
    )?;
    b.family("edge_build_info", "edge_build", "info", "Build.");
    b.sample(
        "edge_build_info",
        &[("version", "1.0 \"beta\""), ("commit", "abc\\def")],
        1.0,
    );

    let mode = r.register("edge_mode", "Mode.", StateSet::new(["a", "b\"c", "d"])?)?;
    mode.set_enabled("b\"c", true)?;
    mode.set_enabled("d", true)?;
    b.family("edge_mode", "edge_mode", "stateset", "Mode.");
    for (state, on) in [("a", 0.0), ("b\"c", 1.0), ("d", 1.0)] {
        b.sample("edge_mode", &[("edge_mode", state)], on);
    }

    r.register("edge_legacy", "Relayed.", Unknown::new(-4.5))?;
    b.family("edge_legacy", "edge_legacy", "unknown", "Relayed.");
    b.sample("edge_legacy", &[], -4.5);

    for shard in ["1", "2"] {
        let sub = r.sub_registry_with_labels([("shard", shard)])?;
        let c = sub.register("edge_sharded", "Work by shard.", Counter::new())?;
        c.inc_by(shard.parse()?);
        b.sample("edge_sharded_total", &[("shard", shard)], shard.parse()?);
    }
    b.family(
        "edge_sharded_total",
        "edge_sharded",
        "counter",
        "Work by shard.",
    );

    r.register_collector(Relay);
    b.family(
        "edge_relayed_seconds",
        "edge_relayed_seconds",
        "histogram",
        "Relayed latency.",
    );
    for (le, count) in [("0.1", 3.0), ("1", 8.0), ("+Inf", 9.0)] {
        b.sample("edge_relayed_seconds_bucket", &[("le", le)], count);
    }
    b.sample("edge_relayed_seconds_sum", &[], 4.25);
    b.sample("edge_relayed_seconds_count", &[], 9.0);
    b.family(
        "edge_relayed_rpc_seconds",
        "edge_relayed_rpc_seconds",
        "summary",
        "Relayed RPCs.",
    );
    b.sample("edge_relayed_rpc_seconds", &[("quantile", "0.9")], 0.75);
    b.sample("edge_relayed_rpc_seconds_sum", &[], 12.0);
    b.sample("edge_relayed_rpc_seconds_count", &[], 30.0);
    b.family(
        "edge_relayed_temperature_celsius",
        "edge_relayed_temperature_celsius",
        "gauge",
        "Relayed readings.",
    );
    for (sensor, v) in [("a", 20.5), ("b", -3.0)] {
        b.sample("edge_relayed_temperature_celsius", &[("sensor", sensor)], v);
    }

    Ok(EdgeCases {
        registry: b.registry,
        samples: b.samples,
        families: b.families,
    })
}

/// A collector relaying state computed elsewhere: constant metrics built at scrape time.
struct Relay;

impl Collector for Relay {
    fn collect(&self, families: &mut CollectedFamilies) -> Result<(), CollectError> {
        let failed = |e: &dyn std::fmt::Display| CollectError::new(e.to_string());
        let buckets = Buckets::new(&[0.1, 1.0]).map_err(|e| failed(&e))?;
        let histogram = ConstHistogram::new(buckets, &[3, 8, 9], 4.25).map_err(|e| failed(&e))?;
        families.add("edge_relayed_seconds", "Relayed latency.", histogram);
        let summary = ConstSummary::new(&[(0.9, 0.75)], 12.0, 30).map_err(|e| failed(&e))?;
        families.add("edge_relayed_rpc_seconds", "Relayed RPCs.", summary);
        let readings = Family::<[String; 1], Gauge>::new(["sensor"]);
        readings.get_or_create(&["a"]).set(20.5);
        readings.get_or_create(&["b"]).set(-3.0);
        families.add_with_unit(
            "edge_relayed_temperature",
            "Relayed readings.",
            "celsius",
            readings,
        );
        Ok(())
    }
}
