//! The messages of Prometheus' remote write 1.0 (`prompb/remote.proto` and `types.proto`),
//! the parts a sender of float samples fills in, and the body they travel as.

use prost::Message;

use crate::pull::storage::SeriesLabels;

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub(crate) timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: labels sorted by name, samples in time order.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub(crate) labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Label {
    #[prost(string, tag = "1")]
    pub(crate) name: String,
    #[prost(string, tag = "2")]
    pub(crate) value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, Copy, PartialEq, Message)]
pub(crate) struct Sample {
    #[prost(double, tag = "1")]
    pub(crate) value: f64,
    #[prost(int64, tag = "2")]
    pub(crate) timestamp: i64,
}

/// The body of one send: the samples as a `WriteRequest`, consecutive samples of one series
/// in one `TimeSeries`, compressed with snappy's block format (not its framing), as remote
/// write 1.0 asks.
pub(crate) fn body(samples: &[(SeriesLabels, i64, f64)]) -> Result<Vec<u8>, snap::Error> {
    let mut request = WriteRequest::default();
    for (labels, t, v) in samples {
        let sample = Sample {
            value: *v,
            timestamp: *t,
        };
        match request.timeseries.last_mut() {
            Some(last) if same_labels(&last.labels, labels) => last.samples.push(sample),
            _ => request.timeseries.push(TimeSeries {
                labels: labels
                    .iter()
                    .map(|(name, value)| Label {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
                samples: vec![sample],
            }),
        }
    }
    // Fails only past snappy's block limit (about 4 GiB of protobuf).
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec())
}

fn same_labels(sent: &[Label], labels: &SeriesLabels) -> bool {
    sent.len() == labels.len()
        && sent
            .iter()
            .zip(labels.iter())
            .all(|(a, (name, value))| a.name == *name && a.value == *value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pull::storage::series_labels;

    #[test]
    fn a_body_decompresses_to_the_series_and_samples_sent() {
        let up = series_labels(vec![
            ("__name__".into(), "up".into()),
            ("job".into(), "a".into()),
        ]);
        let other = series_labels(vec![("__name__".into(), "x".into())]);
        let body = body(&[
            (up.clone(), 1000, 1.0),
            (up.clone(), 2000, 0.0),
            (other, 2000, f64::from_bits(crate::pull::STALE_NAN)),
            (up, 3000, 1.0),
        ])
        .expect("compresses");
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&body)
            .expect("snappy");
        let request = WriteRequest::decode(raw.as_slice()).expect("protobuf");
        let shape: Vec<(String, usize)> = request
            .timeseries
            .iter()
            .map(|ts| (ts.labels[0].value.clone(), ts.samples.len()))
            .collect();
        assert_eq!(shape, [("up".into(), 2), ("x".into(), 1), ("up".into(), 1)]);
        assert_eq!(request.timeseries[0].labels[1].name, "job");
        assert_eq!(
            request.timeseries[1].samples[0].value.to_bits(),
            crate::pull::STALE_NAN,
            "the stale marker travels bit for bit"
        );
        assert_eq!(request.timeseries[0].samples[1].timestamp, 2000);
    }
}
