//! The protobuf exposition: every metric type written as client_golang writes it, decoded
//! message by message and compared field by field; served when `Accept` asks for it first;
//! and scraped by a real Prometheus, which reads the same values as from text.

use prometheus_client::encoding::protobuf::schema::{
    Bucket, Counter as PCounter, Exemplar as PExemplar, Gauge as PGauge, Histogram as PHistogram,
    LabelPair, Metric, MetricFamily, MetricType, Quantile, Summary as PSummary, Timestamp, Untyped,
};
use std::time::Duration;

use prometheus_client::encoding::Format;
use prometheus_client::http::Server;
use prometheus_client::parse::{parse_families, ParseError, ParseErrorKind, Parser};
use prometheus_client::pull::{Config, PullServer, Target};
use prometheus_client::{
    Buckets, Counter, Family, Gauge, Histogram, Info, Registry, StateSet, Summary, Timestamped,
    Unknown,
};
use prost::Message;
use tests::http::{get, TestServer};
use tests::prometheus::Prometheus;
use tests::pull::{job_series, latest, Answer, FakeTarget};

fn decode_all(mut body: &[u8]) -> Vec<MetricFamily> {
    let mut families = Vec::new();
    while !body.is_empty() {
        let family = MetricFamily::decode_length_delimited(&mut body).expect("a family");
        families.push(family);
    }
    families
}

fn label(name: &str, value: &str) -> LabelPair {
    LabelPair {
        name: Some(name.into()),
        value: Some(value.into()),
    }
}

fn family(name: &str, help: Option<&str>, kind: MetricType, metric: Vec<Metric>) -> MetricFamily {
    MetricFamily {
        name: Some(name.into()),
        help: help.map(Into::into),
        r#type: Some(kind as i32),
        metric,
        unit: None,
    }
}

fn registry() -> Result<Registry, Box<dyn std::error::Error>> {
    let registry = Registry::new();
    let db = registry.sub_registry_with_labels([("pool", "main")])?;
    db.register("queries", "Queries run.", Counter::new())?
        .inc_by(7);
    let requests = registry.register(
        "requests",
        "Requests by path.",
        Family::<[String; 1], Counter>::new(["path"]),
    )?;
    requests.get_or_create(&["/a\"b\\c\nd"]).inc();
    requests
        .get_or_create(&["/"])
        .inc_with_exemplar(&[("trace_id", "4bf92f35")])?;
    registry
        .register("temperature", "Now.", Gauge::<f64>::default())?
        .set(-3.5);
    let latency = registry.register_with_unit(
        "latency",
        "Request latency.",
        "seconds",
        Histogram::new(Buckets::new(&[0.1, 1.0])?),
    )?;
    latency.observe(0.05);
    latency.observe(0.5);
    latency.observe_with_exemplar(7.0, &[("trace_id", "ff")])?;
    let sizes = registry.register(
        "sizes",
        "Sizes.",
        Summary::builder().objective(0.5, 0.05).build()?,
    )?;
    for v in [1.0, 2.0, 3.0] {
        sizes.observe(v);
    }
    registry.register("build", "Build facts.", Info::new(&[("version", "1.2.3")])?)?;
    let phase = registry.register("phase", "Phase.", StateSet::new(["idle", "busy"])?)?;
    phase.set("busy")?;
    registry.register("legacy", "", Unknown::new(42.0))?;
    let stamped = Gauge::<f64>::default();
    stamped.set(1.5);
    registry.register(
        "relayed",
        "Relayed.",
        Timestamped::from_millis(stamped, 1_700_000_000_250),
    )?;
    Ok(registry)
}

#[test]
fn every_type_is_written_as_client_golang_writes_it() -> Result<(), Box<dyn std::error::Error>> {
    let registry = registry()?;
    let mut body = Vec::new();
    registry.encode(Format::Protobuf, &mut body)?;
    let mut families = decode_all(&body);
    // Exemplar timestamps are the time of recording: check them, then compare the rest.
    let mut exemplar_times = Vec::new();
    for family in &mut families {
        for metric in &mut family.metric {
            let exemplars = metric
                .counter
                .iter_mut()
                .filter_map(|c| c.exemplar.as_mut())
                .chain(
                    metric
                        .histogram
                        .iter_mut()
                        .flat_map(|h| h.bucket.iter_mut().filter_map(|b| b.exemplar.as_mut())),
                );
            for exemplar in exemplars {
                exemplar_times.push(exemplar.timestamp.take().expect("a time").seconds);
            }
        }
    }
    assert_eq!(exemplar_times.len(), 2);
    assert!(exemplar_times.iter().all(|&t| t > 1_700_000_000));

    let expected = vec![
        family(
            "build_info",
            Some("Build facts."),
            MetricType::Gauge,
            vec![Metric {
                label: vec![label("version", "1.2.3")],
                gauge: Some(PGauge { value: Some(1.0) }),
                ..Default::default()
            }],
        ),
        MetricFamily {
            unit: Some("seconds".into()),
            ..family(
                "latency_seconds",
                Some("Request latency."),
                MetricType::Histogram,
                vec![Metric {
                    histogram: Some(PHistogram {
                        sample_count: Some(3),
                        sample_sum: Some(7.55),
                        bucket: vec![
                            Bucket {
                                cumulative_count: Some(1),
                                upper_bound: Some(0.1),
                                ..Default::default()
                            },
                            Bucket {
                                cumulative_count: Some(2),
                                upper_bound: Some(1.0),
                                ..Default::default()
                            },
                            // Written only to carry the exemplar, as client_golang does.
                            Bucket {
                                cumulative_count: Some(3),
                                upper_bound: Some(f64::INFINITY),
                                exemplar: Some(PExemplar {
                                    label: vec![label("trace_id", "ff")],
                                    value: Some(7.0),
                                    timestamp: None,
                                }),
                                ..Default::default()
                            },
                        ],
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
            )
        },
        family(
            "legacy",
            None,
            MetricType::Untyped,
            vec![Metric {
                untyped: Some(Untyped { value: Some(42.0) }),
                ..Default::default()
            }],
        ),
        family(
            "phase",
            Some("Phase."),
            MetricType::Gauge,
            vec![
                Metric {
                    label: vec![label("phase", "idle")],
                    gauge: Some(PGauge { value: Some(0.0) }),
                    ..Default::default()
                },
                Metric {
                    label: vec![label("phase", "busy")],
                    gauge: Some(PGauge { value: Some(1.0) }),
                    ..Default::default()
                },
            ],
        ),
        family(
            "queries_total",
            Some("Queries run."),
            MetricType::Counter,
            vec![Metric {
                label: vec![label("pool", "main")],
                counter: Some(PCounter {
                    value: Some(7.0),
                    ..Default::default()
                }),
                ..Default::default()
            }],
        ),
        family(
            "relayed",
            Some("Relayed."),
            MetricType::Gauge,
            vec![Metric {
                gauge: Some(PGauge { value: Some(1.5) }),
                timestamp_ms: Some(1_700_000_000_250),
                ..Default::default()
            }],
        ),
        family(
            "requests_total",
            Some("Requests by path."),
            MetricType::Counter,
            vec![
                Metric {
                    label: vec![label("path", "/")],
                    counter: Some(PCounter {
                        value: Some(1.0),
                        exemplar: Some(PExemplar {
                            label: vec![label("trace_id", "4bf92f35")],
                            value: Some(1.0),
                            timestamp: None,
                        }),
                        created_timestamp: None,
                    }),
                    ..Default::default()
                },
                Metric {
                    label: vec![label("path", "/a\"b\\c\nd")],
                    counter: Some(PCounter {
                        value: Some(1.0),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ],
        ),
        family(
            "sizes",
            Some("Sizes."),
            MetricType::Summary,
            vec![Metric {
                summary: Some(PSummary {
                    sample_count: Some(3),
                    sample_sum: Some(6.0),
                    quantile: vec![Quantile {
                        quantile: Some(0.5),
                        value: Some(2.0),
                    }],
                    created_timestamp: None,
                }),
                ..Default::default()
            }],
        ),
        family(
            "temperature",
            Some("Now."),
            MetricType::Gauge,
            vec![Metric {
                gauge: Some(PGauge { value: Some(-3.5) }),
                ..Default::default()
            }],
        ),
    ];
    assert_eq!(families, expected);
    Ok(())
}

#[test]
fn created_timestamps_go_where_the_schema_has_them() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::with_created_timestamps();
    registry.register("jobs", "", Counter::new())?.inc();
    registry
        .register("wait", "", Histogram::default())?
        .observe(1.0);
    registry
        .register("size", "", Summary::default())?
        .observe(1.0);
    let mut body = Vec::new();
    registry.encode(Format::Protobuf, &mut body)?;
    let families = decode_all(&body);
    let created: Vec<Option<Timestamp>> = families
        .iter()
        .map(|f| {
            let m = &f.metric[0];
            m.counter
                .as_ref()
                .and_then(|c| c.created_timestamp)
                .or(m.histogram.as_ref().and_then(|h| h.created_timestamp))
                .or(m.summary.as_ref().and_then(|s| s.created_timestamp))
        })
        .collect();
    assert_eq!(created.len(), 3);
    for t in created {
        let t = t.expect("a created timestamp");
        assert!(t.seconds > 1_700_000_000 && (0..1_000_000_000).contains(&t.nanos));
    }
    Ok(())
}

#[tokio::test]
async fn served_when_asked_for_first_and_scraped_by_prometheus(
) -> Result<(), Box<dyn std::error::Error>> {
    let registry = registry()?;
    let server = TestServer::start(Server::builder(registry.clone())).await;
    let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
                  encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3";
    let reply = get(server.addr, "/metrics", &[("accept", accept)]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
    );
    assert_eq!(decode_all(&reply.body).len(), 9);

    // Prometheus 2.42 asks for protobuf first when native histograms are enabled.
    let scrape = format!(
        "  - job_name: protobuf\n    static_configs:\n      - targets: ['{}']\n",
        server.addr
    );
    let Some(prometheus) =
        Prometheus::start_with_args(&scrape, &["--enable-feature=native-histograms"]).await
    else {
        return Ok(());
    };
    prometheus
        .wait_until("scraping", || async {
            !prometheus
                .query("up{job=\"protobuf\"} == 1")
                .await
                .is_empty()
        })
        .await;
    for (query, want) in [
        (r#"queries_total{pool="main"}"#, 7.0),
        (r#"requests_total{path="/a\"b\\c\nd"}"#, 1.0),
        ("temperature", -3.5),
        (r#"latency_seconds_bucket{le="1.0"}"#, 2.0),
        (r#"latency_seconds_bucket{le="+Inf"}"#, 3.0),
        ("latency_seconds_sum", 7.55),
        (r#"sizes{quantile="0.5"}"#, 2.0),
        (r#"phase{phase="busy"}"#, 1.0),
        (r#"build_info{version="1.2.3"}"#, 1.0),
        ("legacy", 42.0),
    ] {
        let series = prometheus.query(query).await;
        assert_eq!(series.len(), 1, "{query}: {series:?}\n{}", prometheus.log());
        assert_eq!(series[0].1, want, "{query}");
    }
    Ok(())
}

#[test]
fn our_parser_reads_what_we_write() -> Result<(), Box<dyn std::error::Error>> {
    let registry = registry()?;
    let mut body = Vec::new();
    registry.encode(Format::Protobuf, &mut body)?;
    let from_protobuf = parse_families(&body, Format::Protobuf)?;
    let text = registry.encode_to_string(Format::Text)?;
    let from_text = parse_families(text.as_bytes(), Format::Text)?;
    // Every sample the text exposition has, the protobuf one has with the same value
    // (bucket and quantile bounds in OpenMetrics' form there, as Prometheus writes them).
    let canonical = |labels: &[(String, String)]| -> Vec<(String, String)> {
        labels
            .iter()
            .map(|(n, v)| match (n.as_str(), v.parse::<f64>()) {
                ("le" | "quantile", Ok(f)) => (n.clone(), format!("{f:?}")),
                _ => (n.clone(), v.clone()),
            })
            .collect()
    };
    let mut compared = 0;
    for family in from_text.iter() {
        for sample in &family.samples {
            let labels = canonical(&sample.labels);
            let found = from_protobuf
                .iter()
                .flat_map(|f| &f.samples)
                .find(|s| s.name == sample.name && canonical(&s.labels) == labels)
                .unwrap_or_else(|| panic!("{} {:?} missing", sample.name, sample.labels));
            assert_eq!(found.value, sample.value, "{}", sample.name);
            compared += 1;
        }
    }
    assert_eq!(compared, 17, "every sample of the text exposition");
    let latency = from_protobuf.get("latency_seconds").expect("the histogram");
    assert_eq!(latency.help, "Request latency.");
    assert_eq!(latency.unit, "seconds");

    // A truncated body is an error that says where.
    let error = parse_families(&body[..body.len() - 3], Format::Protobuf).expect_err("truncated");
    assert!(matches!(error.kind, ParseErrorKind::Protobuf(_)), "{error}");
    assert_eq!(error.line, 9, "the ninth message: {error}");
    // A text parser given protobuf says so rather than misreading it.
    let mut parser = Parser::new(&body, Format::Protobuf);
    assert!(matches!(
        parser.next(),
        Some(Err(ParseError {
            kind: ParseErrorKind::Protobuf(_),
            ..
        }))
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_server_scrapes_protobuf() -> Result<(), Box<dyn std::error::Error>> {
    let registry = registry()?;
    let mut body = Vec::new();
    registry.encode(Format::Protobuf, &mut body)?;
    let content_type = Format::Protobuf.content_type();
    let good = FakeTarget::start({
        let body = body.clone();
        move |_| Answer::ok(content_type, &body)
    })
    .await;
    let corrupt = FakeTarget::start({
        let body = body.clone();
        move |_| Answer::ok(content_type, &body[..body.len() - 3])
    })
    .await;
    let config = Config::new()
        .scrape_interval(Duration::from_millis(250))
        .target(Target::new(good.url()).job("proto"))
        .target(Target::new(corrupt.url()).job("corrupt"));
    let pull = PullServer::start(config, "127.0.0.1:0").await?;
    pull.wait_for_scrapes(2).await;
    let storage = pull.storage();
    for (labels, want) in [
        (vec![("__name__", "queries_total"), ("pool", "main")], 7.0),
        (
            vec![("__name__", "latency_seconds_bucket"), ("le", "1.0")],
            2.0,
        ),
        (
            vec![("__name__", "latency_seconds_bucket"), ("le", "+Inf")],
            3.0,
        ),
        (vec![("__name__", "sizes"), ("quantile", "0.5")], 2.0),
        (vec![("__name__", "relayed")], 1.5),
    ] {
        let mut all = labels.clone();
        all.extend([("job", "proto"), ("instance", good.addr.to_string().leak())]);
        assert_eq!(latest(storage.as_ref(), &all), Some(want), "{labels:?}");
    }
    let exemplars = pull.query_exemplars("requests_total", 0, i64::MAX)?;
    assert!(
        format!("{exemplars:?}").contains("4bf92f35"),
        "{exemplars:?}"
    );
    let corrupt_status = pull
        .targets()
        .into_iter()
        .find(|t| t.target.job == "corrupt")
        .expect("the corrupt target");
    assert_eq!(corrupt_status.up, Some(false));
    assert!(
        corrupt_status.last_error.contains("protobuf"),
        "{}",
        corrupt_status.last_error
    );
    assert!(job_series(storage.as_ref(), "corrupt").is_empty());
    pull.shutdown().await;
    Ok(())
}
