//! UTF-8 metric names: refused unless the registry allows them, then written per the
//! scrape's escaping: the quoted syntax of client_golang 1.20+ / Prometheus 3 for
//! `allow-utf-8`, escaped into the classic character set otherwise.

use prometheus_client::encoding::{Escaping, Format};
use prometheus_client::{Buckets, Counter, Family, Histogram, RegisterError, Registry, StateSet};

fn encode(registry: &Registry, format: Format, escaping: Escaping) -> String {
    let mut out = Vec::new();
    registry
        .encode_with_escaping(format, escaping, &mut out)
        .expect("encodes");
    String::from_utf8(out).expect("UTF-8")
}

fn demo() -> Registry {
    let registry = Registry::new().allow_utf8_names();
    let requests = registry
        .register(
            "http.server.requests",
            "Requests \"served\".",
            Family::<[String; 1], Counter>::new(["method"]),
        )
        .expect("a UTF-8 name is allowed");
    requests.get_or_create(&["GET"]).inc_by(3);
    let latency = registry
        .register_with_unit(
            "rpc.latency",
            "",
            "seconds",
            Histogram::new(Buckets::new(&[0.5]).expect("valid")),
        )
        .expect("registers");
    latency.observe(0.25);
    let phase = registry
        .register("app.phase", "", StateSet::new(["up"]).expect("valid"))
        .expect("registers");
    phase.set("up").expect("a declared state");
    registry
        .register("classic_total", "", Counter::new())
        .expect("registers");
    registry
}

#[test]
fn utf8_names_need_the_registry_to_allow_them() {
    let classic = Registry::new();
    assert_eq!(
        classic
            .register("http.requests", "", Counter::new())
            .unwrap_err(),
        RegisterError::InvalidName("http.requests".into())
    );
    assert!(classic.sub_registry_with_prefix("my.app").is_err());
    let utf8 = Registry::new().allow_utf8_names();
    assert!(utf8.allows_utf8_names());
    assert!(utf8.sub_registry_with_prefix("my.app").is_ok());
    assert!(matches!(
        utf8.register("", "", Counter::new()),
        Err(RegisterError::InvalidName(_))
    ));
}

#[test]
fn allow_utf8_writes_the_quoted_syntax() {
    let registry = demo();
    assert_eq!(
        encode(&registry, Format::Text, Escaping::AllowUtf8),
        concat!(
            "# TYPE \"app.phase\" gauge\n",
            "{\"app.phase\",\"app.phase\"=\"up\"} 1\n",
            "# TYPE classic_total counter\n",
            "classic_total 0\n",
            "# HELP \"http.server.requests_total\" Requests \"served\".\n",
            "# TYPE \"http.server.requests_total\" counter\n",
            "{\"http.server.requests_total\",method=\"GET\"} 3\n",
            "# TYPE \"rpc.latency_seconds\" histogram\n",
            "{\"rpc.latency_seconds_bucket\",le=\"0.5\"} 1\n",
            "{\"rpc.latency_seconds_bucket\",le=\"+Inf\"} 1\n",
            "{\"rpc.latency_seconds_sum\"} 0.25\n",
            "{\"rpc.latency_seconds_count\"} 1\n",
        )
    );
    let openmetrics = encode(&registry, Format::OpenMetrics, Escaping::AllowUtf8);
    assert!(
        openmetrics.contains(concat!(
            "# TYPE \"rpc.latency_seconds\" histogram\n",
            "# UNIT \"rpc.latency_seconds\" seconds\n",
            "{\"rpc.latency_seconds_bucket\",le=\"0.5\"} 1\n",
        )),
        "{openmetrics}"
    );
    assert!(openmetrics.contains(
        "# HELP \"http.server.requests\" Requests \\\"served\\\".\n{\"http.server.requests_total\",method=\"GET\"} 3\n"
    ), "{openmetrics}");
    assert!(openmetrics.ends_with("# EOF\n"));
}

#[test]
fn other_schemes_escape_into_the_classic_set() {
    let registry = demo();
    let underscores = encode(&registry, Format::Text, Escaping::Underscores);
    assert!(underscores.contains("\nhttp_server_requests_total{method=\"GET\"} 3\n"));
    assert!(underscores.contains("\nrpc_latency_seconds_bucket{le=\"0.5\"} 1\n"));
    assert!(underscores.contains("\napp_phase{app_phase=\"up\"} 1\n"));
    assert!(underscores.contains("\nclassic_total 0\n"));
    assert_eq!(
        registry.encode_to_string(Format::Text).expect("encodes"),
        underscores,
        "what a scraper that does not say gets"
    );
    let dots = encode(&registry, Format::Text, Escaping::Dots);
    assert!(
        dots.contains("\nhttp_dot_server_dot_requests__total{method=\"GET\"} 3\n"),
        "{dots}"
    );
    let values = encode(&registry, Format::Text, Escaping::Values);
    assert!(
        values.contains("\nU__http_2e_server_2e_requests__total{method=\"GET\"} 3\n"),
        "{values}"
    );
    // Nothing quoted is left in an escaped exposition.
    for text in [underscores, dots, values] {
        assert!(!text.contains("{\""), "{text}");
    }
}

#[cfg(feature = "protobuf")]
#[test]
fn protobuf_names_are_escaped_unless_utf8_is_allowed() {
    use prometheus_client::parse::protobuf_samples;
    let registry = demo();
    let names = |escaping| {
        let mut body = Vec::new();
        registry
            .encode_with_escaping(Format::Protobuf, escaping, &mut body)
            .expect("encodes");
        let mut names: Vec<String> = protobuf_samples(&body)
            .map(|s| s.map(|s| s.family))
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| panic!("{escaping:?}: {e}"));
        names.dedup();
        names
    };
    assert_eq!(
        names(Escaping::Underscores),
        [
            "app_phase",
            "classic_total",
            "http_server_requests_total",
            "rpc_latency_seconds"
        ]
    );
}

#[test]
fn utf8_label_names_are_quoted_or_escaped_like_metric_names() {
    let classic = Registry::new();
    let refused = classic.register(
        "requests",
        "",
        Family::<[String; 1], Counter>::new(["http.method"]),
    );
    assert!(
        matches!(refused, Err(RegisterError::InvalidLabel { .. })),
        "{refused:?}"
    );

    let registry = Registry::new().allow_utf8_names();
    let by_method = registry
        .register(
            "requests",
            "",
            Family::<[String; 1], Counter>::new(["http.method"]),
        )
        .expect("a UTF-8 label name is allowed");
    by_method.get_or_create(&["GET".to_owned()]).inc();
    let named = registry
        .register(
            "events",
            "",
            Family::<Vec<(String, String)>, Counter>::default(),
        )
        .expect("registers");
    let labels = vec![
        ("service.name".to_owned(), "api".to_owned()),
        ("zone".to_owned(), "a\"b".to_owned()),
    ];
    named.get_or_create(&labels).inc_by(2);
    // The same set finds the same child.
    named.get_or_create(&labels).inc();
    assert_eq!(named.len(), 1);
    let labelled = registry
        .sub_registry_with_labels([("k8s.pod", "p-1")])
        .expect("a UTF-8 constant label name is allowed");
    labelled
        .register("up", "", prometheus_client::Gauge::<i64>::default())
        .expect("registers")
        .set(1);

    assert_eq!(
        encode(&registry, Format::Text, Escaping::AllowUtf8),
        concat!(
            "# TYPE events_total counter\n",
            "events_total{\"service.name\"=\"api\",zone=\"a\\\"b\"} 3\n",
            "# TYPE requests_total counter\n",
            "requests_total{\"http.method\"=\"GET\"} 1\n",
            "# TYPE up gauge\n",
            "up{\"k8s.pod\"=\"p-1\"} 1\n",
        )
    );
    let underscores = encode(&registry, Format::Text, Escaping::Underscores);
    assert!(
        underscores.contains("events_total{service_name=\"api\",zone=\"a\\\"b\"} 3\n"),
        "{underscores}"
    );
    assert!(
        underscores.contains("requests_total{http_method=\"GET\"} 1\n"),
        "{underscores}"
    );
    assert!(
        underscores.contains("up{k8s_pod=\"p-1\"} 1\n"),
        "{underscores}"
    );
    let values = encode(&registry, Format::Text, Escaping::Values);
    assert!(
        values.contains("requests_total{U__http_2e_method=\"GET\"} 1\n"),
        "{values}"
    );
    // A `:` is no label-name character: escaped too.
    assert_eq!(Escaping::Underscores.escape_label("a:b"), "a_b");
}

#[cfg(feature = "protobuf")]
#[test]
fn protobuf_label_names_follow_the_escaping() {
    use prometheus_client::encoding::protobuf::schema::MetricFamily;
    use prost::Message;
    let registry = Registry::new().allow_utf8_names();
    registry
        .register(
            "requests",
            "",
            Family::<[String; 1], Counter>::new(["http.method"]),
        )
        .expect("registers")
        .get_or_create(&["GET".to_owned()])
        .inc();
    for (escaping, want) in [
        (Escaping::AllowUtf8, "http.method"),
        (Escaping::Dots, "http_dot_method"),
    ] {
        let mut body = Vec::new();
        registry
            .encode_with_escaping(Format::Protobuf, escaping, &mut body)
            .expect("encodes");
        let family = MetricFamily::decode_length_delimited(&body[..]).expect("decodes");
        assert_eq!(family.metric[0].label[0].name(), want);
        assert_eq!(family.metric[0].label[0].value(), "GET");
    }
}

#[test]
fn the_parser_reads_the_quoted_syntax_back() {
    use prometheus_client::parse::{parse_families, validate, Entry, ParseErrorKind, Parser};
    let registry = demo();
    let requests = registry
        .register(
            "jobs",
            "",
            Family::<[String; 1], Counter>::new(["queue.name"]),
        )
        .expect("registers");
    requests.get_or_create(&["mail".to_owned()]).inc();
    for format in [Format::Text, Format::OpenMetrics] {
        let body = encode(&registry, format, Escaping::AllowUtf8);
        validate(body.as_bytes(), format).unwrap_or_else(|e| panic!("{format:?}: {e}\n{body}"));
        let families = parse_families(body.as_bytes(), format).expect("parses");
        let names: Vec<&str> = families.iter().map(|f| f.name.as_str()).collect();
        // Text names a counter's family by its `_total` sample, as client_golang writes it.
        let counter = match format {
            Format::Text => "http.server.requests_total",
            _ => "http.server.requests",
        };
        assert!(names.contains(&counter), "{names:?}");
        assert!(names.contains(&"rpc.latency_seconds"), "{names:?}");
        let mut seen = Vec::new();
        for entry in Parser::new(body.as_bytes(), format) {
            if let Entry::Sample(sample) = entry.expect("parses") {
                let labels: Vec<(String, String)> = sample
                    .labels
                    .iter()
                    .map(|l| (l.name.to_owned(), l.value.into_owned()))
                    .collect();
                seen.push((sample.name.to_owned(), labels, sample.value));
            }
        }
        assert!(seen.contains(&(
            "http.server.requests_total".into(),
            vec![("method".into(), "GET".into())],
            3.0
        )));
        assert!(seen.contains(&(
            "jobs_total".into(),
            vec![("queue.name".into(), "mail".into())],
            1.0
        )));
        assert!(seen.contains(&("rpc.latency_seconds_count".into(), vec![], 1.0)));
    }
    for (bad, kind) in [
        ("{\"a\\\"b\"} 1\n", ParseErrorKind::InvalidMetricName),
        ("{\"\"} 1\n", ParseErrorKind::InvalidMetricName),
        (
            "{a=\"b\"} 1\n",
            ParseErrorKind::Expected("a quoted metric name after '{'"),
        ),
        ("x{\"\"=\"b\"} 1\n", ParseErrorKind::InvalidLabelName),
        (
            "{\"a\" 1\n",
            ParseErrorKind::Expected("',' or '}' after the metric name"),
        ),
    ] {
        let error = Parser::new(bad.as_bytes(), Format::Text)
            .find_map(Result::err)
            .unwrap_or_else(|| panic!("{bad:?} parsed"));
        assert_eq!(error.kind, kind, "{bad:?}");
    }
}
