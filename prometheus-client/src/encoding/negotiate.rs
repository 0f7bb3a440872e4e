//! Choosing the exposition format from an HTTP `Accept` header.

use super::{Escaping, Format};

/// Picks the format to answer a request with `Accept: accept`, as client_golang's
/// `expfmt.NegotiateIncludingOpenMetrics` does.
///
/// Media ranges are tried in order of their `q` value (highest first, ties in header order);
/// the first that names `application/openmetrics-text` with no `version` or version `0.0.1`
/// or `1.0.0` gives OpenMetrics, the first that names `text/plain` with no version or version
/// `0.0.4` gives text. Ranges with `q=0` are refused. Anything else, wildcards included,
/// falls back to text 0.0.4, which every Prometheus reads.
///
/// ```
/// use prometheus_client::encoding::{negotiate, Format};
///
/// // The header Prometheus 2.x sends.
/// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
///     version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
/// assert_eq!(negotiate(prometheus), Format::OpenMetrics);
/// assert_eq!(negotiate("text/plain"), Format::Text);
/// assert_eq!(negotiate("*/*"), Format::Text);
/// assert_eq!(negotiate(""), Format::Text);
/// ```
pub fn negotiate(accept: &str) -> Format {
    negotiate_with_escaping(accept).0
}

/// [`negotiate`], and how names outside the classic character set are to be written: the
/// `escaping` parameter (`allow-utf-8`, `underscores`, `dots`, `values`) of the chosen
/// media range or of one tried before it, as client_golang's `NegotiateAccept` reads it;
/// [`Escaping::Underscores`] when none says.
///
/// ```
/// use prometheus_client::encoding::{negotiate_with_escaping, Escaping, Format};
///
/// // Prometheus 3's default.
/// let prometheus3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
///     text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// assert_eq!(negotiate_with_escaping(prometheus3), (Format::OpenMetrics, Escaping::AllowUtf8));
/// assert_eq!(negotiate_with_escaping("text/plain"), (Format::Text, Escaping::Underscores));
/// ```
pub fn negotiate_with_escaping(accept: &str) -> (Format, Escaping) {
    let mut ranges: Vec<(f32, usize, MediaRange)> = accept
        .split(',')
        .enumerate()
        .filter_map(|(position, range)| {
            let range = media_range(range)?;
            (range.quality > 0.0).then_some((range.quality, position, range))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut escaping = Escaping::default();
    for (_, _, range) in ranges {
        escaping = range.escaping.unwrap_or(escaping);
        if let Some(format) = range.format {
            return (format, escaping);
        }
    }
    (Format::Text, escaping)
}

/// One media range of an `Accept` header, read.
struct MediaRange {
    quality: f32,
    /// The format it asks for, if one of ours.
    format: Option<Format>,
    /// Its `escaping` parameter, if it names a scheme.
    escaping: Option<Escaping>,
}

/// Reads one media range.
fn media_range(range: &str) -> Option<MediaRange> {
    let mut parts = range.split(';').map(str::trim);
    let media_type = parts.next().filter(|t| !t.is_empty())?;
    let mut version = None;
    let mut proto = None;
    let mut encoding = None;
    let mut escaping = None;
    let mut quality = 1.0f32;
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "version" => version = Some(value),
            "proto" => proto = Some(value),
            "encoding" => encoding = Some(value),
            "escaping" => escaping = value.parse().ok(),
            "q" => {
                quality = value
                    .parse()
                    .ok()
                    .filter(|q: &f32| (0.0..=1.0).contains(q))?
            }
            _ => {}
        }
    }
    let format = if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
        matches!(version, None | Some("0.0.1" | "1.0.0")).then_some(Format::OpenMetrics)
    } else if media_type.eq_ignore_ascii_case("text/plain") {
        matches!(version, None | Some("0.0.4")).then_some(Format::Text)
    } else if media_type.eq_ignore_ascii_case("application/vnd.google.protobuf") {
        protobuf_format(proto, encoding)
    } else {
        None
    };
    Some(MediaRange {
        quality,
        format,
        escaping,
    })
}

/// The protobuf format, for `proto=io.prometheus.client.MetricFamily; encoding=delimited`
/// where the feature is on (client_golang's other encodings, text and compact-text protobuf,
/// are debugging aids no scraper asks for).
#[cfg(feature = "protobuf")]
fn protobuf_format(proto: Option<&str>, encoding: Option<&str>) -> Option<Format> {
    (proto == Some("io.prometheus.client.MetricFamily") && encoding == Some("delimited"))
        .then_some(Format::Protobuf)
}

#[cfg(not(feature = "protobuf"))]
fn protobuf_format(_: Option<&str>, _: Option<&str>) -> Option<Format> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_headers_of_real_scrapers() {
        let table: &[(&str, Format)] = &[
            // Prometheus 3.x default scrape protocols.
            (
                "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
                 application/openmetrics-text;version=0.0.1;q=0.4,\
                 text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,\
                 text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
                Format::OpenMetrics,
            ),
            // Prometheus 3.x with only the text protocol configured.
            ("text/plain;version=0.0.4;q=0.2,*/*;q=0.1", Format::Text),
            // A scraper asking for text 1.0.0 only: not ours, so the fallback.
            (
                "text/plain;version=1.0.0;escaping=allow-utf-8",
                Format::Text,
            ),
            // Quality decides, not order.
            (
                "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=1",
                Format::OpenMetrics,
            ),
            (
                "application/openmetrics-text; version=1.0.0; q=0",
                Format::Text,
            ),
            ("APPLICATION/OpenMetrics-Text", Format::OpenMetrics),
            ("application/openmetrics-text;version=2.0.0", Format::Text),
            ("application/json", Format::Text),
            ("garbage;;;q=zz,,", Format::Text),
        ];
        for (header, want) in table {
            assert_eq!(negotiate(header), *want, "Accept: {header}");
        }
    }

    #[test]
    fn escaping_comes_from_the_chosen_range_or_one_before_it() {
        let table: &[(&str, Escaping)] = &[
            ("text/plain;escaping=dots", Escaping::Dots),
            ("text/plain;escaping=values", Escaping::Values),
            ("text/plain;escaping=bogus", Escaping::Underscores),
            (
                "application/json;escaping=allow-utf-8;q=0.9,text/plain;q=0.5",
                Escaping::AllowUtf8,
            ),
            // Ranges after the chosen one do not count.
            (
                "text/plain;q=0.9,application/openmetrics-text;escaping=dots;q=0.5",
                Escaping::Underscores,
            ),
            ("", Escaping::Underscores),
        ];
        for (header, want) in table {
            assert_eq!(negotiate_with_escaping(header).1, *want, "Accept: {header}");
        }
    }

    #[test]
    fn protobuf_when_asked_first_and_built_in() {
        // Prometheus with `--enable-feature=native-histograms`.
        let header = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
                      encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,\
                      text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        #[cfg(feature = "protobuf")]
        assert_eq!(negotiate(header), Format::Protobuf);
        #[cfg(not(feature = "protobuf"))]
        assert_eq!(negotiate(header), Format::OpenMetrics);
        let other_encoding = "application/vnd.google.protobuf;\
                              proto=io.prometheus.client.MetricFamily;encoding=text";
        assert_eq!(negotiate(other_encoding), Format::Text);
    }
}
