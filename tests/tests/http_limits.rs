//! The server's protections: slow clients are dropped, excess scrapes are refused at once,
//! clients that hang up cost nothing, and no task outlives its connection.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::http::{MetricsService, Server};
use prometheus_client::{CollectError, CollectedFamilies, Collector, Counter, Registry};
use tests::http::{get, many_series_registry, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Waits (bounded) until the runtime has no more than `baseline` tasks.
async fn settles_to(baseline: usize) -> bool {
    for _ in 0..100 {
        if alive_tasks() <= baseline {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_sending_one_byte_at_a_time_is_dropped_while_others_are_served() {
    let registry = Registry::new();
    registry
        .register("up_ok", "", Counter::new())
        .expect("valid");
    let builder = Server::builder(registry).header_read_timeout(Duration::from_millis(300));
    let server = TestServer::start(builder).await;
    let addr = server.addr;
    let slow = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        let start = Instant::now();
        for byte in
            b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                .iter()
        {
            if stream.write_all(&[*byte]).await.is_err() {
                return Some(start.elapsed());
            }
            let mut buf = [0u8; 64];
            // A read that ends (0 bytes or an error) means the server closed the connection.
            if let Ok(r) =
                tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buf)).await
            {
                if matches!(r, Ok(0) | Err(_)) {
                    return Some(start.elapsed());
                }
                // The server may answer the partial request with an error status, then close.
            }
        }
        None
    });
    for _ in 0..5 {
        assert_eq!(
            get(addr, "/metrics", &[]).await.status,
            200,
            "others are still served"
        );
    }
    let closed_after = slow.await.expect("slow client task");
    let closed_after =
        closed_after.expect("the slow client was dropped before sending its headers");
    assert!(
        closed_after < Duration::from_secs(4),
        "dropped only after {closed_after:?}"
    );
    server.stop().await;
}

/// Blocks every encode until opened.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().expect("gate lock") = true;
        changed.notify_all();
    }
}

impl Collector for Gate {
    fn collect(&self, _: &mut CollectedFamilies) -> Result<(), CollectError> {
        let (open, changed) = &*self.0;
        let mut is_open = open.lock().expect("gate lock");
        while !*is_open {
            is_open = changed.wait(is_open).expect("gate wait");
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_scrapes_with_a_cap_of_four_get_sixty_refusals() {
    let baseline = alive_tasks();
    let registry = Registry::new();
    let gate = Gate::default();
    registry.register_collector(gate.clone());
    let service = MetricsService::builder(registry)
        .max_concurrent_encodes(4)
        .build()
        .expect("valid");
    let server = TestServer::start(Server::with_service(service.clone())).await;
    let addr = server.addr;
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..64 {
        let done = done.clone();
        tokio::spawn(async move {
            let _ = done.send(get(addr, "/metrics", &[]).await.status.as_u16());
        });
    }
    let mut statuses = Vec::new();
    while statuses.len() < 60 {
        let status = tokio::time::timeout(Duration::from_secs(10), finished.recv())
            .await
            .expect("refusals come back while the gate is closed")
            .expect("a status");
        statuses.push(status);
    }
    assert!(statuses.iter().all(|s| *s == 503), "{statuses:?}");
    gate.open();
    for _ in 0..4 {
        let status = tokio::time::timeout(Duration::from_secs(10), finished.recv()).await;
        assert_eq!(status.expect("in time"), Some(200));
    }
    assert_eq!(service.errors(), 60);
    server.stop().await;
    assert!(
        settles_to(baseline).await,
        "{} tasks left, {baseline} before",
        alive_tasks()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_hanging_up_mid_body_costs_nothing() {
    let baseline = alive_tasks();
    let registry = many_series_registry();
    let server = TestServer::start(Server::builder(registry)).await;
    for _ in 0..3 {
        let mut stream = TcpStream::connect(server.addr).await.expect("connects");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("request sent");
        let mut start = [0u8; 4096];
        let n = stream
            .read(&mut start)
            .await
            .expect("the start of the body");
        assert!(n > 0);
        drop(stream);
    }
    let reply = get(server.addr, "/metrics", &[]).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() > 3_000_000, "{} bytes", reply.body.len());
    assert!(reply
        .text()
        .ends_with("series_total{a=\"value-999\",b=\"99\"} 1\n"));
    server.stop().await;
    assert!(
        settles_to(baseline).await,
        "{} tasks left, {baseline} before",
        alive_tasks()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encode_cap_holds_when_clients_hang_up_mid_encode() {
    let registry = Registry::new();
    let gate = Gate::default();
    registry.register_collector(gate.clone());
    let service = MetricsService::builder(registry)
        .max_concurrent_encodes(1)
        .build()
        .expect("valid");
    let server = TestServer::start(Server::with_service(service)).await;
    let mut quitter = TcpStream::connect(server.addr).await.expect("connects");
    quitter
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: q\r\n\r\n")
        .await
        .expect("sends");
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(quitter);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The first encode still runs behind the gate: its slot is still taken.
    assert_eq!(get(server.addr, "/metrics", &[]).await.status, 503);
    gate.open();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(get(server.addr, "/metrics", &[]).await.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_headers_get_431_and_caps_of_usize_max_are_clamped() {
    let registry = Registry::new();
    registry.register("ok", "", Counter::new()).expect("valid");
    let service = MetricsService::builder(registry)
        .max_concurrent_encodes(usize::MAX)
        .build()
        .expect("valid");
    let builder = Server::with_service(service)
        .max_connections(usize::MAX)
        .max_header_bytes(16 * 1024);
    let server = TestServer::start(builder).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let padding = "a".repeat(32 * 1024);
    let request = format!("GET /metrics HTTP/1.1\r\nHost: h\r\nX-Pad: {padding}\r\n\r\n");
    // The server may answer before it has read everything.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert_eq!(get(server.addr, "/metrics", &[]).await.status, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_cut_off_at_the_connection_age() {
    let builder = Server::builder(many_series_registry())
        .max_connections(1)
        .max_connection_age(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(300));
    let server = TestServer::start(builder).await;
    let mut hog = TcpStream::connect(server.addr).await.expect("connects");
    // Many requests in a row, and never a byte read: the answers fill the socket buffers.
    let requests = "GET /metrics HTTP/1.1\r\nHost: hog\r\n\r\n".repeat(64);
    let _ = hog.write_all(requests.as_bytes()).await;
    let reply = tokio::time::timeout(Duration::from_secs(5), get(server.addr, "/metrics", &[]))
        .await
        .expect("served once the hog is cut off");
    assert_eq!(reply.status, 200);
    drop(hog);
    server.stop().await;
}
