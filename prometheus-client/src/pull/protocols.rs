//! Which exposition formats a scrape asks for: Prometheus' `scrape_protocols`.

use std::fmt;

/// A format a scrape may ask for, named as Prometheus' `scrape_protocols` names it.
///
/// ```
/// use prometheus_client::pull::ScrapeProtocol;
/// assert_eq!(ScrapeProtocol::from_name("OpenMetricsText1.0.0"), Some(ScrapeProtocol::OpenMetricsText1_0_0));
/// assert_eq!(ScrapeProtocol::PrometheusText0_0_4.to_string(), "PrometheusText0.0.4");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScrapeProtocol {
    /// Delimited `io.prometheus.client.MetricFamily` protobuf (feature `protobuf`).
    #[cfg(feature = "protobuf")]
    PrometheusProto,
    /// OpenMetrics text 1.0.0.
    OpenMetricsText1_0_0,
    /// OpenMetrics text 0.0.1.
    OpenMetricsText0_0_1,
    /// The Prometheus text format 0.0.4.
    PrometheusText0_0_4,
}

impl ScrapeProtocol {
    /// Every protocol this build reads.
    pub const ALL: &'static [ScrapeProtocol] = &[
        #[cfg(feature = "protobuf")]
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// Its name in Prometheus' configuration.
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "protobuf")]
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
        }
    }

    /// The protocol named `name`, if this build reads it.
    pub fn from_name(name: &str) -> Option<ScrapeProtocol> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// Its media range in an `Accept` header, as Prometheus writes it.
    fn media_range(self) -> &'static str {
        match self {
            #[cfg(feature = "protobuf")]
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
        }
    }
}

impl fmt::Display for ScrapeProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The `Accept` header for `protocols` in order of preference, as Prometheus builds it:
/// falling weights from `0.5` (with four protocols known), then `*/*`.
///
/// ```
/// use prometheus_client::pull::{accept_header, ScrapeProtocol};
/// assert_eq!(
///     accept_header(&[ScrapeProtocol::OpenMetricsText1_0_0, ScrapeProtocol::PrometheusText0_0_4]),
///     "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3"
/// );
/// ```
pub fn accept_header(protocols: &[ScrapeProtocol]) -> String {
    // Prometheus weighs from the number of protocols it knows (four) plus one.
    let mut weight = 5;
    let mut ranges: Vec<String> = Vec::with_capacity(protocols.len() + 1);
    for protocol in protocols {
        ranges.push(format!("{};q=0.{weight}", protocol.media_range()));
        weight -= 1;
    }
    ranges.push(format!("*/*;q=0.{weight}"));
    ranges.join(",")
}
