//! Support for the cross-crate tests: a registry of edge cases that records what went in,
//! and runners for the external tools (promtool, Python's prometheus_client parsers) that
//! check our output without sharing any of our code.

pub mod edge_cases;
pub mod external;
pub mod http;
pub mod node_exporter;
pub mod prometheus;
pub mod pull;
pub mod pushgateway;
pub mod tls;
