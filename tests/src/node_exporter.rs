//! Debian's node_exporter for a test: started on a free 127.0.0.1 port, killed when dropped
//! (also when the test fails).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::external::tool;

/// Debian's node_exporter.
pub const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";

/// A running node_exporter.
pub struct NodeExporter {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
}

impl NodeExporter {
    /// Starts it with `args` besides its listen address, and waits until it listens; `None`
    /// where it is not installed (see [`tool`]).
    pub async fn start(args: &[String]) -> Option<NodeExporter> {
        if !tool(NODE_EXPORTER, "a real exporter to scrape") {
            return None;
        }
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let child = Command::new(NODE_EXPORTER)
            .arg(format!("--web.listen-address={addr}"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node_exporter starts");
        let exporter = NodeExporter { addr, child };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Some(exporter);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node_exporter did not start listening on {addr}");
    }
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
