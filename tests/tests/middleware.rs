//! The tower layer in an axum application: requests by method, matched route and status,
//! latency and in-flight requests, with label values a client cannot multiply.

use std::sync::Arc;

use axum::body::Body;
use axum::routing::{get, post};
use axum::Router;
use http::{Request, StatusCode};
use prometheus_client::encoding::Format;
use prometheus_client::middleware::{HttpMetricsLayer, StatusLabel};
use prometheus_client::{Buckets, Registry};
use tokio::sync::Notify;
use tower::ServiceExt;

fn app(registry: &Registry, status: StatusLabel, release: Arc<Notify>) -> Router {
    let layer = HttpMetricsLayer::builder()
        .buckets(Buckets::new(&[0.1, 1.0]).expect("valid"))
        .status(status)
        .register(registry)
        .expect("registers");
    Router::new()
        .route("/users/{id}", get(|| async { "a user" }))
        .route("/items", post(|| async { StatusCode::CREATED }))
        .route(
            "/slow",
            get(move || {
                let release = Arc::clone(&release);
                async move {
                    release.notified().await;
                    "done"
                }
            }),
        )
        .layer(layer)
}

async fn send(app: &Router, method: &str, path: &str) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .body(Body::empty())
        .expect("a request");
    app.clone()
        .oneshot(request)
        .await
        .expect("answered")
        .status()
}

fn text(registry: &Registry) -> String {
    registry.encode_to_string(Format::Text).expect("encodes")
}

#[tokio::test]
async fn requests_are_counted_by_matched_route_never_by_raw_path() {
    let registry = Registry::new();
    let app = app(&registry, StatusLabel::Code, Arc::new(Notify::new()));
    for id in 0..50 {
        assert_eq!(
            send(&app, "GET", &format!("/users/{id}")).await,
            StatusCode::OK
        );
    }
    assert_eq!(send(&app, "POST", "/items").await, StatusCode::CREATED);
    for i in 0..50 {
        assert_eq!(
            send(&app, "GET", &format!("/scan/{i}/wp-admin")).await,
            StatusCode::NOT_FOUND
        );
    }
    // An unknown method on a known route: axum answers 405.
    assert_eq!(
        send(&app, "PURGE", "/users/1").await,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let text = text(&registry);
    for line in [
        "http_requests_total{method=\"GET\",route=\"/users/{id}\",code=\"200\"} 50\n",
        "http_requests_total{method=\"POST\",route=\"/items\",code=\"201\"} 1\n",
        "http_requests_total{method=\"GET\",route=\"unmatched\",code=\"404\"} 50\n",
        "http_requests_total{method=\"OTHER\",route=\"/users/{id}\",code=\"405\"} 1\n",
        "http_request_duration_seconds_count{method=\"GET\",route=\"/users/{id}\",code=\"200\"} 50\n",
        "http_request_duration_seconds_bucket{method=\"POST\",route=\"/items\",code=\"201\",le=\"+Inf\"} 1\n",
        "http_requests_in_flight{method=\"GET\",route=\"/users/{id}\"} 0\n",
    ] {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
    assert!(
        !text.contains("wp-admin"),
        "a raw path became a label:\n{text}"
    );
    let series = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .count();
    assert_eq!(series, 4, "{text}");
    // The names and units as OpenMetrics sees them.
    let open_metrics = registry
        .encode_to_string(Format::OpenMetrics)
        .expect("encodes");
    assert!(open_metrics.contains("# UNIT http_request_duration_seconds seconds\n"));
}

#[tokio::test]
async fn in_flight_requests_are_seen_while_they_run() {
    let registry = Registry::new();
    let release = Arc::new(Notify::new());
    let app = app(&registry, StatusLabel::Class, Arc::clone(&release));
    let running = {
        let app = app.clone();
        tokio::spawn(async move { send(&app, "GET", "/slow").await })
    };
    let busy = "http_requests_in_flight{method=\"GET\",route=\"/slow\"} 1\n";
    for _ in 0..500 {
        if text(&registry).contains(busy) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(text(&registry).contains(busy), "{}", text(&registry));
    release.notify_one();
    assert_eq!(running.await.expect("joined"), StatusCode::OK);
    let text = text(&registry);
    assert!(
        text.contains("http_requests_in_flight{method=\"GET\",route=\"/slow\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/slow\",code=\"2xx\"} 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn an_abandoned_request_leaves_the_in_flight_gauge() {
    let registry = Registry::new();
    let release = Arc::new(Notify::new());
    let app = app(&registry, StatusLabel::Code, release);
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        send(&app, "GET", "/slow"),
    )
    .await;
    assert!(abandoned.is_err(), "the slow handler never answers");
    let text = text(&registry);
    assert!(
        text.contains("http_requests_in_flight{method=\"GET\",route=\"/slow\"} 0\n"),
        "{text}"
    );
    assert!(!text.contains("route=\"/slow\",code="), "{text}");
}

#[test]
fn the_families_are_registered_all_or_none() {
    let registry = Registry::new();
    registry
        .register(
            "http_requests_in_flight",
            "Taken.",
            prometheus_client::Gauge::<i64>::default(),
        )
        .expect("registers");
    assert!(HttpMetricsLayer::builder().register(&registry).is_err());
    let text = text(&registry);
    assert!(!text.contains("http_requests_total"), "{text}");
    assert!(!text.contains("http_request_duration"), "{text}");
}
