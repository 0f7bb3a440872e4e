//! Debian's Pushgateway for a test: started on a free 127.0.0.1 port with a temporary
//! persistence file, killed (and its files removed) when dropped, also when the test fails.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::external::tool;

/// Debian's Pushgateway.
pub const PUSHGATEWAY: &str = "/usr/bin/prometheus-pushgateway";

/// A running Pushgateway.
pub struct Pushgateway {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    dir: PathBuf,
}

impl Pushgateway {
    /// Starts it with `args` besides its listen address and persistence file, and waits until
    /// it listens; `None` where it is not installed (see [`tool`]).
    pub async fn start(args: &[String]) -> Option<Pushgateway> {
        if !tool(PUSHGATEWAY, "a real Pushgateway to push to") {
            return None;
        }
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let dir = std::env::temp_dir().join(format!(
            "pushgateway-test-{}-{}",
            std::process::id(),
            addr.port()
        ));
        std::fs::create_dir_all(&dir).expect("temporary dir");
        let child = Command::new(PUSHGATEWAY)
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!(
                "--persistence.file={}",
                dir.join("pushgateway.data").display()
            ))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the Pushgateway starts");
        let gateway = Pushgateway { addr, child, dir };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Some(gateway);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the Pushgateway did not start listening on {addr}");
    }

    /// Its URL, `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
